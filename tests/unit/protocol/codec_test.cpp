#include "warren/protocol/codec.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "test_util.hpp"

using namespace warren::protocol;
using test::hex;
using test::to_hex;

TEST_CASE("Encoder writes big-endian primitives", "[codec]") {
  Bytes out;
  Encoder enc(out);
  enc.u8(0xAB);
  enc.u16(0x1234);
  enc.u32(0xDEADBEEF);
  enc.u64(0x0102030405060708ull);
  enc.shortstr("hi");
  enc.longstr(std::string("a\0b", 3));
  enc.bytes(std::string_view("xy"));
  const Bytes raw = {0x01, 0x02};
  enc.bytes(raw);
  CHECK(to_hex(out) == to_hex(hex("ab 1234 deadbeef 0102030405060708 02 6869 00000003 610062 "
                                  "7879 0102")));
  CHECK(enc.size() == out.size());
  enc.patch_u32(1, 0xCAFEBABE);
  CHECK(to_hex(std::span(out).subspan(1, 4)) == "ca fe ba be");
}

TEST_CASE("Encoder writes empty and maximal shortstr", "[codec]") {
  Bytes out;
  Encoder enc(out);
  enc.shortstr("");
  enc.shortstr(std::string(255, 'z'));
  REQUIRE(out.size() == 1 + 1 + 255);
  CHECK(out[0] == 0);
  CHECK(out[1] == 255);
}

TEST_CASE("Decoder reads what Encoder wrote", "[codec]") {
  Bytes out;
  Encoder enc(out);
  enc.u8(7);
  enc.u16(65535);
  enc.u32(0x80000000u);
  enc.u64(~0ull);
  enc.shortstr(std::string(255, 'q'));
  enc.longstr(std::string(70000, 'L'));
  Decoder dec(out);
  CHECK(dec.u8() == 7);
  CHECK(dec.u16() == 65535);
  CHECK(dec.u32() == 0x80000000u);
  CHECK(dec.u64() == ~0ull);
  CHECK(dec.shortstr() == std::string(255, 'q'));
  CHECK(dec.longstr() == std::string(70000, 'L'));
  CHECK_FALSE(dec.failed());
  CHECK(dec.remaining() == 0);
  CHECK(dec.position() == out.size());
}

TEST_CASE("Decoder failure is sticky and yields zero values", "[codec]") {
  const Bytes in = hex("01 02 03");
  Decoder dec(in);
  CHECK(dec.u16() == 0x0102);
  CHECK(dec.u32() == 0);  // only one byte left
  CHECK(dec.failed());
  CHECK(dec.remaining() == 0);
  CHECK(dec.u8() == 0);  // the remaining byte is not handed out after failure
  CHECK(dec.shortstr().empty());
  CHECK(dec.bytes(0).empty());
}

TEST_CASE("Decoder rejects each primitive on underflow", "[codec]") {
  const Bytes empty;
  {
    Decoder d(empty);
    d.u8();
    CHECK(d.failed());
  }
  {
    const Bytes one = hex("01");
    Decoder d(one);
    d.u16();
    CHECK(d.failed());
  }
  {
    const Bytes three = hex("010203");
    Decoder d(three);
    d.u32();
    CHECK(d.failed());
  }
  {
    const Bytes seven = hex("01020304050607");
    Decoder d(seven);
    d.u64();
    CHECK(d.failed());
  }
  {
    const Bytes s = hex("05 6162");  // shortstr claims 5 bytes, has 2
    Decoder d(s);
    CHECK(d.shortstr().empty());
    CHECK(d.failed());
  }
  {
    // A 4 GiB longstr claim must fail without trying to allocate it.
    const Bytes s = hex("ffffffff 6162");
    Decoder d(s);
    CHECK(d.longstr().empty());
    CHECK(d.failed());
  }
}

TEST_CASE("Decoder::bytes returns a view into the input", "[codec]") {
  const Bytes in = hex("0a0b0c0d");
  Decoder dec(in);
  dec.u8();
  const auto view = dec.bytes(2);
  REQUIRE(view.size() == 2);
  CHECK(view.data() == in.data() + 1);
  CHECK(dec.remaining() == 1);
  CHECK(dec.bytes(2).empty());
  CHECK(dec.failed());
}

TEST_CASE("Decoder::fail marks the decoder failed", "[codec]") {
  const Bytes in = hex("0102");
  Decoder dec(in);
  dec.fail();
  CHECK(dec.failed());
  CHECK(dec.remaining() == 0);
  CHECK(dec.u8() == 0);
}
