#pragma once
// The routing graph of one vhost: exchanges (by id) with their binding tables
// and alternate exchanges. route() follows exchange-to-exchange bindings and
// alternate exchanges and yields the set of queues a message reaches.
// Owned by the vhost; not thread-safe: calls that modify it need exclusive
// access. route() keeps its scratch space per thread, so distinct Routers
// can route on distinct threads at once, and so can concurrent route() calls
// on one Router that nothing modifies meanwhile.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "warren/routing/binding_table.hpp"

namespace warren::routing {

class Router {
 public:
  // Adds an exchange whose bindings live in `table`. `alternate` names the
  // alternate exchange's id, if any (it may not exist yet or any more).
  // An existing exchange of that id is replaced (its bindings are dropped).
  // Throws std::invalid_argument when `table` is null.
  void add_exchange(std::uint64_t exchange_id, std::unique_ptr<BindingTable> table,
                    std::optional<std::uint64_t> alternate = std::nullopt);
  // Changes or clears an exchange's alternate exchange (a policy may change
  // it at run time). Returns false when the exchange is unknown.
  bool set_alternate(std::uint64_t exchange_id, std::optional<std::uint64_t> alternate);
  // Marks an exchange as one that holds messages instead of routing them on
  // when it is reached from another exchange (an x-delayed-message exchange
  // and a message with a delay): route() reports it in `held_out`. Returns
  // false when the exchange is unknown.
  bool set_holding(std::uint64_t exchange_id, bool holds);
  // The exchange's alternate exchange id, if it is known and has one.
  std::optional<std::uint64_t> alternate(std::uint64_t exchange_id) const;
  bool contains(std::uint64_t exchange_id) const { return exchanges_.contains(exchange_id); }
  // Removes the exchange, its bindings, and every binding that points at it.
  void remove_exchange(std::uint64_t exchange_id);
  // Removes every binding that points at the queue.
  void remove_queue(std::uint64_t queue_id);

  // Null when the exchange is unknown.
  BindingTable* table(std::uint64_t exchange_id);
  const BindingTable* table(std::uint64_t exchange_id) const;

  // Routes from `exchange_id`. Each exchange is visited at most once (cycles
  // in exchange-to-exchange bindings are harmless). An exchange whose own
  // bindings match nothing passes the message to its alternate exchange, as
  // RabbitMQ does. Appends each queue id once to `queues_out` (cleared first).
  //
  // Precisely (rabbit_exchange:route/2): an exchange's own bindings "match"
  // when they yield any destination at all, even an exchange that is already
  // visited, unknown, or routes nowhere; only then is its alternate skipped.
  // An alternate exchange that is unknown is ignored. Queue order is the order
  // of discovery, which callers should not rely on. Allocation-free once the
  // thread's scratch space and `queues_out` have grown.
  //
  // With `held_out` (cleared first), a holding exchange reached through a
  // binding or as an alternate is not routed through but appended to it,
  // once; the origin exchange is always routed through.
  void route(std::uint64_t exchange_id, std::string_view routing_key,
             const protocol::FieldTable* headers, std::vector<std::uint64_t>& queues_out,
             std::vector<std::uint64_t>* held_out = nullptr) const;
  // The same for a message with several routing keys (the routing key plus
  // CC/BCC headers): each exchange matches every key before deciding whether
  // to use its alternate, as RabbitMQ does, and downstream exchanges see all
  // the keys. No keys reach nothing.
  void route(std::uint64_t exchange_id, std::span<const std::string_view> routing_keys,
             const protocol::FieldTable* headers, std::vector<std::uint64_t>& queues_out,
             std::vector<std::uint64_t>* held_out = nullptr) const;

 private:
  struct Entry {
    std::unique_ptr<BindingTable> table;
    std::optional<std::uint64_t> alternate;
    bool holds = false;
  };
  std::unordered_map<std::uint64_t, Entry> exchanges_;
};

}  // namespace warren::routing
