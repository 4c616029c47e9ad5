#pragma once
// RabbitMQ's listing parameters for every collection endpoint:
// name + use_regex (filter), sort + sort_reverse (a dotted field path),
// page + page_size (the paged shape {filtered_count, item_count, items,
// page, page_count, page_size, total_count}), columns (dotted paths kept).

#include <algorithm>
#include <functional>
#include <optional>
#include <vector>

#include "admin/api.hpp"

namespace warren::admin {

// `items` are the full objects, in the order to use without `sort`.
Response list_response(const Request& request, std::vector<json> items);

// Whether `name` passes the request's name filter (cheap pre-filter, so
// handlers can skip building objects that would be dropped).
bool passes_name_filter(const Request& request, const std::string& name);

// --- the pieces, for listings of many objects (list_rows).
struct Paging {
  bool paged = false;
  std::int64_t page = 1;
  std::int64_t page_size = 100;
};
// Throws 400 invalid_pagination_parameters.
Paging parse_paging(const Request& request);
// [first, last) of the page among `filtered` items; throws 400 page_out_of_range.
std::pair<std::size_t, std::size_t> page_range(const Paging& paging, std::size_t filtered);
// Whether `columns` (if given) asks for the top-level field `top` or something under it.
bool wants_column(const Request& request, std::string_view top);
// Applies `columns` to the page's items and wraps them (paged shape or a plain array).
Response finish_list(const Request& request, std::vector<json> items, const Paging& paging,
                     std::size_t total, std::size_t filtered);

// A listing that filters, sorts and pages rows (e.g. queue pointers) before
// building any JSON, so a page of 10,000 queues costs a page of objects.
// `name_of(row)` gives the name; `key_of(row, field)` the value of a sort
// field when it is cheap to get (nullopt: then every object is built and
// sorted as JSON, as list_response does); `build(row)` the object.
template <typename Row, typename NameOf, typename KeyOf, typename Build>
Response list_rows(const Request& request, std::vector<Row> rows, NameOf name_of, KeyOf key_of,
                   Build build) {
  const std::size_t total = rows.size();
  const Paging paging = parse_paging(request);
  if (paging.paged) {
    std::erase_if(rows, [&](const Row& row) { return !passes_name_filter(request, name_of(row)); });
  }
  const std::string sort = request.query_or("sort");
  if (!sort.empty()) {
    if (rows.empty() || !key_of(rows.front(), sort)) {
      std::vector<json> items;
      items.reserve(rows.size());
      for (const Row& row : rows)
        items.push_back(build(row));
      return list_response(request, std::move(items));
    }
    std::vector<std::pair<json, Row>> keyed;
    keyed.reserve(rows.size());
    for (Row& row : rows) {
      json key = *key_of(row, sort);
      keyed.emplace_back(std::move(key), std::move(row));
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    rows.clear();
    for (auto& [key, row] : keyed)
      rows.push_back(std::move(row));
  }
  if (request.query_or("sort_reverse") == "true") std::reverse(rows.begin(), rows.end());
  const std::size_t filtered = rows.size();
  auto [first, last] = page_range(paging, filtered);
  std::vector<json> items;
  items.reserve(last - first);
  for (std::size_t i = first; i < last; ++i)
    items.push_back(build(rows[i]));
  return finish_list(request, std::move(items), paging, total, filtered);
}

}  // namespace warren::admin
