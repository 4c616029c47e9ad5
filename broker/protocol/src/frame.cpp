#include "warren/protocol/frame.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

namespace warren::protocol {

namespace {

bool known_frame_type(std::uint8_t t) {
  switch (static_cast<FrameType>(t)) {
    case FrameType::kMethod:
    case FrameType::kHeader:
    case FrameType::kBody:
    case FrameType::kHeartbeat:
      return true;
  }
  return false;
}

}  // namespace

FrameParse parse_frame(std::span<const std::uint8_t> buffer, std::uint32_t frame_max) {
  FrameParse r;
  if (buffer.empty()) return r;
  // Judge the type as soon as its octet arrives: a peer speaking another
  // protocol should not make us wait for a "size".
  if (!known_frame_type(buffer[0])) {
    r.status = FrameStatus::kBadType;
    return r;
  }
  if (buffer.size() < kFrameHeaderSize) return r;
  const auto channel = static_cast<std::uint16_t>((buffer[1] << 8) | buffer[2]);
  const std::uint64_t size = (std::uint64_t{buffer[3]} << 24) | (std::uint64_t{buffer[4]} << 16) |
                             (std::uint64_t{buffer[5]} << 8) | std::uint64_t{buffer[6]};
  // Checked before waiting for the payload, so a huge declared size cannot
  // make the caller buffer it.
  if (frame_max != 0 && size + kFrameOverhead > frame_max) {
    r.status = FrameStatus::kTooLarge;
    return r;
  }
  if (buffer.size() < size + kFrameOverhead) return r;
  if (buffer[kFrameHeaderSize + size] != kFrameEnd) {
    r.status = FrameStatus::kBadFrameEnd;
    return r;
  }
  r.status = FrameStatus::kOk;
  r.consumed = static_cast<std::size_t>(size + kFrameOverhead);
  r.frame.type = static_cast<FrameType>(buffer[0]);
  r.frame.channel = channel;
  r.frame.payload = buffer.subspan(kFrameHeaderSize, static_cast<std::size_t>(size));
  return r;
}

std::size_t begin_frame(Bytes& out, FrameType type, std::uint16_t channel) {
  const std::size_t begin = out.size();
  Encoder enc(out);
  enc.u8(static_cast<std::uint8_t>(type));
  enc.u16(channel);
  enc.u32(0);
  return begin;
}

void end_frame(Bytes& out, std::size_t begin_offset) {
  assert(out.size() >= begin_offset + kFrameHeaderSize);
  const std::size_t payload = out.size() - begin_offset - kFrameHeaderSize;
  assert(payload <= std::numeric_limits<std::uint32_t>::max());
  Encoder enc(out);
  enc.patch_u32(begin_offset + 3, static_cast<std::uint32_t>(payload));
  enc.u8(kFrameEnd);
}

void write_heartbeat_frame(Bytes& out) {
  end_frame(out, begin_frame(out, FrameType::kHeartbeat, 0));
}

void write_content_header_frame(Bytes& out, std::uint16_t channel, std::uint16_t class_id,
                                std::uint64_t body_size,
                                std::span<const std::uint8_t> encoded_properties) {
  const std::size_t begin = begin_frame(out, FrameType::kHeader, channel);
  Encoder enc(out);
  enc.u16(class_id);
  enc.u16(0);  // weight, unused
  enc.u64(body_size);
  enc.bytes(encoded_properties);
  end_frame(out, begin);
}

void write_body_frames(Bytes& out, std::uint16_t channel, std::span<const std::uint8_t> body,
                       std::uint32_t frame_max) {
  if (body.empty()) return;
  assert(frame_max == 0 || frame_max > kFrameOverhead);
  const std::size_t max_payload =
      frame_max == 0 ? std::numeric_limits<std::uint32_t>::max()
                     : std::max<std::size_t>(frame_max, kFrameOverhead + 1) - kFrameOverhead;
  const std::size_t frames = (body.size() + max_payload - 1) / max_payload;
  // One allocation for the whole message rather than one per frame.
  out.reserve(out.size() + body.size() + frames * kFrameOverhead);
  Encoder enc(out);
  while (!body.empty()) {
    const std::size_t n = std::min(body.size(), max_payload);
    const std::size_t begin = begin_frame(out, FrameType::kBody, channel);
    enc.bytes(body.first(n));
    end_frame(out, begin);
    body = body.subspan(n);
  }
}

}  // namespace warren::protocol
