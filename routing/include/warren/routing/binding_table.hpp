#pragma once
// The contract every exchange type implements: a table of bindings that,
// given a message's routing key and headers, names the destinations it
// reaches. Pure code: no I/O, no threads; the owner (a vhost) serialises calls.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "warren/protocol/field_table.hpp"

namespace warren::routing {

enum class DestinationKind : std::uint8_t { kQueue, kExchange };

// A binding's destination: a queue or an exchange, named by an id the broker
// assigns (ids are unique per kind within one vhost and never reused).
struct Destination {
  DestinationKind kind = DestinationKind::kQueue;
  std::uint64_t id = 0;
  friend auto operator<=>(const Destination&, const Destination&) = default;
};

// One binding as AMQP identifies it: destination, routing key and arguments.
struct Binding {
  Destination destination;
  std::string routing_key;
  protocol::FieldTable arguments;
};

class BindingTable {
 public:
  virtual ~BindingTable() = default;

  // Adds a binding. Returns false (and changes nothing) when an identical
  // binding (same destination, key and arguments) already exists.
  virtual bool bind(const Binding& binding) = 0;
  // Removes an identical binding. Returns false when there was none.
  virtual bool unbind(const Binding& binding) = 0;
  // Removes every binding to `destination` (the queue or exchange is gone).
  virtual void unbind_all(const Destination& destination) = 0;

  // Appends each destination the message reaches to `out`. A destination
  // may be appended more than once; callers dedupe. `headers` may be null.
  virtual void route(std::string_view routing_key, const protocol::FieldTable* headers,
                     std::vector<Destination>& out) const = 0;

  virtual std::size_t size() const = 0;
  // Visits every binding (order unspecified), for listings and export.
  virtual void for_each(const std::function<void(const Binding&)>& visit) const = 0;
};

}  // namespace warren::routing
