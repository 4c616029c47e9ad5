#pragma once
// AMQP 0-9-1 frames: the reader that splits a byte stream into frames
// (checking frame_max and the frame-end octet before trusting a size), and
// writers for method, content header, body and heartbeat frames.

#include <cstdint>
#include <span>
#include <string_view>

#include "warren/protocol/codec.hpp"

namespace warren::protocol {

enum class FrameType : std::uint8_t { kMethod = 1, kHeader = 2, kBody = 3, kHeartbeat = 8 };
inline constexpr std::uint8_t kFrameEnd = 0xCE;
inline constexpr std::size_t kFrameHeaderSize = 7;  // type, channel, size
inline constexpr std::size_t kFrameOverhead = 8;    // header + frame-end octet
inline constexpr std::uint32_t kFrameMinSize = 4096;
// "AMQP" 0 0 9 1
inline constexpr std::uint8_t kProtocolHeader[8] = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

struct Frame {
  FrameType type = FrameType::kMethod;
  std::uint16_t channel = 0;
  std::span<const std::uint8_t> payload;  // points into the parsed buffer
};

enum class FrameStatus {
  kOk,           // one frame parsed; `consumed` bytes used
  kNeedMore,     // the buffer holds no complete frame yet
  kTooLarge,     // declared size + overhead exceeds frame_max
  kBadFrameEnd,  // the octet after the payload is not 0xCE
  kBadType,      // unknown frame type octet
};

struct FrameParse {
  FrameStatus status = FrameStatus::kNeedMore;
  std::size_t consumed = 0;
  Frame frame;
};

// Parses the first frame in `buffer`. `frame_max` is the negotiated maximum
// total frame size (0 means no limit beyond 2^32).
FrameParse parse_frame(std::span<const std::uint8_t> buffer, std::uint32_t frame_max);

// Appends a complete heartbeat frame.
void write_heartbeat_frame(Bytes& out);

// Appends a content header frame: class id, weight 0, body size, then the
// already-encoded property flags and property list (`encoded_properties`).
void write_content_header_frame(Bytes& out, std::uint16_t channel, std::uint16_t class_id,
                                std::uint64_t body_size,
                                std::span<const std::uint8_t> encoded_properties);

// Appends the body split into body frames of at most frame_max total bytes
// each (no frame for an empty body).
void write_body_frames(Bytes& out, std::uint16_t channel, std::span<const std::uint8_t> body,
                       std::uint32_t frame_max);

// Starts a frame (type, channel, size placeholder) and returns the offset to
// pass to end_frame(), which patches the size and appends the frame-end octet.
std::size_t begin_frame(Bytes& out, FrameType type, std::uint16_t channel);
void end_frame(Bytes& out, std::size_t begin_offset);

}  // namespace warren::protocol
