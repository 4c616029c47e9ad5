#include "warren/protocol/methods.hpp"

#include <catch2/catch.hpp>
#include <set>

#include "method_samples.hpp"
#include "test_util.hpp"

using namespace warren::protocol;
using test::hex;
using test::to_hex;

namespace {

Bytes payload_of(const Method& m) {
  Bytes out;
  Encoder enc(out);
  encode_method(enc, m);
  return out;
}

template <typename M>
Bytes payload_of(const M& m) {
  Bytes out;
  Encoder enc(out);
  encode_method(enc, m);
  return out;
}

std::uint16_t class_id_of(const Method& m) {
  return std::visit([](const auto& alt) { return alt.kClassId; }, m);
}
std::uint16_t method_id_of(const Method& m) {
  return std::visit([](const auto& alt) { return alt.kMethodId; }, m);
}

}  // namespace

TEST_CASE("Samples cover every method with non-default values", "[methods]") {
  const std::vector<Method> samples = samples::sample_methods(0);
  REQUIRE(samples.size() == std::variant_size_v<Method>);
  REQUIRE(samples.size() == samples::kMethodCount);
  std::set<std::size_t> indices;
  for (const Method& m : samples) {
    indices.insert(m.index());
    // Pattern 0 sets every field, so only field-less methods equal their default.
    const bool equals_default =
        std::visit([](const auto& alt) { return alt == std::decay_t<decltype(alt)>{}; }, m);
    const bool has_fields = payload_of(m).size() > 4;
    INFO(method_name(m));
    CHECK(equals_default == !has_fields);
  }
  CHECK(indices.size() == samples.size());
}

TEST_CASE("Every method round-trips through a method frame", "[methods]") {
  for (int pattern = 0; pattern < samples::kPatterns; ++pattern) {
    for (const Method& m : samples::sample_methods(pattern)) {
      INFO(method_name(m) << " pattern " << pattern);
      Bytes frame;
      write_method_frame(frame, 7, m);
      const FrameParse p = parse_frame(frame, 0);
      REQUIRE(p.status == FrameStatus::kOk);
      CHECK(p.consumed == frame.size());
      CHECK(p.frame.type == FrameType::kMethod);
      CHECK(p.frame.channel == 7);
      const MethodDecode d = decode_method(p.frame.payload);
      REQUIRE(d.status == MethodStatus::kOk);
      CHECK(d.class_id == class_id_of(m));
      CHECK(d.method_id == method_id_of(m));
      CHECK(d.method.index() == m.index());
      CHECK(d.method == m);
      CHECK(method_name(d.class_id, d.method_id) == method_name(m));
    }
  }
}

TEST_CASE("Typed and variant write_method_frame agree", "[methods]") {
  method::BasicDeliver d;
  d.consumer_tag = "ctag";
  d.delivery_tag = 99;
  d.redelivered = true;
  d.routing_key = "rk";
  Bytes typed, variant;
  write_method_frame(typed, 3, d);
  write_method_frame(variant, 3, Method{d});
  CHECK(typed == variant);
}

TEST_CASE("Truncated method payloads are malformed", "[methods]") {
  // Patterns 1 and 2 keep payloads small enough to try every length.
  for (int pattern = 1; pattern < samples::kPatterns; ++pattern) {
    for (const Method& m : samples::sample_methods(pattern)) {
      const Bytes full = payload_of(m);
      INFO(method_name(m) << " pattern " << pattern);
      for (std::size_t n = 0; n < full.size(); ++n) {
        const MethodDecode d = decode_method(std::span(full).first(n));
        INFO("length " << n);
        REQUIRE(d.status == MethodStatus::kMalformed);
      }
    }
  }
}

TEST_CASE("Trailing bytes after the arguments are malformed", "[methods]") {
  for (const Method& m : samples::sample_methods(1)) {
    Bytes p = payload_of(m);
    p.push_back(0);
    INFO(method_name(m));
    const MethodDecode d = decode_method(p);
    CHECK(d.status == MethodStatus::kMalformed);
    CHECK(d.class_id == class_id_of(m));
    CHECK(d.method_id == method_id_of(m));
  }
}

