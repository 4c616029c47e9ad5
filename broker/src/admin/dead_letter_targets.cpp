#include "admin/dead_letter_targets.hpp"

#include <algorithm>
#include <optional>

#include "queue.hpp"
#include "vhost.hpp"
#include "warren/protocol/field_table.hpp"

namespace warren::admin {

namespace {

struct Spec {
  std::string source;  // the queue that dead-letters
  std::optional<std::string> routing_key;
};

}  // namespace

DeadLetterTargets dead_letter_targets(const broker::VHost& vhost) {
  std::map<std::string, std::vector<Spec>> by_exchange;
  for (const auto& [name, queue] : vhost.queues()) {
    const auto& args = queue->options().arguments;
    const auto* dlx = protocol::find_field(args, "x-dead-letter-exchange");
    if (dlx == nullptr || dlx->as_string() == nullptr) continue;
    Spec spec{name, std::nullopt};
    if (const auto* key = protocol::find_field(args, "x-dead-letter-routing-key")) {
      if (key->as_string() != nullptr) spec.routing_key = *key->as_string();
    }
    by_exchange[*dlx->as_string()].push_back(std::move(spec));
  }
  DeadLetterTargets out;
  for (const auto& [exchange_name, specs] : by_exchange) {
    const broker::Exchange* exchange = vhost.find_exchange(exchange_name);
    if (exchange == nullptr) continue;
    if (exchange_name.empty()) {  // the default exchange: the key names the queue
      for (const Spec& spec : specs) {
        if (spec.routing_key && vhost.queues().contains(*spec.routing_key)) {
          out.sources[*spec.routing_key].push_back(spec.source);
        }
      }
      continue;
    }
    const auto* table = vhost.router().table(exchange->id);
    if (table == nullptr) continue;
    const bool direct = exchange->type == "direct";
    table->for_each([&](const routing::Binding& b) {
      if (b.destination.kind != routing::DestinationKind::kQueue) return;
      const broker::Queue* target = vhost.queue_by_id(b.destination.id);
      if (target == nullptr) return;
      for (const Spec& spec : specs) {
        if (direct && spec.routing_key && b.routing_key != *spec.routing_key) continue;
        out.sources[target->name()].push_back(spec.source);
      }
    });
  }
  for (auto& [target, sources] : out.sources) {
    std::sort(sources.begin(), sources.end());
    sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
  }
  return out;
}

}  // namespace warren::admin
