#pragma once
// RabbitMQ's listing parameters for every collection endpoint:
// name + use_regex (filter), sort + sort_reverse (a dotted field path),
// page + page_size (the paged shape {filtered_count, item_count, items,
// page, page_count, page_size, total_count}), columns (dotted paths kept).

#include <vector>

#include "admin/api.hpp"

namespace warren::admin {

// `items` are the full objects, in the order to use without `sort`.
Response list_response(const Request& request, std::vector<json> items);

// Whether `name` passes the request's name filter (cheap pre-filter, so
// handlers can skip building objects that would be dropped).
bool passes_name_filter(const Request& request, const std::string& name);

}  // namespace warren::admin
