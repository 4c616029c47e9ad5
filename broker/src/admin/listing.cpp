#include "admin/listing.hpp"

#include <algorithm>
#include <boost/regex.hpp>
#include <optional>

namespace warren::admin {

namespace {

constexpr std::int64_t kMaxPageSize = 500;

const json* lookup_path(const json& item, const std::string& path) {
  const json* node = &item;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('.', start);
    if (end == std::string::npos) end = path.size();
    if (!node->is_object()) return nullptr;
    auto it = node->find(path.substr(start, end - start));
    if (it == node->end()) return nullptr;
    node = &*it;
    start = end + 1;
  }
  return node;
}

void set_path(json& out, const std::string& path, const json& value) {
  json* node = &out;
  std::size_t start = 0;
  for (;;) {
    auto end = path.find('.', start);
    if (end == std::string::npos) {
      (*node)[path.substr(start)] = value;
      return;
    }
    node = &(*node)[path.substr(start, end - start)];
    start = end + 1;
  }
}

// Missing < numbers < strings < everything else (by dump).
bool less_value(const json* a, const json* b) {
  auto rank = [](const json* v) {
    if (v == nullptr || v->is_null()) return 0;
    if (v->is_number() || v->is_boolean()) return 1;
    if (v->is_string()) return 2;
    return 3;
  };
  const int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb;
  if (ra == 1) {
    const double da = a->is_boolean() ? a->get<bool>() : a->get<double>();
    const double db = b->is_boolean() ? b->get<bool>() : b->get<double>();
    return da < db;
  }
  if (ra == 2) return a->get_ref<const std::string&>() < b->get_ref<const std::string&>();
  if (ra == 3) return a->dump() < b->dump();
  return false;
}

std::vector<std::string> split_columns(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::int64_t parse_positive(const std::string& text, bool* ok) {
  std::int64_t v = 0;
  *ok = !text.empty() && text.size() < 12;
  for (char c : text) {
    if (c < '0' || c > '9') *ok = false;
    v = v * 10 + (c - '0');
  }
  return *ok ? v : 0;
}

bool truthy(const std::string& v) {
  return v == "true" || v == "1";
}

}  // namespace

bool passes_name_filter(const Request& request, const std::string& name) {
  auto it = request.query.find("name");
  if (it == request.query.end() || it->second.empty() || !request.query.contains("page")) {
    return true;
  }
  if (!truthy(request.query_or("use_regex"))) return name.find(it->second) != std::string::npos;
  // Compiled once per pattern (handlers call this per object), per thread:
  // listings filter on the broker thread and on the finishing thread.
  thread_local std::string cached_pattern;
  thread_local std::optional<boost::regex> cached;
  if (!cached || cached_pattern != it->second) {
    try {
      cached.emplace(it->second);
      cached_pattern = it->second;
    } catch (const boost::regex_error&) {
      cached.reset();
      throw bad_request("Pagination parameters are invalid");
    }
  }
  return boost::regex_search(name, *cached);
}

Paging parse_paging(const Request& request) {
  Paging p;
  p.paged = request.query.contains("page");
  if (!p.paged) return p;
  bool ok = true;
  p.page = parse_positive(request.query_or("page"), &ok);
  bool size_ok = true;
  if (request.query.contains("page_size")) {
    p.page_size = parse_positive(request.query_or("page_size"), &size_ok);
  }
  if (!ok || !size_ok || p.page < 1 || p.page_size < 1 || p.page_size > kMaxPageSize) {
    throw ApiError{400, "invalid_pagination_parameters",
                   "Invalid pagination parameters: page number " + request.query_or("page") +
                       ", page size " + request.query_or("page_size", "undefined")};
  }
  return p;
}

std::pair<std::size_t, std::size_t> page_range(const Paging& p, std::size_t filtered) {
  if (!p.paged) return {0, filtered};
  const auto size = static_cast<std::size_t>(p.page_size);
  const auto page_count = static_cast<std::int64_t>((filtered + size - 1) / size);
  if (p.page > std::max<std::int64_t>(page_count, 1)) {
    throw ApiError{400, "page_out_of_range",
                   "Page out of range, page: " + std::to_string(p.page) + " page size: " +
                       std::to_string(p.page_size) + ", len: " + std::to_string(filtered)};
  }
  const std::size_t first = static_cast<std::size_t>(p.page - 1) * size;
  return {first, std::min(filtered, first + size)};
}

bool wants_column(const Request& request, std::string_view top) {
  const std::string columns = request.query_or("columns");
  if (columns.empty()) return true;
  for (const std::string& c : split_columns(columns)) {
    if (c == top || (c.size() > top.size() && c.starts_with(top) && c[top.size()] == '.')) {
      return true;
    }
  }
  return false;
}

Response finish_list(const Request& request, std::vector<json> items, const Paging& paging,
                     std::size_t total, std::size_t filtered) {
  const std::vector<std::string> columns = split_columns(request.query_or("columns"));
  json array = json::array();
  for (json& item : items) {
    if (columns.empty()) {
      array.push_back(std::move(item));
      continue;
    }
    json kept = json::object();
    for (const std::string& column : columns) {
      if (const json* v = lookup_path(item, column)) set_path(kept, column, *v);
    }
    array.push_back(std::move(kept));
  }
  if (!paging.paged) return json_response(array);
  const auto size = static_cast<std::size_t>(paging.page_size);
  json body = json::object();
  body["filtered_count"] = filtered;
  body["item_count"] = array.size();
  body["items"] = std::move(array);
  body["page"] = paging.page;
  body["page_count"] = (filtered + size - 1) / size;
  body["page_size"] = paging.page_size;
  body["total_count"] = total;
  return json_response(body);
}

Request query_only(const Request& request) {
  Request copy;
  copy.query = request.query;
  return copy;
}

Response sort_and_finish(const Request& request, std::vector<json> items, const Paging& paging,
                         std::size_t total) {
  const std::string sort = request.query_or("sort");
  if (!sort.empty()) {
    std::stable_sort(items.begin(), items.end(), [&](const json& a, const json& b) {
      return less_value(lookup_path(a, sort), lookup_path(b, sort));
    });
  }
  if (truthy(request.query_or("sort_reverse"))) std::reverse(items.begin(), items.end());
  const std::size_t filtered = items.size();
  auto [first, last] = page_range(paging, filtered);
  std::vector<json> slice(
      std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(first)),
      std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(last)));
  return finish_list(request, std::move(slice), paging, total, filtered);
}

Response filter_sort_and_finish(const Request& request, std::vector<json> items,
                                const Paging& paging) {
  const std::size_t total = items.size();
  // As RabbitMQ, the name filter applies to paged requests only.
  if (const std::string needle = request.query_or("name"); paging.paged && !needle.empty()) {
    std::erase_if(items, [&](const json& item) {
      const json* name = lookup_path(item, "name");
      return name == nullptr || !name->is_string() ||
             !passes_name_filter(request, name->get_ref<const std::string&>());
    });
  }
  return sort_and_finish(request, std::move(items), paging, total);
}

Response list_response(const Request& request, std::vector<json> items) {
  // Validate paging first, as RabbitMQ does (and here, so the error needs no hop).
  const Paging paging = parse_paging(request);
  return finish_elsewhere(
      [query = query_only(request), items = std::move(items), paging]() mutable {
        return filter_sort_and_finish(query, std::move(items), paging);
      });
}

}  // namespace warren::admin
