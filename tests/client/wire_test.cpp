// The client's hand-written hot paths (client/src/wire.hpp) against the
// shared codec, which is the reference: the same bytes out, the same fields in.

#include "wire.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "warren/protocol/frame.hpp"
#include "warren/protocol/methods.hpp"
#include "warren/protocol/properties.hpp"

using namespace warren::client;
using namespace warren::protocol;
namespace m = warren::protocol::method;

namespace {

Bytes reference_publish(std::uint16_t channel, const std::string& exchange, const std::string& key,
                        bool mandatory, const BasicProperties& props, const std::string& body,
                        std::uint32_t frame_max) {
  Bytes out;
  m::BasicPublish p;
  p.exchange = exchange;
  p.routing_key = key;
  p.mandatory = mandatory;
  write_method_frame(out, channel, p);
  Bytes encoded;
  Encoder enc(encoded);
  encode_properties(props, enc);
  write_content_header_frame(out, channel, 60, body.size(), encoded);
  write_body_frames(out, channel,
                    std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()),
                    frame_max);
  return out;
}

}  // namespace

TEST_CASE("append_publish writes what the codec writes", "[wire]") {
  BasicProperties rich;
  rich.content_type = "application/json";
  rich.delivery_mode = 2;
  rich.priority = 7;
  rich.message_id = "id-42";
  rich.timestamp = 1700000000;
  rich.headers = FieldTable{{"x-k", std::string("v")}, {"n", std::int64_t{3}}};
  struct Case {
    std::string exchange, key;
    bool mandatory;
    BasicProperties props;
    std::string body;
    std::uint32_t frame_max;
  };
  const Case cases[] = {
      {"", "jobs", false, {}, "hello", 131072},
      {"amq.topic", "a.b.c", true, rich, std::string(1000, 'x'), 131072},
      {"x", "", false, rich, "", 131072},                                  // no body frame
      {"x", "k", true, {}, std::string(10000, 'y'), 4096},                 // three body frames
      {"x", "k", false, {}, std::string(4088, 'z'), 4096},                 // exactly one full frame
      {std::string(255, 'e'), std::string(255, 'r'), true, rich, "b", 0},  // no frame limit
  };
  for (const Case& c : cases) {
    Bytes fast, scratch;
    fast.push_back(0xAA);  // appends, keeps what was there
    detail::append_publish(fast, 3, c.exchange, c.key, c.mandatory, c.props, c.body, c.frame_max,
                           scratch);
    Bytes want{0xAA};
    const Bytes ref =
        reference_publish(3, c.exchange, c.key, c.mandatory, c.props, c.body, c.frame_max);
    want.insert(want.end(), ref.begin(), ref.end());
    CHECK(fast == want);
  }
}

TEST_CASE("decode_deliver_arguments reads what the codec writes", "[wire]") {
  m::BasicDeliver d;
  d.consumer_tag = "ctag-1";
  d.delivery_tag = 0x0102030405060708ull;
  d.redelivered = true;
  d.exchange = "ex";
  d.routing_key = std::string(200, 'k');
  Bytes frame;
  write_method_frame(frame, 1, d);
  const FrameParse p = parse_frame(frame, 0);
  REQUIRE(p.status == FrameStatus::kOk);
  const auto args = p.frame.payload.subspan(4);  // after class and method ids

  Delivery got;
  got.consumer_tag = "old value, longer than the small-string buffer";
  REQUIRE(detail::decode_deliver_arguments(args, got));
  CHECK(got.consumer_tag == "ctag-1");
  CHECK(got.delivery_tag == 0x0102030405060708ull);
  CHECK(got.redelivered);
  CHECK(got.exchange == "ex");
  CHECK(got.routing_key == d.routing_key);

  // Every truncation fails, and so do trailing bytes.
  for (std::size_t n = 0; n < args.size(); ++n) {
    Delivery x;
    CHECK_FALSE(detail::decode_deliver_arguments(args.first(n), x));
  }
  Bytes longer(args.begin(), args.end());
  longer.push_back(0);
  Delivery x;
  CHECK_FALSE(detail::decode_deliver_arguments(longer, x));
}
