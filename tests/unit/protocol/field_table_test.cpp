#include "warren/protocol/field_table.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "test_util.hpp"
#include "warren/protocol/codec.hpp"

using namespace warren::protocol;
using test::hex;
using test::to_hex;

namespace {

FieldTable every_type_table() {
  return FieldTable{
      {"a", true},
      {"b", std::int8_t{-2}},
      {"c", std::uint8_t{200}},
      {"d", std::int16_t{-300}},
      {"e", std::uint16_t{60000}},
      {"f", std::int32_t{-70000}},
      {"g", std::uint32_t{3000000000u}},
      {"h", std::int64_t{-5}},
      {"i", 1.5f},
      {"j", -2.25},
      {"k", Decimal{2, 12345}},
      {"l", std::string("hi")},
      {"m", ByteArray{std::string("\0\xff", 2)}},
      {"n", Timestamp{1700000000}},
      {"o", FieldArray{std::int32_t{1}, std::string("x")}},
      {"p", FieldTable{{"q", Void{}}}},
      {"r", Void{}},
  };
}

// Computed by hand from RabbitMQ's type letters (and checked against Python's
// struct module), independently of the encoder.
const char* const kEveryTypeBody =
    "01 61 74 01"
    "01 62 62 fe"
    "01 63 42 c8"
    "01 64 73 fed4"
    "01 65 75 ea60"
    "01 66 49 fffeee90"
    "01 67 69 b2d05e00"
    "01 68 6c fffffffffffffffb"
    "01 69 66 3fc00000"
    "01 6a 64 c002000000000000"
    "01 6b 44 02 00003039"
    "01 6c 53 00000002 6869"
    "01 6d 78 00000002 00ff"
    "01 6e 54 000000006553f100"
    "01 6f 41 0000000b 49 00000001 53 00000001 78"
    "01 70 46 00000003 01 71 56"
    "01 72 56";

Bytes encode_table(const FieldTable& t) {
  Bytes out;
  Encoder enc(out);
  enc.table(t);
  return out;
}

Bytes with_length(const Bytes& body) {
  Bytes out;
  Encoder enc(out);
  enc.u32(static_cast<std::uint32_t>(body.size()));
  enc.bytes(body);
  return out;
}

}  // namespace

TEST_CASE("Every field type encodes to the known bytes", "[field_table]") {
  const Bytes expected = with_length(hex(kEveryTypeBody));
  CHECK(to_hex(encode_table(every_type_table())) == to_hex(expected));
}

TEST_CASE("Every field type decodes from the known bytes", "[field_table]") {
  const Bytes in = with_length(hex(kEveryTypeBody));
  Decoder dec(in);
  const FieldTable t = dec.table();
  REQUIRE_FALSE(dec.failed());
  CHECK(dec.remaining() == 0);
  CHECK(t == every_type_table());
}

TEST_CASE("Type letters follow RabbitMQ's errata", "[field_table]") {
  const FieldTable t = every_type_table();
  std::string letters;
  for (const FieldEntry& e : t)
    letters += e.value.type_letter();
  CHECK(letters == "tbBsuIilfdDSxTAFV");
}

TEST_CASE("Nested tables and arrays round-trip", "[field_table]") {
  FieldTable inner = every_type_table();
  FieldArray arr{FieldValue(inner), FieldArray{FieldArray{}, FieldTable{}}, Void{}, 1.0};
  const FieldTable t{
      {"x-death", FieldArray{FieldTable{{"count", std::int64_t{3}},
                                        {"routing-keys", FieldArray{std::string("rk")}}}}},
      {"deep", FieldTable{{"arr", arr}, {"empty", FieldTable{}}}},
      {"dup", std::int32_t{1}},
      {"dup", std::int32_t{2}},  // duplicates keep their order
  };
  const Bytes enc = encode_table(t);
  Decoder dec(enc);
  const FieldTable back = dec.table();
  REQUIRE_FALSE(dec.failed());
  CHECK(dec.remaining() == 0);
  CHECK(back == t);
}

TEST_CASE("Empty table is four zero bytes", "[field_table]") {
  CHECK(to_hex(encode_table({})) == "00 00 00 00");
  const Bytes in = hex("00000000");
  Decoder dec(in);
  CHECK(dec.table().empty());
  CHECK_FALSE(dec.failed());
}

TEST_CASE("Malformed tables fail", "[field_table]") {
  SECTION("unknown type letter") {
    const Bytes in = with_length(hex("01 61 5a 00"));  // 'Z'
    Decoder dec(in);
    dec.table();
    CHECK(dec.failed());
  }
  SECTION("letters from the 0-9-1 spec that RabbitMQ does not use") {
    for (const char* body : {"01 61 55 0001", "01 61 4c 0000000000000001", "01 61 4e"}) {
      const Bytes in = with_length(hex(body));  // 'U', 'L', 'N'
      Decoder dec(in);
      dec.table();
      CHECK(dec.failed());
    }
  }
  SECTION("declared length overruns the input") {
    const Bytes in = hex("00000064 01 61 56");
    Decoder dec(in);
    dec.table();
    CHECK(dec.failed());
  }
  SECTION("an entry overruns the declared length though the input goes on") {
    // Table says 4 bytes; the 'I' value needs 4 more, present after the table.
    const Bytes in = hex("00000004 01 61 49 00 000005");
    Decoder dec(in);
    dec.table();
    CHECK(dec.failed());
  }
  SECTION("array length overruns its table") {
    const Bytes in = with_length(hex("01 61 41 000000ff 56"));
    Decoder dec(in);
    dec.table();
    CHECK(dec.failed());
  }
  SECTION("truncated at every length") {
    const Bytes full = with_length(hex(kEveryTypeBody));
    for (std::size_t n = 0; n < full.size(); ++n) {
      Decoder dec{std::span<const std::uint8_t>(full).first(n)};
      dec.table();
      INFO("length " << n);
      CHECK(dec.failed());
    }
  }
}

