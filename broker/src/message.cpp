#include "message.hpp"

namespace warren::broker {

namespace {
std::uint64_t g_message_bytes = 0;
}

std::uint64_t message_bytes_in_use() {
  return g_message_bytes;
}

void Message::account() {
  g_message_bytes -= accounted_;
  accounted_ = body.capacity() + properties.capacity() + exchange.size() + routing_key.size();
  g_message_bytes += accounted_;
}

std::uint8_t delivery_mode_of(const protocol::Bytes& p) {
  // Property flags, high bit first: content-type, content-encoding, headers,
  // delivery-mode. Skip the three before it when present.
  constexpr std::uint16_t kContentType = 1 << 15, kContentEncoding = 1 << 14, kHeaders = 1 << 13,
                          kDeliveryMode = 1 << 12;
  if (p.size() < 2) return 0;
  const std::uint16_t flags = static_cast<std::uint16_t>(p[0] << 8 | p[1]);
  if ((flags & kDeliveryMode) == 0) return 0;
  std::size_t pos = 2;
  if (flags & kContentType) pos += (pos < p.size() ? p[pos] : 0) + 1u;
  if (flags & kContentEncoding) pos += (pos < p.size() ? p[pos] : 0) + 1u;
  if (flags & kHeaders) {
    if (pos + 4 > p.size()) return 0;
    const std::uint32_t len = std::uint32_t{p[pos]} << 24 | std::uint32_t{p[pos + 1]} << 16 |
                              std::uint32_t{p[pos + 2]} << 8 | p[pos + 3];
    pos += 4 + std::size_t{len};
  }
  return pos < p.size() ? p[pos] : 0;
}

std::optional<std::int64_t> parse_expiration(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t ttl = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    ttl = ttl * 10 + (c - '0');
  }
  return ttl;
}

std::shared_ptr<Message> copy_with_properties(const Message& message,
                                              const protocol::BasicProperties& properties) {
  auto copy = std::make_shared<Message>();
  copy->exchange = message.exchange;
  copy->routing_key = message.routing_key;
  protocol::Encoder enc(copy->properties);
  protocol::encode_properties(properties, enc);
  copy->body = message.body;
  copy->body_size = message.body_size;
  copy->ttl_ms = properties.expiration ? parse_expiration(*properties.expiration).value_or(-1) : -1;
  copy->priority = message.priority;
  copy->persistent = message.persistent;
  copy->account();
  return copy;
}

Message::~Message() {
  g_message_bytes -= accounted_;
}

}  // namespace warren::broker
