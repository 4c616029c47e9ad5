#pragma once
// Durable definitions as MetadataStore records: exchanges, queues and
// bindings. Keys and values are length-prefixed AMQP fields (shortstr,
// field table), so names may hold any byte and no separator can collide.
//   exchange: key = vhost, name;  value = type, flags, arguments
//   queue:    key = vhost, name;  value = queue id, flags, arguments
//   binding:  key = vhost, source, destination kind, destination, routing
//             key, arguments (the binding's identity); value empty
// Vhosts, users and permissions are recorded by the Broker (broker.cpp).

#include <cstdint>
#include <optional>
#include <string>

#include "warren/protocol/field_table.hpp"
#include "warren/routing/binding_table.hpp"

namespace warren::broker {

struct ExchangeRecord {
  std::string vhost;
  std::string name;
  std::string type;
  bool auto_delete = false;
  bool internal = false;
  protocol::FieldTable arguments;
};

struct QueueRecord {
  std::string vhost;
  std::string name;
  std::uint64_t id = 0;
  bool auto_delete = false;
  protocol::FieldTable arguments;
};

struct BindingRecord {
  std::string vhost;
  std::string source;
  routing::DestinationKind kind = routing::DestinationKind::kQueue;
  std::string destination;
  std::string routing_key;
  protocol::FieldTable arguments;
};

std::string name_key(const std::string& vhost, const std::string& name);

std::string encode_exchange_value(const ExchangeRecord& record);
std::optional<ExchangeRecord> decode_exchange(const std::string& key, const std::string& value);

std::string encode_queue_value(const QueueRecord& record);
std::optional<QueueRecord> decode_queue(const std::string& key, const std::string& value);

std::string binding_key(const BindingRecord& record);
std::optional<BindingRecord> decode_binding(const std::string& key);

}  // namespace warren::broker
