#pragma once
// AMQP 0-9-1 field tables and field values with RabbitMQ's type letters
// (its errata to the spec): t b B s u I i l f d D S x A T F V.
// Tables keep the peer's order; lookups are linear (tables are small).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace warren::protocol {

struct FieldValue;

struct Decimal {
  std::uint8_t scale = 0;
  std::uint32_t value = 0;
  friend bool operator==(const Decimal&, const Decimal&) = default;
};
// 'T': seconds since the epoch.
struct Timestamp {
  std::uint64_t seconds = 0;
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};
// 'x': raw bytes, kept apart from 'S' so they round-trip with their type.
struct ByteArray {
  std::string bytes;
  friend bool operator==(const ByteArray&, const ByteArray&) = default;
};
// 'V'
struct Void {
  friend bool operator==(const Void&, const Void&) = default;
};

struct FieldEntry;
using FieldTable = std::vector<FieldEntry>;
using FieldArray = std::vector<FieldValue>;

struct FieldValue {
  // Alternatives in type-letter order: V t b B s u I i l f d D S x T A F.
  using Variant = std::variant<Void, bool, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t,
                               std::int32_t, std::uint32_t, std::int64_t, float, double, Decimal,
                               std::string, ByteArray, Timestamp, FieldArray, FieldTable>;
  Variant value;

  FieldValue() = default;
  // Implicit on purpose, so tables read like literals: {{"count", 1}}.
  template <typename T, typename = std::enable_if_t<std::is_constructible_v<Variant, T&&>>>
  FieldValue(T&& v) : value(std::forward<T>(v)) {}  // NOLINT(google-explicit-constructor)

  // Any integer alternative (b B s u I i l, and t as 0/1) as int64.
  std::optional<std::int64_t> as_int() const;
  // 'S' (longstr) only.
  const std::string* as_string() const;
  std::optional<bool> as_bool() const;
  const FieldTable* as_table() const;
  const FieldArray* as_array() const;
  // The RabbitMQ type letter of the held alternative.
  char type_letter() const;

  friend bool operator==(const FieldValue&, const FieldValue&);
};

struct FieldEntry {
  std::string name;
  FieldValue value;
  friend bool operator==(const FieldEntry&, const FieldEntry&) = default;
};

// The first entry named `name`, or null.
const FieldValue* find_field(const FieldTable& table, std::string_view name);
// Sets `name` to `value`, replacing an existing entry in place or appending.
void set_field(FieldTable& table, std::string_view name, FieldValue value);

}  // namespace warren::protocol
