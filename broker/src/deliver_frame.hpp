#pragma once
// basic.deliver written straight from views, for the delivery hot path: the
// generated struct would copy the consumer tag, exchange and routing key
// into std::strings for every message.

#include <cstdint>
#include <string_view>

#include "warren/protocol/codec.hpp"
#include "warren/protocol/frame.hpp"
#include "warren/protocol/methods.hpp"

namespace warren::broker {

inline void write_deliver_frame(protocol::Bytes& out, std::uint16_t channel,
                                std::string_view consumer_tag, std::uint64_t delivery_tag,
                                bool redelivered, std::string_view exchange,
                                std::string_view routing_key) {
  using protocol::method::BasicDeliver;
  const std::size_t begin = protocol::begin_frame(out, protocol::FrameType::kMethod, channel);
  protocol::Encoder enc(out);
  enc.u16(BasicDeliver::kClassId);
  enc.u16(BasicDeliver::kMethodId);
  enc.shortstr(consumer_tag);
  enc.u64(delivery_tag);
  enc.u8(redelivered ? 1 : 0);
  enc.shortstr(exchange);
  enc.shortstr(routing_key);
  protocol::end_frame(out, begin);
}

}  // namespace warren::broker