TEST_CASE("Unknown and short method payloads", "[methods]") {
  SECTION("unknown method in a known class") {
    const MethodDecode d = decode_method(hex("000a 0063"));
    CHECK(d.status == MethodStatus::kUnknownMethod);
    CHECK(d.class_id == 10);
    CHECK(d.method_id == 99);
  }
  SECTION("unknown class") {
    const MethodDecode d = decode_method(hex("03e7 000a 00"));
    CHECK(d.status == MethodStatus::kUnknownMethod);
    CHECK(d.class_id == 999);
    CHECK(d.method_id == 10);
  }
  SECTION("fewer than 4 bytes") {
    for (const char* h : {"", "00", "003c", "003c00"}) {
      CHECK(decode_method(hex(h)).status == MethodStatus::kMalformed);
    }
  }
  SECTION("bad table type letter in arguments") {
    // queue.declare with arguments {"a": 'Z'}
    const MethodDecode d = decode_method(hex("0032 000a 0000 01 71 00 00000003 01 61 5a"));
    CHECK(d.status == MethodStatus::kMalformed);
  }
  SECTION("overlong table length in arguments") {
    const MethodDecode d = decode_method(hex("0032 000a 0000 01 71 00 00001000 01 61 56"));
    CHECK(d.status == MethodStatus::kMalformed);
  }
}

TEST_CASE("Golden: basic.publish method frame", "[methods][golden]") {
  method::BasicPublish m;
  m.exchange = "ex";
  m.routing_key = "rk";
  m.mandatory = true;
  const Bytes expected = hex("01 0001 0000000d  003c 0028  0000  02 6578  02 726b  01  ce");
  Bytes frame;
  write_method_frame(frame, 1, m);
  CHECK(to_hex(frame) == to_hex(expected));

  const MethodDecode d = decode_method(std::span(expected).subspan(7, 13));
  REQUIRE(d.status == MethodStatus::kOk);
  const auto* back = std::get_if<method::BasicPublish>(&d.method);
  REQUIRE(back != nullptr);
  CHECK(back->exchange == "ex");
  CHECK(back->routing_key == "rk");
  CHECK(back->mandatory);
  CHECK_FALSE(back->immediate);

  m.mandatory = false;
  m.immediate = true;
  CHECK(to_hex(payload_of(m)) == to_hex(hex("003c 0028 0000 02 6578 02 726b 02")));
}

TEST_CASE("Golden: connection.tune", "[methods][golden]") {
  method::ConnectionTune m;
  m.channel_max = 2047;
  m.frame_max = 131072;
  m.heartbeat = 60;
  Bytes frame;
  write_method_frame(frame, 0, m);
  CHECK(to_hex(frame) == to_hex(hex("01 0000 0000000c 000a 001e 07ff 00020000 003c ce")));
}

TEST_CASE("Golden: basic.deliver", "[methods][golden]") {
  method::BasicDeliver m;
  m.consumer_tag = "c";
  m.delivery_tag = 1;
  m.redelivered = true;
  m.routing_key = "rk";
  CHECK(to_hex(payload_of(m)) == to_hex(hex("003c 003c 01 63 0000000000000001 01 00 02 726b")));
}

TEST_CASE("Golden: connection.close and basic.ack", "[methods][golden]") {
  method::ConnectionClose c;
  c.reply_code = kNotFound;
  c.reply_text = "NOT_FOUND";
  c.class_id = 50;
  c.method_id = 10;
  CHECK(to_hex(payload_of(c)) == to_hex(hex("000a 0032 0194 09 4e4f545f464f554e44 0032 000a")));
  method::BasicAck a;
  a.delivery_tag = 0x0102030405060708ull;
  a.multiple = true;
  CHECK(to_hex(payload_of(a)) == to_hex(hex("003c 0050 0102030405060708 01")));
}

