#pragma once
// Basic class content properties (the content header's property list).
// The broker forwards properties as the encoded bytes it received and only
// decodes them when it must look inside (headers exchange, TTL, x-death).

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "warren/protocol/codec.hpp"
#include "warren/protocol/field_table.hpp"

namespace warren::protocol {

struct BasicProperties {
  std::optional<std::string> content_type;
  std::optional<std::string> content_encoding;
  std::optional<FieldTable> headers;
  std::optional<std::uint8_t> delivery_mode;
  std::optional<std::uint8_t> priority;
  std::optional<std::string> correlation_id;
  std::optional<std::string> reply_to;
  std::optional<std::string> expiration;
  std::optional<std::string> message_id;
  std::optional<std::uint64_t> timestamp;
  std::optional<std::string> type;
  std::optional<std::string> user_id;
  std::optional<std::string> app_id;
  std::optional<std::string> cluster_id;
  friend bool operator==(const BasicProperties&, const BasicProperties&) = default;
};

// The fixed part of a content header frame's payload.
struct ContentHeader {
  std::uint16_t class_id = 0;
  std::uint16_t weight = 0;
  std::uint64_t body_size = 0;
  // Property flags and list, exactly as received (a view into the payload).
  std::span<const std::uint8_t> encoded_properties;
};

// Splits a content header payload; false when it is too short. Does not
// validate the property list (decode_properties does).
bool parse_content_header(std::span<const std::uint8_t> payload, ContentHeader& out);

// Decodes flags + property list (supports continuation flag words by
// rejecting them: basic has 14 properties, so bit 0 must be clear).
// Returns false on malformed input.
bool decode_properties(std::span<const std::uint8_t> encoded, BasicProperties& out);

// Appends property flags + property list.
void encode_properties(const BasicProperties& props, Encoder& enc);

}  // namespace warren::protocol
