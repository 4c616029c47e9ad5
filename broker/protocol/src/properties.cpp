#include "warren/protocol/properties.hpp"

namespace warren::protocol {

namespace {

// Property flag bits, highest first, in property-list order.
enum Flag : std::uint16_t {
  kContentType = 1u << 15,
  kContentEncoding = 1u << 14,
  kHeaders = 1u << 13,
  kDeliveryMode = 1u << 12,
  kPriority = 1u << 11,
  kCorrelationId = 1u << 10,
  kReplyTo = 1u << 9,
  kExpiration = 1u << 8,
  kMessageId = 1u << 7,
  kTimestamp = 1u << 6,
  kType = 1u << 5,
  kUserId = 1u << 4,
  kAppId = 1u << 3,
  kClusterId = 1u << 2,
  kContinuation = 1u << 0,
};

// Fixed part: class id, weight, body size.
constexpr std::size_t kContentHeaderFixed = 12;

}  // namespace

bool parse_content_header(std::span<const std::uint8_t> payload, ContentHeader& out) {
  // The property flags word is mandatory, so a header without it is short.
  if (payload.size() < kContentHeaderFixed + 2) return false;
  Decoder dec(payload);
  out.class_id = dec.u16();
  out.weight = dec.u16();
  out.body_size = dec.u64();
  out.encoded_properties = payload.subspan(kContentHeaderFixed);
  return true;
}

bool decode_properties(std::span<const std::uint8_t> encoded, BasicProperties& out) {
  out = BasicProperties{};
  Decoder dec(encoded);
  const std::uint16_t flags = dec.u16();
  if (dec.failed() || (flags & kContinuation) != 0) return false;
  auto str = [&](std::uint16_t bit, std::optional<std::string>& field) {
    if (flags & bit) field = dec.shortstr();
  };
  str(kContentType, out.content_type);
  str(kContentEncoding, out.content_encoding);
  if (flags & kHeaders) out.headers = dec.table();
  if (flags & kDeliveryMode) out.delivery_mode = dec.u8();
  if (flags & kPriority) out.priority = dec.u8();
  str(kCorrelationId, out.correlation_id);
  str(kReplyTo, out.reply_to);
  str(kExpiration, out.expiration);
  str(kMessageId, out.message_id);
  if (flags & kTimestamp) out.timestamp = dec.u64();
  str(kType, out.type);
  str(kUserId, out.user_id);
  str(kAppId, out.app_id);
  str(kClusterId, out.cluster_id);
  return !dec.failed() && dec.remaining() == 0;
}

void encode_properties(const BasicProperties& p, Encoder& enc) {
  std::uint16_t flags = 0;
  auto flag = [&flags](bool present, std::uint16_t bit) {
    if (present) flags = static_cast<std::uint16_t>(flags | bit);
  };
  flag(p.content_type.has_value(), kContentType);
  flag(p.content_encoding.has_value(), kContentEncoding);
  flag(p.headers.has_value(), kHeaders);
  flag(p.delivery_mode.has_value(), kDeliveryMode);
  flag(p.priority.has_value(), kPriority);
  flag(p.correlation_id.has_value(), kCorrelationId);
  flag(p.reply_to.has_value(), kReplyTo);
  flag(p.expiration.has_value(), kExpiration);
  flag(p.message_id.has_value(), kMessageId);
  flag(p.timestamp.has_value(), kTimestamp);
  flag(p.type.has_value(), kType);
  flag(p.user_id.has_value(), kUserId);
  flag(p.app_id.has_value(), kAppId);
  flag(p.cluster_id.has_value(), kClusterId);
  enc.u16(flags);

  auto str = [&enc](const std::optional<std::string>& s) {
    if (s) enc.shortstr(*s);
  };
  str(p.content_type);
  str(p.content_encoding);
  if (p.headers) enc.table(*p.headers);
  if (p.delivery_mode) enc.u8(*p.delivery_mode);
  if (p.priority) enc.u8(*p.priority);
  str(p.correlation_id);
  str(p.reply_to);
  str(p.expiration);
  str(p.message_id);
  if (p.timestamp) enc.u64(*p.timestamp);
  str(p.type);
  str(p.user_id);
  str(p.app_id);
  str(p.cluster_id);
}

}  // namespace warren::protocol
