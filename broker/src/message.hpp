#pragma once
// A published message as the broker holds it. The content header's property
// bytes are kept exactly as received and forwarded untouched; they are only
// decoded when something must look inside (headers routing).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "warren/protocol/codec.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::broker {

// Bytes held by all live messages (bodies and properties), for the memory
// alarm. Updated on the broker thread only.
std::uint64_t message_bytes_in_use();

struct Message {
  Message() = default;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();
  // Counts the message against the memory in use; call once it is complete.
  void account();

  std::string exchange;
  std::string routing_key;
  protocol::Bytes properties;  // property flags + list, as in the content header
  protocol::Bytes body;
  std::uint64_t body_size = 0;  // declared size; body.size() once complete
  std::int64_t ttl_ms = -1;     // from the expiration property; -1 when none
  std::uint8_t priority = 0;    // the priority property (priority queues)
  bool persistent = false;      // delivery-mode 2: stored when its queue is durable

 private:
  std::uint64_t accounted_ = 0;
};

// The delivery-mode property (0 when absent), read without decoding the
// rest of the properties.
std::uint8_t delivery_mode_of(const protocol::Bytes& properties);

// One message may sit in several queues at once (fanout), so it is shared.
using MessagePtr = std::shared_ptr<const Message>;

// The expiration property as a TTL in ms: 1 to 18 digits, else nothing.
std::optional<std::int64_t> parse_expiration(std::string_view text);

// A copy of `message` (exchange, routing key, body, priority, persistence)
// carrying `properties` instead of its own; its TTL follows their
// expiration. Accounted; the caller may change exchange and routing key and
// account() again.
std::shared_ptr<Message> copy_with_properties(const Message& message,
                                              const protocol::BasicProperties& properties);

}  // namespace warren::broker
