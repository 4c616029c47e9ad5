#include "warren/protocol/codec.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <limits>
#include <type_traits>
#include <utility>

namespace warren::protocol {

namespace {

// Deep enough for any real header (x-death nests 3 levels), shallow enough
// that a hostile peer cannot exhaust the stack with "FFFF..." payloads.
constexpr int kMaxNesting = 64;

// Decrements the nesting counter on every exit path of table()/array parsing.
class NestingGuard {
 public:
  explicit NestingGuard(int& depth) : depth_(depth) { ++depth_; }
  ~NestingGuard() { --depth_; }
  NestingGuard(const NestingGuard&) = delete;
  NestingGuard& operator=(const NestingGuard&) = delete;
  bool too_deep() const { return depth_ > kMaxNesting; }

 private:
  int& depth_;
};

}  // namespace

// ---------------------------------------------------------------------------
// Encoder

void Encoder::u8(std::uint8_t v) {
  out_.push_back(v);
}

void Encoder::u16(std::uint16_t v) {
  const std::uint8_t b[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  out_.insert(out_.end(), b, b + 2);
}

void Encoder::u32(std::uint32_t v) {
  const std::uint8_t b[4] = {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                             static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  out_.insert(out_.end(), b, b + 4);
}

void Encoder::u64(std::uint64_t v) {
  u32(static_cast<std::uint32_t>(v >> 32));
  u32(static_cast<std::uint32_t>(v));
}

void Encoder::shortstr(std::string_view s) {
  assert(s.size() <= 255 && "shortstr longer than 255 bytes");
  // Without asserts, truncating keeps the stream well-formed.
  const std::size_t n = std::min<std::size_t>(s.size(), 255);
  u8(static_cast<std::uint8_t>(n));
  bytes(s.substr(0, n));
}

void Encoder::longstr(std::string_view s) {
  assert(s.size() <= std::numeric_limits<std::uint32_t>::max());
  u32(static_cast<std::uint32_t>(s.size()));
  bytes(s);
}

void Encoder::bytes(std::span<const std::uint8_t> b) {
  out_.insert(out_.end(), b.begin(), b.end());
}

void Encoder::bytes(std::string_view b) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(b.data());
  out_.insert(out_.end(), p, p + b.size());
}

void Encoder::table(const FieldTable& t) {
  const std::size_t at = size();
  u32(0);
  for (const FieldEntry& e : t) {
    shortstr(e.name);
    field_value(e.value);
  }
  patch_u32(at, static_cast<std::uint32_t>(size() - at - 4));
}

void Encoder::field_value(const FieldValue& v) {
  u8(static_cast<std::uint8_t>(v.type_letter()));
  std::visit(
      [this](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Void>) {
          // no payload
        } else if constexpr (std::is_same_v<T, bool>) {
          u8(x ? 1 : 0);
        } else if constexpr (std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>) {
          u8(static_cast<std::uint8_t>(x));
        } else if constexpr (std::is_same_v<T, std::int16_t> || std::is_same_v<T, std::uint16_t>) {
          u16(static_cast<std::uint16_t>(x));
        } else if constexpr (std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint32_t>) {
          u32(static_cast<std::uint32_t>(x));
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          u64(static_cast<std::uint64_t>(x));
        } else if constexpr (std::is_same_v<T, float>) {
          u32(std::bit_cast<std::uint32_t>(x));
        } else if constexpr (std::is_same_v<T, double>) {
          u64(std::bit_cast<std::uint64_t>(x));
        } else if constexpr (std::is_same_v<T, Decimal>) {
          u8(x.scale);
          u32(x.value);
        } else if constexpr (std::is_same_v<T, std::string>) {
          longstr(x);
        } else if constexpr (std::is_same_v<T, ByteArray>) {
          longstr(x.bytes);
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          u64(x.seconds);
        } else if constexpr (std::is_same_v<T, FieldArray>) {
          const std::size_t at = size();
          u32(0);
          for (const FieldValue& item : x)
            field_value(item);
          patch_u32(at, static_cast<std::uint32_t>(size() - at - 4));
        } else {
          static_assert(std::is_same_v<T, FieldTable>);
          table(x);
        }
      },
      v.value);
}

void Encoder::patch_u32(std::size_t offset, std::uint32_t v) {
  assert(offset + 4 <= out_.size());
  out_[offset] = static_cast<std::uint8_t>(v >> 24);
  out_[offset + 1] = static_cast<std::uint8_t>(v >> 16);
  out_[offset + 2] = static_cast<std::uint8_t>(v >> 8);
  out_[offset + 3] = static_cast<std::uint8_t>(v);
}

// ---------------------------------------------------------------------------
// Decoder

bool Decoder::take(std::size_t n) {
  if (failed_ || in_.size() - pos_ < n) {
    failed_ = true;
    return false;
  }
  return true;
}

std::uint8_t Decoder::u8() {
  if (!take(1)) return 0;
  return in_[pos_++];
}

std::uint16_t Decoder::u16() {
  if (!take(2)) return 0;
  const auto v = static_cast<std::uint16_t>((in_[pos_] << 8) | in_[pos_ + 1]);
  pos_ += 2;
  return v;
}

std::uint32_t Decoder::u32() {
  if (!take(4)) return 0;
  const std::uint32_t v = (std::uint32_t{in_[pos_]} << 24) | (std::uint32_t{in_[pos_ + 1]} << 16) |
                          (std::uint32_t{in_[pos_ + 2]} << 8) | std::uint32_t{in_[pos_ + 3]};
  pos_ += 4;
  return v;
}

std::uint64_t Decoder::u64() {
  const std::uint64_t hi = u32();
  const std::uint64_t lo = u32();
  return (hi << 32) | lo;
}

std::string Decoder::shortstr() {
  const std::size_t n = u8();
  const auto b = bytes(n);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string Decoder::longstr() {
  const std::size_t n = u32();
  // bytes() checks n against the input before anything is allocated.
  const auto b = bytes(n);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::span<const std::uint8_t> Decoder::bytes(std::size_t n) {
  if (!take(n)) return {};
  const auto b = in_.subspan(pos_, n);
  pos_ += n;
  return b;
}

FieldTable Decoder::table() {
  FieldTable t;
  const std::size_t len = u32();
  if (!take(len)) return t;
  NestingGuard guard(depth_);
  if (guard.too_deep()) {
    fail();
    return t;
  }
  // Narrow the input to the declared length so no entry can read past it.
  const auto outer = in_;
  in_ = in_.first(pos_ + len);
  while (!failed_ && pos_ < in_.size()) {
    FieldEntry e;
    e.name = shortstr();
    e.value = field_value();
    t.push_back(std::move(e));
  }
  in_ = outer;
  return t;
}

FieldValue Decoder::field_value() {
  const std::uint8_t letter = u8();
  if (failed_) return {};
  switch (letter) {
    case 'V':
      return Void{};
    case 't':
      return u8() != 0;
    case 'b':
      return static_cast<std::int8_t>(u8());
    case 'B':
      return u8();
    case 's':
      return static_cast<std::int16_t>(u16());
    case 'u':
      return u16();
    case 'I':
      return static_cast<std::int32_t>(u32());
    case 'i':
      return u32();
    case 'l':
      return static_cast<std::int64_t>(u64());
    case 'f':
      return std::bit_cast<float>(u32());
    case 'd':
      return std::bit_cast<double>(u64());
    case 'D': {
      Decimal d;
      d.scale = u8();
      d.value = u32();
      return d;
    }
    case 'S':
      return longstr();
    case 'x':
      return ByteArray{longstr()};
    case 'T':
      return Timestamp{u64()};
    case 'A': {
      FieldArray a;
      const std::size_t len = u32();
      if (!take(len)) return a;
      NestingGuard guard(depth_);
      if (guard.too_deep()) {
        fail();
        return a;
      }
      const auto outer = in_;
      in_ = in_.first(pos_ + len);
      while (!failed_ && pos_ < in_.size())
        a.push_back(field_value());
      in_ = outer;
      return a;
    }
    case 'F':
      return table();
    default:
      fail();
      return {};
  }
}

}  // namespace warren::protocol
