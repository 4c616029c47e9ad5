// Hot wire paths (see wire.hpp). Layouts from the AMQP 0-9-1 spec, section
// 4.2 (frames) and the basic class; wire_test.cpp compares them with the
// shared codec's output.

#include "wire.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "warren/protocol/frame.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::client::detail {

namespace {

using protocol::FrameType;

inline std::uint8_t* put8(std::uint8_t* p, std::uint8_t v) {
  *p = v;
  return p + 1;
}
inline std::uint8_t* put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
  return p + 2;
}
inline std::uint8_t* put32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
  return p + 4;
}
inline std::uint8_t* put64(std::uint8_t* p, std::uint64_t v) {
  put32(p, static_cast<std::uint32_t>(v >> 32));
  return put32(p + 4, static_cast<std::uint32_t>(v));
}
inline std::uint8_t* put_bytes(std::uint8_t* p, const void* data, std::size_t n) {
  if (n != 0) std::memcpy(p, data, n);
  return p + n;
}
inline std::uint8_t* frame_start(std::uint8_t* p, FrameType type, std::uint16_t channel,
                                 std::size_t payload) {
  p = put8(p, static_cast<std::uint8_t>(type));
  p = put16(p, channel);
  return put32(p, static_cast<std::uint32_t>(payload));
}

constexpr std::uint16_t kBasic = 60;
constexpr std::uint16_t kPublish = 40;

}  // namespace

void append_publish(protocol::Bytes& out, std::uint16_t channel, std::string_view exchange,
                    std::string_view routing_key, bool mandatory,
                    const protocol::BasicProperties& properties, std::string_view body,
                    std::uint32_t frame_max, protocol::Bytes& scratch) {
  scratch.clear();
  protocol::Encoder enc(scratch);
  protocol::encode_properties(properties, enc);

  const std::size_t x = std::min<std::size_t>(exchange.size(), 255);
  const std::size_t k = std::min<std::size_t>(routing_key.size(), 255);
  // class, method, reserved-1, exchange, routing-key, bits
  const std::size_t method_payload = 2 + 2 + 2 + 1 + x + 1 + k + 1;
  // class, weight, body size, properties
  const std::size_t header_payload = 2 + 2 + 8 + scratch.size();
  const std::size_t max_body =
      frame_max == 0 ? std::numeric_limits<std::uint32_t>::max()
                     : std::max<std::size_t>(frame_max, protocol::kFrameOverhead + 1) -
                           protocol::kFrameOverhead;
  const std::size_t body_frames = (body.size() + max_body - 1) / max_body;
  const std::size_t total =
      method_payload + header_payload + body.size() + (2 + body_frames) * protocol::kFrameOverhead;

  const std::size_t at = out.size();
  out.resize(at + total);
  std::uint8_t* p = out.data() + at;

  p = frame_start(p, FrameType::kMethod, channel, method_payload);
  p = put16(p, kBasic);
  p = put16(p, kPublish);
  p = put16(p, 0);  // reserved-1 (ticket)
  p = put8(p, static_cast<std::uint8_t>(x));
  p = put_bytes(p, exchange.data(), x);
  p = put8(p, static_cast<std::uint8_t>(k));
  p = put_bytes(p, routing_key.data(), k);
  p = put8(p, mandatory ? 1 : 0);  // bit 0 mandatory, bit 1 immediate (never)
  p = put8(p, protocol::kFrameEnd);

  p = frame_start(p, FrameType::kHeader, channel, header_payload);
  p = put16(p, kBasic);
  p = put16(p, 0);  // weight
  p = put64(p, body.size());
  p = put_bytes(p, scratch.data(), scratch.size());
  p = put8(p, protocol::kFrameEnd);

  const char* b = body.data();
  std::size_t left = body.size();
  while (left > 0) {
    const std::size_t n = std::min(left, max_body);
    p = frame_start(p, FrameType::kBody, channel, n);
    p = put_bytes(p, b, n);
    p = put8(p, protocol::kFrameEnd);
    b += n;
    left -= n;
  }
}

bool decode_deliver_arguments(std::span<const std::uint8_t> args, Delivery& d) {
  const std::uint8_t* p = args.data();
  const std::uint8_t* const end = p + args.size();
  auto shortstr = [&](std::string& s) {
    if (p == end) return false;
    const std::size_t n = *p++;
    if (static_cast<std::size_t>(end - p) < n) return false;
    // Usually the same tag, exchange and key as last time: no reallocation,
    // and cheaper than assign()'s general replace.
    if (s.size() != n) s.resize(n);
    if (n != 0) std::memcpy(s.data(), p, n);
    p += n;
    return true;
  };
  if (!shortstr(d.consumer_tag)) return false;
  if (end - p < 9) return false;
  std::uint64_t tag = 0;
  for (int i = 0; i < 8; ++i)
    tag = (tag << 8) | *p++;
  d.delivery_tag = tag;
  d.redelivered = (*p++ & 0x01u) != 0;
  if (!shortstr(d.exchange) || !shortstr(d.routing_key)) return false;
  return p == end;
}

}  // namespace warren::client::detail