TEST_CASE("Table nesting is capped", "[field_table]") {
  auto nested = [](int depth) {
    FieldTable t{{"leaf", true}};
    for (int i = 1; i < depth; ++i)
      t = FieldTable{{"t", std::move(t)}};
    return t;
  };
  SECTION("64 levels decode") {
    const Bytes in = encode_table(nested(64));
    Decoder dec(in);
    CHECK(dec.table() == nested(64));
    CHECK_FALSE(dec.failed());
  }
  SECTION("65 levels fail") {
    const Bytes in = encode_table(nested(65));
    Decoder dec(in);
    dec.table();
    CHECK(dec.failed());
  }
  SECTION("arrays count toward the cap") {
    FieldValue v = true;
    for (int i = 0; i < 100; ++i)
      v = FieldArray{std::move(v)};
    Bytes in;
    Encoder enc(in);
    enc.field_value(v);
    Decoder dec(in);
    dec.field_value();
    CHECK(dec.failed());
  }
  SECTION("a hostile 100000-deep nest fails without exhausting the stack") {
    // 'F' then a length covering the rest, repeated.
    constexpr std::size_t kLevels = 100000;
    Bytes in;
    Encoder enc(in);
    for (std::size_t i = 0; i < kLevels; ++i) {
      enc.u8('F');
      enc.u32(static_cast<std::uint32_t>((kLevels - i - 1) * 5));
    }
    Decoder dec(in);
    dec.field_value();
    CHECK(dec.failed());
  }
}

TEST_CASE("FieldValue accessors", "[field_table]") {
  CHECK(FieldValue(true).as_int() == 1);
  CHECK(FieldValue(false).as_int() == 0);
  CHECK(FieldValue(std::int8_t{-1}).as_int() == -1);
  CHECK(FieldValue(std::uint8_t{255}).as_int() == 255);
  CHECK(FieldValue(std::int16_t{-2}).as_int() == -2);
  CHECK(FieldValue(std::uint16_t{65535}).as_int() == 65535);
  CHECK(FieldValue(std::int32_t{-3}).as_int() == -3);
  CHECK(FieldValue(std::uint32_t{4000000000u}).as_int() == 4000000000);
  CHECK(FieldValue(std::int64_t{-4}).as_int() == -4);
  CHECK_FALSE(FieldValue(1.0).as_int());
  CHECK_FALSE(FieldValue(std::string("5")).as_int());
  CHECK_FALSE(FieldValue(Timestamp{5}).as_int());

  const FieldValue s = std::string("text");
  REQUIRE(s.as_string() != nullptr);
  CHECK(*s.as_string() == "text");
  CHECK(FieldValue(ByteArray{"raw"}).as_string() == nullptr);

  CHECK(FieldValue(true).as_bool() == true);
  CHECK_FALSE(FieldValue(std::int32_t{1}).as_bool());

  const FieldValue t = FieldTable{{"a", true}};
  REQUIRE(t.as_table() != nullptr);
  CHECK(t.as_table()->size() == 1);
  CHECK(t.as_array() == nullptr);
  const FieldValue a = FieldArray{Void{}};
  REQUIRE(a.as_array() != nullptr);
  CHECK(a.as_table() == nullptr);

  CHECK(FieldValue().type_letter() == 'V');
  // Implicit conversions pick the obvious alternative.
  FieldValue lit = "literal";
  CHECK(lit.type_letter() == 'S');
  FieldValue num = 7;
  CHECK(num.type_letter() == 'I');
}

TEST_CASE("find_field and set_field", "[field_table]") {
  FieldTable t{{"a", std::int32_t{1}}, {"b", std::string("x")}, {"a", std::int32_t{2}}};
  REQUIRE(find_field(t, "a") != nullptr);
  CHECK(find_field(t, "a")->as_int() == 1);
  CHECK(find_field(t, "missing") == nullptr);

  set_field(t, "b", std::int64_t{9});
  CHECK(t.size() == 3);
  CHECK(t[1].name == "b");
  CHECK(t[1].value.as_int() == 9);

  set_field(t, "c", true);
  REQUIRE(t.size() == 4);
  CHECK(t[3].name == "c");
  CHECK(t[3].value.as_bool() == true);
}

TEST_CASE("FieldValue equality distinguishes types", "[field_table]") {
  CHECK(FieldValue(std::int32_t{1}) != FieldValue(std::int64_t{1}));
  CHECK(FieldValue(std::string("a")) != FieldValue(ByteArray{"a"}));
  CHECK(FieldValue(FieldTable{{"a", true}}) == FieldValue(FieldTable{{"a", true}}));
  CHECK(FieldValue(FieldTable{{"a", true}}) != FieldValue(FieldTable{{"a", false}}));
}
