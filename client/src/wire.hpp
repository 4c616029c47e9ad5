#pragma once
// The client's two hot wire paths, written straight into / out of buffers:
// basic.publish with its content (one resize, no per-field calls) and
// basic.deliver's arguments (into a reused Delivery, keeping its strings'
// capacity). Everything else goes through the shared codec
// (warren_protocol), which remains the reference: tests/client/wire_test.cpp
// checks both paths byte for byte against it.

#include <cstdint>
#include <span>
#include <string_view>

#include "warren/client/message.hpp"
#include "warren/protocol/codec.hpp"

namespace warren::client::detail {

// Appends basic.publish (method frame, content header, body frames of at
// most frame_max bytes each; 0 = no limit) for `channel` to `out`, exactly
// as protocol::write_method_frame + write_content_header_frame +
// write_body_frames would. `scratch` is a reusable buffer for the encoded
// properties. Precondition: exchange and routing_key are at most 255 bytes.
void append_publish(protocol::Bytes& out, std::uint16_t channel, std::string_view exchange,
                    std::string_view routing_key, bool mandatory,
                    const protocol::BasicProperties& properties, std::string_view body,
                    std::uint32_t frame_max, protocol::Bytes& scratch);

// Decodes basic.deliver's arguments (the method payload after class and
// method ids) into `d` (consumer_tag, delivery_tag, redelivered, exchange,
// routing_key). False when malformed or when bytes are left over.
bool decode_deliver_arguments(std::span<const std::uint8_t> args, Delivery& d);

}  // namespace warren::client::detail
