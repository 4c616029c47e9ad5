#pragma once
// RabbitMQ's listing parameters for every collection endpoint:
// name + use_regex (filter), sort + sort_reverse (a dotted field path),
// page + page_size (the paged shape {filtered_count, item_count, items,
// page, page_count, page_size, total_count}), columns (dotted paths kept).

#include <algorithm>
#include <functional>
#include <optional>
#include <type_traits>
#include <vector>

#include "admin/api.hpp"

namespace warren::admin {

// `items` are the full objects, in the order to use without `sort`. Only
// the paging parameters are checked here; filtering, sorting, paging and
// serialising happen off the broker thread (Response::finish_elsewhere).
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
// Sorts `items` by the request's sort field (as JSON values), pages them and
// finishes the list; `total` is the count before the name filter.
Response sort_and_finish(const Request& request, std::vector<json> items, const Paging& paging,
                         std::size_t total);
// The name filter (paged requests only, as RabbitMQ), then sort_and_finish.
Response filter_sort_and_finish(const Request& request, std::vector<json> items,
                                const Paging& paging);
// The part of a request a listing finished elsewhere needs: its query.
Request query_only(const Request& request);

// A listing of many objects (queues): filters, sorts and pages rows (e.g.
// queue pointers) on the broker thread, copies what the page shows with
// `capture(row)` (a plain value, no pointers into broker state), and builds
// the JSON with `format(view)` off the broker thread. `name_of(row)` gives
// the name; `key_of(row, field)` the value of a sort field when it is cheap
// to get (nullopt: then every row is captured and sorted as JSON, elsewhere).
template <typename Row, typename NameOf, typename KeyOf, typename Capture, typename Format>
Response list_rows(const Request& request, std::vector<Row> rows, NameOf name_of, KeyOf key_of,
                   Capture capture, Format format) {
  using View = std::decay_t<std::invoke_result_t<Capture&, const Row&>>;
  const std::size_t total = rows.size();
  const Paging paging = parse_paging(request);
  if (paging.paged) {
    std::erase_if(rows, [&](const Row& row) { return !passes_name_filter(request, name_of(row)); });
  }
  const std::string sort = request.query_or("sort");
  if (!sort.empty() && !rows.empty() && !key_of(rows.front(), sort)) {
    std::vector<View> views;
    views.reserve(rows.size());
    for (const Row& row : rows)
      views.push_back(capture(row));
    return finish_elsewhere(
        [query = query_only(request), views = std::move(views), paging, total, format]() {
          std::vector<json> items;
          items.reserve(views.size());
          for (const View& view : views)
            items.push_back(format(view));
          return sort_and_finish(query, std::move(items), paging, total);
        });
  }
  if (!sort.empty()) {
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
  const std::string reverse = request.query_or("sort_reverse");
  if (reverse == "true" || reverse == "1") std::reverse(rows.begin(), rows.end());
  const std::size_t filtered = rows.size();
  auto [first, last] = page_range(paging, filtered);
  std::vector<View> views;
  views.reserve(last - first);
  for (std::size_t i = first; i < last; ++i)
    views.push_back(capture(rows[i]));
  return finish_elsewhere(
      [query = query_only(request), views = std::move(views), paging, total, filtered, format]() {
        std::vector<json> items;
        items.reserve(views.size());
        for (const View& view : views)
          items.push_back(format(view));
        return finish_list(query, std::move(items), paging, total, filtered);
      });
}

}  // namespace warren::admin
