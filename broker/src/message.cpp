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

Message::~Message() {
  g_message_bytes -= accounted_;
}

}  // namespace warren::broker
