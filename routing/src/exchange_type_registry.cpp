#include "warren/routing/exchange_type_registry.hpp"

#include <utility>

#include "warren/routing/exchange_types.hpp"

namespace warren::routing {

void ExchangeTypeRegistry::add(std::string name, Factory factory) {
  factories_.insert_or_assign(std::move(name), std::move(factory));
}

bool ExchangeTypeRegistry::contains(std::string_view name) const {
  return factories_.find(name) != factories_.end();
}

std::unique_ptr<BindingTable> ExchangeTypeRegistry::create(std::string_view name) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) return nullptr;
  return it->second();
}

const ExchangeTypeRegistry& ExchangeTypeRegistry::builtin() {
  static const ExchangeTypeRegistry registry = [] {
    ExchangeTypeRegistry r;
    r.add("direct", make_direct_table);
    r.add("fanout", make_fanout_table);
    r.add("topic", make_topic_table);
    r.add("headers", make_headers_table);
    return r;
  }();
  return registry;
}

}  // namespace warren::routing
