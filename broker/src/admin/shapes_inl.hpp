#pragma once
// for_each_binding, kept out of shapes.hpp's contract.

#include "vhost.hpp"

namespace warren::admin {

template <typename F>
void for_each_binding(const broker::VHost& vhost, F&& visit) {
  for (const auto& [name, exchange] : vhost.exchanges()) {
    const auto* table = vhost.router().table(exchange.id);
    if (table == nullptr) continue;
    table->for_each([&](const routing::Binding& b) {
      BindingView view;
      view.source = exchange.name;
      view.routing_key = b.routing_key;
      view.arguments = &b.arguments;
      if (b.destination.kind == routing::DestinationKind::kQueue) {
        const broker::Queue* q = vhost.queue_by_id(b.destination.id);
        if (q == nullptr) return;
        view.destination = q->name();
      } else {
        const std::string* dest = vhost.exchange_name(b.destination.id);
        if (dest == nullptr) return;
        view.destination = *dest;
        view.to_exchange = true;
      }
      visit(view);
    });
  }
}

}  // namespace warren::admin
