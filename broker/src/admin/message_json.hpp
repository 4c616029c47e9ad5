#pragma once
// The JSON shape of one message as the message endpoints show it (docs/API.md, DLQ tooling):
// shared by the DLQ browser (api_messages.cpp) and the lists of retrying and delayed messages
// (api_waiting.cpp).

#include <cstddef>
#include <cstdint>
#include <optional>

#include "admin/api.hpp"
#include "message.hpp"
#include "queue.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::admin {

// The message itself: `exchange`, `routing_key`, `payload_bytes`, `properties` (headers
// included), `x_death` (decoded, [] when none), `payload` with `payload_encoding` "string"
// (UTF-8) or "base64", and `payload_json` when the content type is JSON and the body parses.
// `truncate` cuts the payload to that many bytes.
json message_fields(const broker::Message& m, const protocol::BasicProperties& p,
                    std::optional<std::size_t> truncate);
// message_fields plus the queue entry's `id` (sequence), `position`, `redelivered`,
// `delivery_count`, `acquired_count`.
json message_json(const broker::Queue::Entry& e, const protocol::BasicProperties& p,
                  std::size_t position, std::optional<std::size_t> truncate);

// A query parameter as a non-negative integer: nothing when absent or empty, else 400
// "KEY must be a non-negative integer" unless it is one (at most 18 digits).
std::optional<std::int64_t> query_int(const Request& r, const char* key);

}  // namespace warren::admin
