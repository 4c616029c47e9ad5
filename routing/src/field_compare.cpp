#include "field_compare.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string_view>
#include <type_traits>
#include <variant>

namespace warren::routing::detail {
namespace {

using protocol::ByteArray;
using protocol::Decimal;
using protocol::FieldArray;
using protocol::FieldTable;
using protocol::FieldValue;
using protocol::Timestamp;
using protocol::Void;

// Indexed like FieldValue::Variant.
constexpr std::string_view kTypeLetters = "VtbBsuIilfdDSxTAF";
static_assert(kTypeLetters.size() == std::variant_size_v<FieldValue::Variant>);

std::size_t mix(std::uint64_t x) {
  // splitmix64's finaliser: cheap and spreads every input bit.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<std::size_t>(x);
}

std::size_t combine(std::size_t seed, std::size_t value) {
  return seed ^ (mix(value) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

std::size_t hash_bytes(std::string_view bytes) {
  return std::hash<std::string_view>{}(bytes);
}

std::size_t hash_double(double d) {
  if (std::isnan(d)) return 0x7ff8;
  if (d == 0.0) return 0;  // 0.0 and -0.0 are identical
  return std::bit_cast<std::uint64_t>(d);
}

bool same_double(double a, double b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

template <typename T>
constexpr bool kIsInteger = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// --- Erlang terms -----------------------------------------------------------

// A number as Erlang holds it: an (unbounded) integer or a double. Only
// timestamps ('T', uint64) can exceed int64.
struct Number {
  enum class Kind { kSigned, kUnsigned, kFloat } kind = Kind::kSigned;
  std::int64_t s = 0;
  std::uint64_t u = 0;
  double f = 0;
};

std::optional<Number> as_number(const FieldValue& value) {
  return std::visit(
      [](const auto& v) -> std::optional<Number> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (kIsInteger<T>) {
          return Number{Number::Kind::kSigned, static_cast<std::int64_t>(v), 0, 0};
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          if (v.seconds <= static_cast<std::uint64_t>(INT64_MAX)) {
            return Number{Number::Kind::kSigned, static_cast<std::int64_t>(v.seconds), 0, 0};
          }
          return Number{Number::Kind::kUnsigned, 0, v.seconds, 0};
        } else if constexpr (std::is_floating_point_v<T>) {
          return Number{Number::Kind::kFloat, 0, 0, static_cast<double>(v)};
        } else {
          return std::nullopt;
        }
      },
      value.value);
}

// Exact: Erlang compares an integer and a float by their mathematical values.
bool integer_equals_double(const Number& integer, double d) {
  if (!std::isfinite(d) || std::trunc(d) != d) return false;
  constexpr double kTwo63 = 9223372036854775808.0;
  if (integer.kind == Number::Kind::kSigned) {
    if (d < -kTwo63 || d >= kTwo63) return false;
    return static_cast<std::int64_t>(d) == integer.s;
  }
  if (d < kTwo63 || d >= 2 * kTwo63) return false;
  return static_cast<std::uint64_t>(d) == integer.u;
}

bool numbers_equal(const Number& a, const Number& b) {
  using Kind = Number::Kind;
  if (a.kind == Kind::kFloat && b.kind == Kind::kFloat) return a.f == b.f;
  if (a.kind == Kind::kFloat) return integer_equals_double(b, a.f);
  if (b.kind == Kind::kFloat) return integer_equals_double(a, b.f);
  if (a.kind != b.kind) return false;  // an unsigned one is above INT64_MAX
  return a.kind == Kind::kSigned ? a.s == b.s : a.u == b.u;
}

// 'S' and 'x' both decode to Erlang binaries.
const std::string* as_binary(const FieldValue& value) {
  if (const auto* s = std::get_if<std::string>(&value.value)) return s;
  if (const auto* x = std::get_if<ByteArray>(&value.value)) return &x->bytes;
  return nullptr;
}

// Arrays and tables both decode to Erlang lists.
bool is_empty_list(const FieldValue& value) {
  if (const auto* a = std::get_if<FieldArray>(&value.value)) return a->empty();
  if (const auto* t = std::get_if<FieldTable>(&value.value)) return t->empty();
  return false;
}

// Inside arrays ({Type, Value}) and tables ({Name, Type, Value}) the type
// atom is part of the term, so element types must agree.
bool erlang_equal_typed(const FieldValue& a, const FieldValue& b) {
  return a.value.index() == b.value.index() && erlang_equal(a, b);
}

}  // namespace

char type_letter(const FieldValue& value) {
  return kTypeLetters[value.value.index()];
}

bool identical(const FieldValue& a, const FieldValue& b) {
  if (a.value.index() != b.value.index()) return false;
  return std::visit(
      [&b](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b.value);
        if constexpr (std::is_floating_point_v<T>) {
          return same_double(x, y);
        } else if constexpr (std::is_same_v<T, FieldArray>) {
          return std::equal(
              x.begin(), x.end(), y.begin(), y.end(),
              [](const FieldValue& p, const FieldValue& q) { return identical(p, q); });
        } else if constexpr (std::is_same_v<T, FieldTable>) {
          return identical(x, y);
        } else {
          return x == y;
        }
      },
      a.value);
}

bool identical(const FieldTable& a, const FieldTable& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const protocol::FieldEntry& p, const protocol::FieldEntry& q) {
                      return p.name == q.name && identical(p.value, q.value);
                    });
}

