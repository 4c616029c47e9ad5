#include "warren/routing/router.hpp"

#include <optional>
#include <stdexcept>
#include <utility>

#include "scratch_map.hpp"

namespace warren::routing {
namespace {

// Exchanges waiting to be routed through, as copies of what route() needs.
struct PendingExchange {
  const BindingTable* table;
  std::optional<std::uint64_t> alternate;
};

// Per-thread working space of route(), kept between calls so that the
// steady state allocates nothing.
struct RouteScratch {
  bool in_use = false;  // a table that routes through the router re-enters
  std::vector<PendingExchange> pending;
  std::vector<Destination> destinations;
  std::vector<std::uint64_t> visited_exchanges;
  detail::IdDeduper exchange_dedup;
  detail::IdDeduper queue_dedup;
};

}  // namespace

void Router::add_exchange(std::uint64_t exchange_id, std::unique_ptr<BindingTable> table,
                          std::optional<std::uint64_t> alternate) {
  if (!table) throw std::invalid_argument("Router::add_exchange: null binding table");
  exchanges_.insert_or_assign(exchange_id, Entry{std::move(table), alternate});
}

bool Router::set_holding(std::uint64_t exchange_id, bool holds) {
  auto it = exchanges_.find(exchange_id);
  if (it == exchanges_.end()) return false;
  it->second.holds = holds;
  return true;
}

bool Router::set_alternate(std::uint64_t exchange_id, std::optional<std::uint64_t> alternate) {
  auto it = exchanges_.find(exchange_id);
  if (it == exchanges_.end()) return false;
  it->second.alternate = alternate;
  return true;
}

std::optional<std::uint64_t> Router::alternate(std::uint64_t exchange_id) const {
  auto it = exchanges_.find(exchange_id);
  if (it == exchanges_.end()) return std::nullopt;
  return it->second.alternate;
}

void Router::remove_exchange(std::uint64_t exchange_id) {
  exchanges_.erase(exchange_id);
  const Destination gone{DestinationKind::kExchange, exchange_id};
  for (auto& [id, entry] : exchanges_)
    entry.table->unbind_all(gone);
}

void Router::remove_queue(std::uint64_t queue_id) {
  const Destination gone{DestinationKind::kQueue, queue_id};
  for (auto& [id, entry] : exchanges_)
    entry.table->unbind_all(gone);
}

BindingTable* Router::table(std::uint64_t exchange_id) {
  auto it = exchanges_.find(exchange_id);
  return it == exchanges_.end() ? nullptr : it->second.table.get();
}

const BindingTable* Router::table(std::uint64_t exchange_id) const {
  auto it = exchanges_.find(exchange_id);
  return it == exchanges_.end() ? nullptr : it->second.table.get();
}

void Router::route(std::uint64_t exchange_id, std::string_view routing_key,
                   const protocol::FieldTable* headers, std::vector<std::uint64_t>& queues_out,
                   std::vector<std::uint64_t>* held_out) const {
  route(exchange_id, std::span<const std::string_view>(&routing_key, 1), headers, queues_out,
        held_out);
}

void Router::route(std::uint64_t exchange_id, std::span<const std::string_view> routing_keys,
                   const protocol::FieldTable* headers, std::vector<std::uint64_t>& queues_out,
                   std::vector<std::uint64_t>* held_out) const {
  queues_out.clear();
  if (held_out != nullptr) held_out->clear();
  if (routing_keys.empty()) return;
  auto origin = exchanges_.find(exchange_id);
  if (origin == exchanges_.end()) return;

  thread_local RouteScratch shared;
  std::optional<RouteScratch> reentrant;
  RouteScratch& s = shared.in_use ? reentrant.emplace() : shared;
  struct InUse {
    RouteScratch& scratch;
    explicit InUse(RouteScratch& s) : scratch(s) { scratch.in_use = true; }
    ~InUse() { scratch.in_use = false; }
  } in_use(s);
  s.pending.clear();
  s.visited_exchanges.clear();
  s.exchange_dedup.reset();
  s.queue_dedup.reset();

  // Marks an exchange visited and, if it exists, queues it for routing.
  auto visit = [&](std::uint64_t id) {
    if (!s.exchange_dedup.add(s.visited_exchanges, id)) return;
    auto it = exchanges_.find(id);
    if (it == exchanges_.end()) return;
    if (held_out != nullptr && it->second.holds) {
      held_out->push_back(id);
      return;
    }
    s.pending.push_back({it->second.table.get(), it->second.alternate});
  };
  s.exchange_dedup.add(s.visited_exchanges, exchange_id);
  s.pending.push_back({origin->second.table.get(), origin->second.alternate});

  while (!s.pending.empty()) {
    const PendingExchange exchange = s.pending.back();
    s.pending.pop_back();
    s.destinations.clear();
    for (std::string_view key : routing_keys) {
      exchange.table->route(key, headers, s.destinations);
    }
    if (s.destinations.empty()) {
      if (exchange.alternate) visit(*exchange.alternate);
      continue;
    }
    for (const Destination& destination : s.destinations) {
      if (destination.kind == DestinationKind::kQueue) {
        s.queue_dedup.add(queues_out, destination.id);
      } else {
        visit(destination.id);
      }
    }
  }
}

}  // namespace warren::routing
