#pragma once
// Big-endian primitive encoding and decoding, the building blocks of the
// generated method codec, content properties and field tables.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "warren/protocol/field_table.hpp"

namespace warren::protocol {

using Bytes = std::vector<std::uint8_t>;

// Appends to a byte vector. Never fails; shortstr longer than 255 bytes is a
// programming error (asserted).
class Encoder {
 public:
  explicit Encoder(Bytes& out) : out_(out) {}
  void u8(std::uint8_t v);
  void u16(std::uint16_t v);
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void shortstr(std::string_view s);
  void longstr(std::string_view s);
  void bytes(std::span<const std::uint8_t> b);
  void bytes(std::string_view b);
  void table(const FieldTable& t);
  void field_value(const FieldValue& v);  // type letter + value
  std::size_t size() const { return out_.size(); }
  // Overwrites 4 bytes at `offset` (for length prefixes written afterwards).
  void patch_u32(std::size_t offset, std::uint32_t v);
  Bytes& buffer() { return out_; }

 private:
  Bytes& out_;
};

// Reads from a byte span. On underflow or malformed data it sets failed() and
// returns zero values from then on; callers check failed() once at the end.
class Decoder {
 public:
  explicit Decoder(std::span<const std::uint8_t> in) : in_(in) {}
  std::uint8_t u8();
  std::uint16_t u16();
  std::uint32_t u32();
  std::uint64_t u64();
  std::string shortstr();
  std::string longstr();
  // A view into the input (no copy); empty on failure.
  std::span<const std::uint8_t> bytes(std::size_t n);
  FieldTable table();
  FieldValue field_value();  // type letter + value; unknown letter fails
  bool failed() const { return failed_; }
  void fail() { failed_ = true; }
  std::size_t remaining() const { return failed_ ? 0 : in_.size() - pos_; }
  std::size_t position() const { return pos_; }

 private:
  bool take(std::size_t n);
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  int depth_ = 0;  // nesting of tables/arrays, capped against stack abuse
};

}  // namespace warren::protocol