std::size_t identity_hash(const FieldValue& value) {
  const std::size_t seed = value.value.index();
  return std::visit(
      [seed](const auto& v) -> std::size_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Void>) {
          return mix(seed);
        } else if constexpr (std::is_same_v<T, bool> || kIsInteger<T>) {
          return combine(seed, static_cast<std::uint64_t>(v));
        } else if constexpr (std::is_floating_point_v<T>) {
          return combine(seed, hash_double(v));
        } else if constexpr (std::is_same_v<T, Decimal>) {
          return combine(combine(seed, v.scale), v.value);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return combine(seed, hash_bytes(v));
        } else if constexpr (std::is_same_v<T, ByteArray>) {
          return combine(seed, hash_bytes(v.bytes));
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return combine(seed, v.seconds);
        } else if constexpr (std::is_same_v<T, FieldArray>) {
          std::size_t h = mix(seed);
          for (const FieldValue& element : v)
            h = combine(h, identity_hash(element));
          return h;
        } else {
          static_assert(std::is_same_v<T, FieldTable>);
          return combine(seed, identity_hash(v));
        }
      },
      value.value);
}

std::size_t identity_hash(const FieldTable& table) {
  std::size_t h = mix(table.size());
  for (const protocol::FieldEntry& entry : table) {
    h = combine(h, hash_bytes(entry.name));
    h = combine(h, identity_hash(entry.value));
  }
  return h;
}

bool identical(const Binding& a, const Binding& b) {
  return a.destination == b.destination && a.routing_key == b.routing_key &&
         identical(a.arguments, b.arguments);
}

std::size_t identity_hash(const Binding& binding) {
  std::size_t h = mix(static_cast<std::uint64_t>(binding.destination.kind));
  h = combine(h, binding.destination.id);
  h = combine(h, hash_bytes(binding.routing_key));
  return combine(h, identity_hash(binding.arguments));
}

bool erlang_equal(const FieldValue& a, const FieldValue& b) {
  if (auto x = as_number(a)) {
    auto y = as_number(b);
    return y && numbers_equal(*x, *y);
  }
  if (const std::string* x = as_binary(a)) {
    const std::string* y = as_binary(b);
    return y && *x == *y;
  }
  if (is_empty_list(a) || is_empty_list(b)) return is_empty_list(a) && is_empty_list(b);
  if (a.value.index() != b.value.index()) return false;
  return std::visit(
      [&b](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b.value);
        if constexpr (std::is_same_v<T, FieldArray>) {
          return std::equal(x.begin(), x.end(), y.begin(), y.end(), erlang_equal_typed);
        } else if constexpr (std::is_same_v<T, FieldTable>) {
          return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                            [](const protocol::FieldEntry& p, const protocol::FieldEntry& q) {
                              return p.name == q.name && erlang_equal_typed(p.value, q.value);
                            });
        } else {
          // Void (undefined), bool (atoms) and Decimal ({Scale, Value}).
          return x == y;
        }
      },
      a.value);
}

bool is_sorted_by_name(const FieldTable& table) {
  return std::is_sorted(table.begin(), table.end(),
                        [](const auto& x, const auto& y) { return x.name < y.name; });
}

void sort_by_name(FieldTable& table) {
  std::stable_sort(table.begin(), table.end(),
                   [](const auto& x, const auto& y) { return x.name < y.name; });
}

FieldTable sorted_by_name(const FieldTable& table) {
  FieldTable copy = table;
  sort_by_name(copy);
  return copy;
}

}  // namespace warren::routing::detail
