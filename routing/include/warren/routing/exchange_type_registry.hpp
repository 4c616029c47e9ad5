#pragma once
// Exchange types registered by name ("direct", "fanout", "topic", "headers"),
// so a new type is one file plus one registration.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "warren/routing/binding_table.hpp"

namespace warren::routing {

class ExchangeTypeRegistry {
 public:
  using Factory = std::function<std::unique_ptr<BindingTable>()>;

  void add(std::string name, Factory factory);
  bool contains(std::string_view name) const;
  // Returns null for an unknown type name.
  std::unique_ptr<BindingTable> create(std::string_view name) const;

  // The registry with the built-in types: direct, fanout, topic, headers.
  static const ExchangeTypeRegistry& builtin();

 private:
  std::map<std::string, Factory, std::less<>> factories_;
};

}  // namespace warren::routing
