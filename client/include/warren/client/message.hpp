#pragma once
// Messages going out (Message) and coming in (Delivery, Returned).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warren/protocol/field_table.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::client {

using protocol::BasicProperties;
using protocol::FieldTable;
using protocol::FieldValue;

// A message to publish: a body and its AMQP properties. Transient by
// default; persistent() sets delivery-mode 2 (the queue must be durable for
// that to matter).
struct Message {
  std::string body;
  BasicProperties properties;

  Message() = default;
  explicit Message(std::string b) : body(std::move(b)) {}

  Message& persistent(bool on = true) {
    properties.delivery_mode = on ? 2 : 1;
    return *this;
  }
  Message& content_type(std::string v) {
    properties.content_type = std::move(v);
    return *this;
  }
  Message& message_id(std::string v) {
    properties.message_id = std::move(v);
    return *this;
  }
  Message& correlation_id(std::string v) {
    properties.correlation_id = std::move(v);
    return *this;
  }
  Message& reply_to(std::string v) {
    properties.reply_to = std::move(v);
    return *this;
  }
  Message& priority(std::uint8_t v) {
    properties.priority = v;
    return *this;
  }
  // Per-message TTL (the `expiration` property, in milliseconds).
  Message& ttl(std::chrono::milliseconds v) {
    properties.expiration = std::to_string(v.count());
    return *this;
  }
  Message& header(std::string_view name, FieldValue value);
};

// One entry of the x-death header (RabbitMQ's dead-letter history; newest
// first).
struct DeathRecord {
  std::string queue;
  std::string reason;  // rejected, expired, maxlen, delivery_limit
  std::int64_t count = 0;
  std::string exchange;
  std::vector<std::string> routing_keys;
  std::optional<std::uint64_t> time;  // seconds since the epoch
};

// A message delivered to a consumer (or fetched with get). Owned by the
// handler; copying it is fine.
struct Delivery {
  std::string body;
  BasicProperties properties;
  std::string exchange;
  std::string routing_key;
  std::string consumer_tag;
  std::uint64_t delivery_tag = 0;
  bool redelivered = false;
  // get only: messages left in the queue after this one.
  std::uint32_t message_count = 0;

  // x-delivery-count: failed delivery attempts so far (0 on a first delivery
  // and on servers that do not count, e.g. RabbitMQ 3.10 classic queues).
  std::int64_t delivery_count() const;
  // The parsed x-death header, empty when the message never died.
  std::vector<DeathRecord> deaths() const;
  const FieldValue* header(std::string_view name) const;
  std::string_view message_id() const {
    return properties.message_id ? std::string_view(*properties.message_id) : std::string_view();
  }
};

// A mandatory message the broker could not route (basic.return).
struct Returned {
  std::uint16_t reply_code = 0;  // 312 NO_ROUTE
  std::string reply_text;
  std::string exchange;
  std::string routing_key;
  std::string body;
  BasicProperties properties;
};

}  // namespace warren::client