TEST_CASE("Bit packing: queue.declare's five bits share one octet", "[methods][bits]") {
  method::QueueDeclare m;
  m.queue = "q";
  m.durable = true;
  m.auto_delete = true;
  m.no_wait = true;
  // passive bit0, durable bit1, exclusive bit2, auto-delete bit3, no-wait bit4
  const Bytes expected = hex("0032 000a 0000 01 71 1a 00000000");
  CHECK(to_hex(payload_of(m)) == to_hex(expected));
  const MethodDecode d = decode_method(expected);
  REQUIRE(d.status == MethodStatus::kOk);
  CHECK(d.method == Method{m});

  for (int bit = 0; bit < 5; ++bit) {
    method::QueueDeclare one;
    bool* fields[] = {&one.passive, &one.durable, &one.exclusive, &one.auto_delete, &one.no_wait};
    *fields[bit] = true;
    const Bytes p = payload_of(one);
    INFO("bit " << bit);
    CHECK(p[p.size() - 5] == (1u << bit));
  }
}

TEST_CASE("Bit packing: basic.consume's four bits then a table", "[methods][bits]") {
  method::BasicConsume m;
  m.queue = "q";
  m.consumer_tag = "ct";
  m.no_ack = true;
  m.exclusive = true;
  m.arguments = FieldTable{{"x-priority", std::int32_t{5}}};
  const Bytes expected =
      hex("003c 0014 0000 01 71 02 6374 06 00000010 0a 782d7072696f72697479 49 00000005");
  CHECK(to_hex(payload_of(m)) == to_hex(expected));
  const MethodDecode d = decode_method(expected);
  REQUIRE(d.status == MethodStatus::kOk);
  CHECK(d.method == Method{m});
}

TEST_CASE("Bit packing: exchange.declare flushes bits before the table", "[methods][bits]") {
  method::ExchangeDeclare m;
  m.exchange = "x";
  m.type = "topic";
  m.passive = false;
  m.durable = true;
  m.internal = true;
  const Bytes expected = hex("0028 000a 0000 01 78 05 746f706963 0a 00000000");
  CHECK(to_hex(payload_of(m)) == to_hex(expected));
}

TEST_CASE("Bit packing: basic.nack and a lone bit", "[methods][bits]") {
  method::BasicNack n;
  n.delivery_tag = 5;
  n.requeue = true;
  CHECK(to_hex(payload_of(n)) == to_hex(hex("003c 0078 0000000000000005 02")));
  method::ConfirmSelect c;
  c.nowait = true;
  CHECK(to_hex(payload_of(c)) == to_hex(hex("0055 000a 01")));
  method::ChannelFlow f;
  CHECK(to_hex(payload_of(f)) == to_hex(hex("0014 0014 00")));
}

TEST_CASE("Method metadata", "[methods]") {
  STATIC_REQUIRE(method::BasicPublish::kClassId == 60);
  STATIC_REQUIRE(method::BasicPublish::kMethodId == 40);
  STATIC_REQUIRE(method::BasicPublish::kName == "basic.publish");
  STATIC_REQUIRE(method::BasicPublish::kHasContent);
  STATIC_REQUIRE_FALSE(method::BasicPublish::kSynchronous);
  STATIC_REQUIRE(method::QueueDeclare::kSynchronous);
  STATIC_REQUIRE(method::ConnectionUpdateSecretOk::kMethodId == 71);
  STATIC_REQUIRE(method::ConnectionBlocked::kMethodId == 60);

  CHECK(method_name(60, 40) == "basic.publish");
  CHECK(method_name(10, 11) == "connection.start-ok");
  CHECK(method_name(85, 11) == "confirm.select-ok");
  CHECK(method_name(1, 1) == "unknown");
  CHECK(method_name(Method{method::TxCommit{}}) == "tx.commit");

  for (const Method& m : samples::sample_methods(1)) {
    const bool content = std::visit([](const auto& alt) { return alt.kHasContent; }, m);
    CHECK(method_has_content(class_id_of(m), method_id_of(m)) == content);
  }
  CHECK(method_has_content(60, 40));
  CHECK(method_has_content(60, 50));
  CHECK(method_has_content(60, 60));
  CHECK(method_has_content(60, 71));
  CHECK_FALSE(method_has_content(60, 72));
  CHECK_FALSE(method_has_content(999, 1));
}

