#include "warren/protocol/frame.hpp"

#include <catch2/catch.hpp>

#include "test_util.hpp"

using namespace warren::protocol;
using test::hex;
using test::to_hex;

namespace {

// A method frame on channel 5 with a 4-byte payload.
Bytes small_frame() {
  return hex("01 0005 00000004 0a0b0c0d ce");
}

// Just a frame header declaring `size` payload bytes.
Bytes header_only(std::uint8_t type, std::uint32_t size) {
  Bytes out;
  Encoder enc(out);
  enc.u8(type);
  enc.u16(1);
  enc.u32(size);
  return out;
}

}  // namespace

TEST_CASE("parse_frame parses a complete frame", "[frame]") {
  const Bytes in = small_frame();
  const FrameParse p = parse_frame(in, 4096);
  REQUIRE(p.status == FrameStatus::kOk);
  CHECK(p.consumed == in.size());
  CHECK(p.frame.type == FrameType::kMethod);
  CHECK(p.frame.channel == 5);
  CHECK(to_hex(p.frame.payload) == "0a 0b 0c 0d");
  CHECK(p.frame.payload.data() == in.data() + kFrameHeaderSize);
}

TEST_CASE("parse_frame needs more for every proper prefix", "[frame]") {
  const Bytes in = small_frame();
  for (std::size_t n = 0; n < in.size(); ++n) {
    INFO("prefix " << n);
    const FrameParse p = parse_frame(std::span(in).first(n), 4096);
    CHECK(p.status == FrameStatus::kNeedMore);
    CHECK(p.consumed == 0);
  }
}

TEST_CASE("parse_frame consumes one frame at a time", "[frame]") {
  Bytes in = small_frame();
  const Bytes second = hex("08 0000 00000000 ce");
  in.insert(in.end(), second.begin(), second.end());
  in.push_back(0x03);  // start of a third, incomplete frame
  FrameParse p = parse_frame(in, 4096);
  REQUIRE(p.status == FrameStatus::kOk);
  std::span<const std::uint8_t> rest = std::span(in).subspan(p.consumed);
  p = parse_frame(rest, 4096);
  REQUIRE(p.status == FrameStatus::kOk);
  CHECK(p.frame.type == FrameType::kHeartbeat);
  CHECK(p.frame.payload.empty());
  rest = rest.subspan(p.consumed);
  CHECK(parse_frame(rest, 4096).status == FrameStatus::kNeedMore);
}

TEST_CASE("parse_frame rejects an oversize frame before its payload arrives", "[frame]") {
  constexpr std::uint32_t kMax = 4096;
  SECTION("one byte over frame_max, header only") {
    const Bytes in = header_only(1, kMax - kFrameOverhead + 1);
    CHECK(parse_frame(in, kMax).status == FrameStatus::kTooLarge);
  }
  SECTION("a 4 GiB claim") {
    const Bytes in = header_only(3, 0xFFFFFFFFu);
    CHECK(parse_frame(in, kMax).status == FrameStatus::kTooLarge);
  }
  SECTION("exactly frame_max waits for and accepts the payload") {
    const Bytes head = header_only(3, kMax - kFrameOverhead);
    CHECK(parse_frame(head, kMax).status == FrameStatus::kNeedMore);
    Bytes full = head;
    full.resize(head.size() + kMax - kFrameOverhead, 0x55);
    full.push_back(kFrameEnd);
    REQUIRE(full.size() == kMax);
    const FrameParse p = parse_frame(full, kMax);
    REQUIRE(p.status == FrameStatus::kOk);
    CHECK(p.consumed == kMax);
    CHECK(p.frame.payload.size() == kMax - kFrameOverhead);
  }
  SECTION("frame_max 0 means no limit") {
    const Bytes in = header_only(3, 0xFFFFFFFFu);
    CHECK(parse_frame(in, 0).status == FrameStatus::kNeedMore);
  }
}

TEST_CASE("parse_frame rejects a bad frame-end octet", "[frame]") {
  Bytes in = small_frame();
  in.back() = 0xCD;
  CHECK(parse_frame(in, 4096).status == FrameStatus::kBadFrameEnd);
}

