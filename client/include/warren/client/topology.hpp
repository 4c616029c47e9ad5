#pragma once
// Typed declarations of exchanges, queues and bindings. The common queue
// arguments (dead-lettering, TTL, length limits, delivery limit, delayed
// retry, priorities) are fields, so nobody spells "x-dead-letter-exchange"
// by hand; anything else goes into `extra_arguments`.
//
// The specs have constructors (they are not aggregates) because GCC 12
// miscompiles aggregate temporaries inside co_await expressions, so
// `co_await c.declare_queue(QueueSpec("jobs"))` is safe where
// `co_await c.declare_queue({.name = "jobs"})` would not be.
//
// Declarations made through a Connection are recorded and re-declared, in
// order, after a reconnection (topology recovery); deletes remove them from
// the record.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "warren/protocol/field_table.hpp"

namespace warren::client {

struct ExchangeSpec {
  ExchangeSpec() = default;
  explicit ExchangeSpec(std::string name_, std::string type_ = "direct", bool durable_ = true)
      : name(std::move(name_)), type(std::move(type_)), durable(durable_) {}
  std::string name;
  std::string type = "direct";  // direct, fanout, topic, headers, x-...
  bool durable = true;
  bool auto_delete = false;
  bool internal = false;
  std::optional<std::string> alternate_exchange;
  protocol::FieldTable extra_arguments;

  protocol::FieldTable arguments() const;
};

enum class Overflow { kDropHead, kRejectPublish, kRejectPublishDlx };

// Server-side delayed retry (x-delayed-retry-*; RabbitMQ 4.3 semantics plus
// Warren's multiplier, see SEMANTICS.md): which returns wait, and how long.
struct RetryPolicy {
  enum class Type { kDisabled, kFailed, kReturned, kAll };
  Type type = Type::kFailed;
  std::chrono::milliseconds min{1000};
  std::optional<std::chrono::milliseconds> max;
  std::optional<double> multiplier;  // Warren only
};

struct QueueSpec {
  QueueSpec() = default;
  explicit QueueSpec(std::string name_, bool durable_ = true)
      : name(std::move(name_)), durable(durable_) {}
  std::string name;  // empty: the server picks one (re-picked after a reconnection)
  bool durable = true;
  bool exclusive = false;
  bool auto_delete = false;

  std::optional<std::string> dead_letter_exchange;  // "" = the default exchange
  std::optional<std::string> dead_letter_routing_key;
  std::optional<std::chrono::milliseconds> message_ttl;
  std::optional<std::chrono::milliseconds> expires;  // queue lease
  std::optional<std::int64_t> max_length;
  std::optional<std::int64_t> max_length_bytes;
  std::optional<Overflow> overflow;
  // Failed deliveries allowed before the message is dead-lettered
  // (reason delivery_limit). Needs Warren or RabbitMQ >= 4.3 for classic
  // queues: declare_queue throws Errc::kUnsupported elsewhere.
  std::optional<std::int64_t> delivery_limit;
  // Needs Warren or RabbitMQ >= 4.3 (declare_queue throws kUnsupported).
  std::optional<RetryPolicy> retry;
  std::optional<std::uint8_t> max_priority;
  bool single_active_consumer = false;
  protocol::FieldTable extra_arguments;

  protocol::FieldTable arguments() const;
};

struct QueueInfo {
  std::string name;
  std::uint32_t message_count = 0;
  std::uint32_t consumer_count = 0;
};

}  // namespace warren::client