TEST_CASE("Reply and frame constants", "[methods][constants]") {
  STATIC_REQUIRE(kReplySuccess == 200);
  STATIC_REQUIRE(kContentTooLarge == 311);
  STATIC_REQUIRE(kNoRoute == 312);
  STATIC_REQUIRE(kNoConsumers == 313);
  STATIC_REQUIRE(kConnectionForced == 320);
  STATIC_REQUIRE(kInvalidPath == 402);
  STATIC_REQUIRE(kAccessRefused == 403);
  STATIC_REQUIRE(kNotFound == 404);
  STATIC_REQUIRE(kResourceLocked == 405);
  STATIC_REQUIRE(kPreconditionFailed == 406);
  STATIC_REQUIRE(kFrameError == 501);
  STATIC_REQUIRE(kSyntaxError == 502);
  STATIC_REQUIRE(kCommandInvalid == 503);
  STATIC_REQUIRE(kChannelError == 504);
  STATIC_REQUIRE(kUnexpectedFrame == 505);
  STATIC_REQUIRE(kResourceError == 506);
  STATIC_REQUIRE(kNotAllowed == 530);
  STATIC_REQUIRE(kNotImplemented == 540);
  STATIC_REQUIRE(kInternalError == 541);
  STATIC_REQUIRE(kFrameMethod == 1);
  STATIC_REQUIRE(kFrameHeader == 2);
  STATIC_REQUIRE(kFrameBody == 3);
  STATIC_REQUIRE(kFrameHeartbeat == 8);

  CHECK(reply_text_name(kNotFound) == "NOT_FOUND");
  CHECK(reply_text_name(kPreconditionFailed) == "PRECONDITION_FAILED");
  CHECK(reply_text_name(kAccessRefused) == "ACCESS_REFUSED");
  CHECK(reply_text_name(kNoRoute) == "NO_ROUTE");
  CHECK(reply_text_name(kReplySuccess) == "REPLY_SUCCESS");
  CHECK(reply_text_name(kInternalError) == "INTERNAL_ERROR");
  CHECK(reply_text_name(999).empty());
  CHECK(reply_text_name(kFrameMethod).empty());

  CHECK(is_hard_error(kConnectionForced));
  CHECK(is_hard_error(kFrameError));
  CHECK(is_hard_error(kNotAllowed));
  CHECK_FALSE(is_hard_error(kNotFound));
  CHECK_FALSE(is_hard_error(kPreconditionFailed));
  CHECK_FALSE(is_hard_error(kReplySuccess));
}

TEST_CASE("Golden: basic.warren-nack-delay (docs/PROTOCOL-EXTENSIONS.md)", "[methods][golden]") {
  method::BasicWarrenNackDelay m;
  m.delivery_tag = 0x0102030405060708ull;
  m.multiple = true;
  m.delay = 1500;
  CHECK(method::BasicWarrenNackDelay::kName == "basic.warren-nack-delay");
  CHECK_FALSE(method::BasicWarrenNackDelay::kSynchronous);
  CHECK_FALSE(method::BasicWarrenNackDelay::kHasContent);
  const Bytes expected = hex("003c 00fa 0102030405060708 01 000005dc");
  CHECK(to_hex(payload_of(m)) == to_hex(expected));

  Bytes frame;
  write_method_frame(frame, 5, m);
  const FrameParse p = parse_frame(frame, 0);
  REQUIRE(p.status == FrameStatus::kOk);
  const MethodDecode d = decode_method(p.frame.payload);
  REQUIRE(d.status == MethodStatus::kOk);
  CHECK(d.class_id == 60);
  CHECK(d.method_id == 250);
  const auto* back = std::get_if<method::BasicWarrenNackDelay>(&d.method);
  REQUIRE(back != nullptr);
  CHECK(*back == m);
  CHECK(method_name(60, 250) == "basic.warren-nack-delay");

  m.multiple = false;
  m.delay = 0xffffffffu;
  CHECK(to_hex(payload_of(m)) == to_hex(hex("003c 00fa 0102030405060708 00 ffffffff")));
}