TEST_CASE("parse_frame rejects unknown frame types at once", "[frame]") {
  for (int t : {0, 4, 5, 7, 9, 0x41 /* 'A' */, 0xCE, 0xFF}) {
    const auto type = static_cast<std::uint8_t>(t);
    INFO("type " << int(type));
    const Bytes one{type};
    CHECK(parse_frame(one, 4096).status == FrameStatus::kBadType);
    Bytes in = small_frame();
    in[0] = type;
    CHECK(parse_frame(in, 4096).status == FrameStatus::kBadType);
  }
  // A client that repeats the protocol header mid-stream.
  const Bytes hdr(std::begin(kProtocolHeader), std::end(kProtocolHeader));
  CHECK(parse_frame(hdr, 4096).status == FrameStatus::kBadType);
}

TEST_CASE("write_heartbeat_frame", "[frame]") {
  Bytes out{0x99};
  write_heartbeat_frame(out);
  CHECK(to_hex(out) == to_hex(hex("99 08 0000 00000000 ce")));
}

TEST_CASE("begin_frame and end_frame patch the size", "[frame]") {
  Bytes out;
  const std::size_t at = begin_frame(out, FrameType::kBody, 0x0102);
  Encoder enc(out);
  enc.bytes(std::string_view("abc"));
  end_frame(out, at);
  CHECK(to_hex(out) == to_hex(hex("03 0102 00000003 616263 ce")));
}

TEST_CASE("write_content_header_frame", "[frame]") {
  Bytes out;
  const Bytes props = hex("9000 0a 746578742f706c61696e 02");
  write_content_header_frame(out, 1, 60, 5, props);
  CHECK(to_hex(out) == to_hex(hex("02 0001 0000001a 003c 0000 0000000000000005 "
                                  "9000 0a 746578742f706c61696e 02 ce")));
}

TEST_CASE("write_body_frames splits at frame_max", "[frame]") {
  Bytes body(10);
  for (std::size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<std::uint8_t>(i);
  SECTION("uneven split") {
    Bytes out;
    write_body_frames(out, 3, body, kFrameOverhead + 4);
    CHECK(to_hex(out) == to_hex(hex("03 0003 00000004 00010203 ce"
                                    "03 0003 00000004 04050607 ce"
                                    "03 0003 00000002 0809 ce")));
  }
  SECTION("exact multiple") {
    Bytes out;
    write_body_frames(out, 3, body, kFrameOverhead + 5);
    CHECK(out.size() == 2 * (kFrameOverhead + 5));
  }
  SECTION("fits in one frame; frame_max 0 is unlimited") {
    for (std::uint32_t max : {0u, 4096u, static_cast<std::uint32_t>(kFrameOverhead + 10)}) {
      Bytes out;
      write_body_frames(out, 3, body, max);
      CHECK(out.size() == body.size() + kFrameOverhead);
    }
  }
  SECTION("empty body writes nothing") {
    Bytes out;
    write_body_frames(out, 3, {}, 4096);
    CHECK(out.empty());
  }
  SECTION("frames reassemble under parse_frame") {
    Bytes big(100000);
    for (std::size_t i = 0; i < big.size(); ++i)
      big[i] = static_cast<std::uint8_t>(i * 7);
    Bytes out;
    write_body_frames(out, 9, big, kFrameMinSize);
    Bytes joined;
    std::span<const std::uint8_t> rest(out);
    int frames = 0;
    while (!rest.empty()) {
      const FrameParse p = parse_frame(rest, kFrameMinSize);
      REQUIRE(p.status == FrameStatus::kOk);
      CHECK(p.frame.type == FrameType::kBody);
      CHECK(p.frame.channel == 9);
      CHECK(p.consumed <= kFrameMinSize);
      joined.insert(joined.end(), p.frame.payload.begin(), p.frame.payload.end());
      rest = rest.subspan(p.consumed);
      ++frames;
    }
    CHECK(joined == big);
    CHECK(frames == static_cast<int>((big.size() + kFrameMinSize - kFrameOverhead - 1) /
                                     (kFrameMinSize - kFrameOverhead)));
  }
}
