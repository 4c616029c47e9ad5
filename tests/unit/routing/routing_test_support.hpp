#pragma once
// Shorthands for the routing tests.

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "warren/protocol/field_table.hpp"
#include "warren/routing/binding_table.hpp"

namespace warren::routing::test {

using protocol::FieldTable;
using protocol::FieldValue;

inline Destination queue(std::uint64_t id) {
  return {DestinationKind::kQueue, id};
}
inline Destination exchange(std::uint64_t id) {
  return {DestinationKind::kExchange, id};
}

inline Binding binding(Destination destination, std::string key, FieldTable arguments = {}) {
  return Binding{destination, std::move(key), std::move(arguments)};
}

// All destinations the table yields, sorted (duplicates kept).
inline std::vector<Destination> routed(const BindingTable& table, std::string_view key,
                                       const FieldTable* headers = nullptr) {
  std::vector<Destination> out;
  table.route(key, headers, out);
  std::sort(out.begin(), out.end());
  return out;
}

// The same, deduplicated.
inline std::vector<Destination> routed_set(const BindingTable& table, std::string_view key,
                                           const FieldTable* headers = nullptr) {
  std::vector<Destination> out = routed(table, key, headers);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

inline std::vector<std::uint64_t> sorted(std::vector<std::uint64_t> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

inline FieldValue str(std::string s) {
  return FieldValue(std::move(s));
}

}  // namespace warren::routing::test

namespace warren::routing {
// For Catch's failure messages.
inline std::ostream& operator<<(std::ostream& os, const Destination& d) {
  return os << (d.kind == DestinationKind::kQueue ? "queue " : "exchange ") << d.id;
}
}  // namespace warren::routing
