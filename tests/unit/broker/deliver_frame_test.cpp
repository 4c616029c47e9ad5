// The hand-written basic.deliver writer (the delivery hot path) must produce
// exactly what the generated codec would, for any field values.

#include "deliver_frame.hpp"

#include <catch2/catch.hpp>

#include "warren/protocol/frame.hpp"
#include "warren/protocol/methods.hpp"

namespace {

using warren::protocol::Bytes;
namespace m = warren::protocol::method;

TEST_CASE("write_deliver_frame matches the generated BasicDeliver encoding") {
  const std::string long_key(255, 'k');
  struct Case {
    std::string tag;
    std::uint64_t delivery_tag;
    bool redelivered;
    std::string exchange;
    std::string routing_key;
  };
  const Case cases[] = {
      {"", 1, false, "", ""},
      {"amq.ctag-abcdefghijklmnopqrstuv", 0xFFFFFFFFFFFFFFFFull, true, "amq.topic", "a.b.c"},
      {"c", 42, true, "x", long_key},
  };
  for (const Case& c : cases) {
    Bytes hand;
    warren::broker::write_deliver_frame(hand, 7, c.tag, c.delivery_tag, c.redelivered, c.exchange,
                                        c.routing_key);
    Bytes generated;
    warren::protocol::write_method_frame(
        generated, 7,
        m::BasicDeliver{c.tag, c.delivery_tag, c.redelivered, c.exchange, c.routing_key});
    REQUIRE(hand == generated);

    auto parse = warren::protocol::parse_frame(hand, 0);
    REQUIRE(parse.status == warren::protocol::FrameStatus::kOk);
    REQUIRE(parse.consumed == hand.size());
    auto decoded = warren::protocol::decode_method(parse.frame.payload);
    REQUIRE(decoded.status == warren::protocol::MethodStatus::kOk);
    const auto& d = std::get<m::BasicDeliver>(decoded.method);
    CHECK(d.consumer_tag == c.tag);
    CHECK(d.delivery_tag == c.delivery_tag);
    CHECK(d.redelivered == c.redelivered);
    CHECK(d.exchange == c.exchange);
    CHECK(d.routing_key == c.routing_key);
  }
}

}  // namespace
