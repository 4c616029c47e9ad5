#include "warren/protocol/properties.hpp"

#include <catch2/catch.hpp>

#include "test_util.hpp"

using namespace warren::protocol;
using test::hex;
using test::to_hex;

namespace {

BasicProperties all_set() {
  BasicProperties p;
  p.content_type = "application/json";
  p.content_encoding = "gzip";
  p.headers = FieldTable{{"x-match", std::string("all")}, {"n", std::int32_t{3}}};
  p.delivery_mode = 2;
  p.priority = 9;
  p.correlation_id = "corr";
  p.reply_to = "amq.rabbitmq.reply-to";
  p.expiration = "60000";
  p.message_id = "msg-1";
  p.timestamp = 1700000000;
  p.type = "kind";
  p.user_id = "guest";
  p.app_id = "app";
  p.cluster_id = "c1";
  return p;
}

Bytes encode(const BasicProperties& p) {
  Bytes out;
  Encoder enc(out);
  encode_properties(p, enc);
  return out;
}

}  // namespace

TEST_CASE("Properties with nothing set are two zero bytes", "[properties]") {
  const Bytes enc = encode({});
  CHECK(to_hex(enc) == "00 00");
  BasicProperties back = all_set();
  REQUIRE(decode_properties(enc, back));
  CHECK(back == BasicProperties{});
}

TEST_CASE("All 14 properties round-trip", "[properties]") {
  const Bytes enc = encode(all_set());
  CHECK(to_hex(std::span(enc).first(2)) == "ff fc");
  BasicProperties back;
  REQUIRE(decode_properties(enc, back));
  CHECK(back == all_set());
}

TEST_CASE("Each property alone round-trips with its own flag bit", "[properties]") {
  const BasicProperties full = all_set();
  // Bit 15 - i belongs to the i-th property in list order.
  const std::uint16_t expected_flags[14] = {0x8000, 0x4000, 0x2000, 0x1000, 0x0800, 0x0400, 0x0200,
                                            0x0100, 0x0080, 0x0040, 0x0020, 0x0010, 0x0008, 0x0004};
  for (int i = 0; i < 14; ++i) {
    BasicProperties p;
    switch (i) {
      case 0:
        p.content_type = full.content_type;
        break;
      case 1:
        p.content_encoding = full.content_encoding;
        break;
      case 2:
        p.headers = full.headers;
        break;
      case 3:
        p.delivery_mode = full.delivery_mode;
        break;
      case 4:
        p.priority = full.priority;
        break;
      case 5:
        p.correlation_id = full.correlation_id;
        break;
      case 6:
        p.reply_to = full.reply_to;
        break;
      case 7:
        p.expiration = full.expiration;
        break;
      case 8:
        p.message_id = full.message_id;
        break;
      case 9:
        p.timestamp = full.timestamp;
        break;
      case 10:
        p.type = full.type;
        break;
      case 11:
        p.user_id = full.user_id;
        break;
      case 12:
        p.app_id = full.app_id;
        break;
      default:
        p.cluster_id = full.cluster_id;
        break;
    }
    INFO("property " << i);
    const Bytes enc = encode(p);
    REQUIRE(enc.size() >= 2);
    CHECK(((enc[0] << 8) | enc[1]) == expected_flags[i]);
    BasicProperties back;
    REQUIRE(decode_properties(enc, back));
    CHECK(back == p);
  }
}

TEST_CASE("Some properties encode to the known bytes", "[properties]") {
  BasicProperties p;
  p.content_type = "text/plain";
  p.headers = FieldTable{{"k", std::string("v")}};
  p.delivery_mode = 2;
  p.timestamp = 1700000000;
  p.cluster_id = "c";
  // content-type | headers | delivery-mode | timestamp | cluster-id = b044
  const Bytes expected =
      hex("b044 0a 746578742f706c61696e 00000008 01 6b 53 00000001 76 02 000000006553f100 01 63");
  CHECK(to_hex(encode(p)) == to_hex(expected));
  BasicProperties back;
  REQUIRE(decode_properties(expected, back));
  CHECK(back == p);
}

TEST_CASE("Malformed property lists are rejected", "[properties]") {
  BasicProperties out;
  SECTION("continuation flag") {
    CHECK_FALSE(decode_properties(hex("0001"), out));
    CHECK_FALSE(decode_properties(hex("8001 01 61 0000"), out));
  }
  SECTION("missing flags") {
    CHECK_FALSE(decode_properties({}, out));
    CHECK_FALSE(decode_properties(hex("80"), out));
  }
  SECTION("trailing bytes") {
    CHECK_FALSE(decode_properties(hex("0000 00"), out));
  }
  SECTION("bad headers table") {
    CHECK_FALSE(decode_properties(hex("2000 00000003 01 61 5a"), out));
  }
  SECTION("truncated at every length") {
    const Bytes enc = encode(all_set());
    for (std::size_t n = 0; n < enc.size(); ++n) {
      INFO("length " << n);
      CHECK_FALSE(decode_properties(std::span(enc).first(n), out));
    }
  }
}

TEST_CASE("parse_content_header", "[properties]") {
  SECTION("splits the fixed part from the properties") {
    const Bytes payload = hex("003c 0000 0000000100000002 9000 0a 746578742f706c61696e 02");
    ContentHeader h;
    REQUIRE(parse_content_header(payload, h));
    CHECK(h.class_id == 60);
    CHECK(h.weight == 0);
    CHECK(h.body_size == 0x100000002ull);
    CHECK(h.encoded_properties.data() == payload.data() + 12);
    CHECK(h.encoded_properties.size() == payload.size() - 12);
    BasicProperties p;
    REQUIRE(decode_properties(h.encoded_properties, p));
    CHECK(p.content_type == "text/plain");
    CHECK(p.delivery_mode == 2);
  }
  SECTION("too short") {
    const Bytes payload = hex("003c 0000 0000000000000005 0000");
    ContentHeader h;
    for (std::size_t n = 0; n < payload.size(); ++n) {
      INFO("length " << n);
      CHECK_FALSE(parse_content_header(std::span(payload).first(n), h));
    }
    CHECK(parse_content_header(payload, h));
    CHECK(h.body_size == 5);
  }
}
