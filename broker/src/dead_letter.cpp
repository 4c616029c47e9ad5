#include "dead_letter.hpp"

#include <algorithm>
#include <chrono>

#include "sender_selected.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::broker {

using protocol::FieldArray;
using protocol::FieldTable;
using protocol::FieldValue;

namespace {

std::string string_field(const FieldTable& t, std::string_view name) {
  const FieldValue* v = protocol::find_field(t, name);
  return v != nullptr && v->as_string() != nullptr ? *v->as_string() : std::string();
}

}  // namespace

std::shared_ptr<Message> dead_lettered_copy(const Message& original, std::string_view queue,
                                            std::string_view reason, const std::string& dlx,
                                            const std::optional<std::string>& dlx_routing_key) {
  protocol::BasicProperties props;
  if (!protocol::decode_properties(original.properties, props)) return nullptr;
  FieldTable headers = props.headers.value_or(FieldTable{});

  FieldArray deaths;
  if (const FieldValue* existing = protocol::find_field(headers, "x-death")) {
    if (const FieldArray* a = existing->as_array()) deaths = *a;
  }
  const auto now =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  // As RabbitMQ 3.10: one entry per (queue, reason, exchange), newest first.
  // A repeat death bumps the old entry's count (its time is kept); once the
  // array has history, the entry written is sorted by key.
  FieldTable death;
  const bool had_history = !deaths.empty();
  for (auto it = deaths.begin(); it != deaths.end(); ++it) {
    const FieldTable* entry = it->as_table();
    if (entry != nullptr && string_field(*entry, "queue") == queue &&
        string_field(*entry, "reason") == reason &&
        string_field(*entry, "exchange") == original.exchange) {
      death = *entry;
      const FieldValue* c = protocol::find_field(death, "count");
      protocol::set_field(death, "count", std::int64_t{(c ? c->as_int().value_or(0) : 0) + 1});
      deaths.erase(it);
      break;
    }
  }
  if (death.empty()) {
    // The routing key and the CC keys (BCC never reaches a queue).
    FieldArray routing_keys{FieldValue(original.routing_key)};
    for (std::string& key : cc_keys(headers))
      routing_keys.emplace_back(std::move(key));
    death = FieldTable{
        {"count", std::int64_t{1}},      {"reason", std::string(reason)},
        {"queue", std::string(queue)},   {"time", protocol::Timestamp{now}},
        {"exchange", original.exchange}, {"routing-keys", routing_keys},
    };
    if (props.expiration) death.push_back({"original-expiration", *props.expiration});
  }
  props.expiration.reset();
  if (had_history) {
    std::stable_sort(death.begin(), death.end(),
                     [](const auto& a, const auto& b) { return a.name < b.name; });
  }
  deaths.insert(deaths.begin(), FieldValue(std::move(death)));
  protocol::set_field(headers, "x-death", std::move(deaths));
  if (protocol::find_field(headers, "x-first-death-reason") == nullptr) {
    protocol::set_field(headers, "x-first-death-exchange", original.exchange);
    protocol::set_field(headers, "x-first-death-queue", std::string(queue));
    protocol::set_field(headers, "x-first-death-reason", std::string(reason));
  }
  // As RabbitMQ 3.13+: the newest death, rewritten each time.
  protocol::set_field(headers, "x-last-death-exchange", original.exchange);
  protocol::set_field(headers, "x-last-death-queue", std::string(queue));
  protocol::set_field(headers, "x-last-death-reason", std::string(reason));
  props.headers = std::move(headers);

  auto copy = copy_with_properties(original, props);
  copy->exchange = dlx;
  copy->routing_key = dlx_routing_key.value_or(original.routing_key);
  copy->account();
  return copy;
}

bool dead_letter_cycle(const FieldTable* headers, std::string_view queue) {
  if (headers == nullptr) return false;
  const FieldValue* x_death = protocol::find_field(*headers, "x-death");
  const FieldArray* deaths = x_death != nullptr ? x_death->as_array() : nullptr;
  if (deaths == nullptr) return false;
  bool seen_queue = false;
  for (const FieldValue& d : *deaths) {
    const FieldTable* entry = d.as_table();
    if (entry == nullptr) continue;
    if (string_field(*entry, "reason") == "rejected") return false;
    if (string_field(*entry, "queue") == queue) seen_queue = true;
  }
  return seen_queue;
}

}  // namespace warren::broker
