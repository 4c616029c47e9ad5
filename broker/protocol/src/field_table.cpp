#include "warren/protocol/field_table.hpp"

#include <type_traits>
#include <utility>

namespace warren::protocol {

namespace {
// Indexed by FieldValue::Variant alternative; keep in step with its order.
constexpr char kTypeLetters[] = "VtbBsuIilfdDSxTAF";
static_assert(sizeof(kTypeLetters) - 1 == std::variant_size_v<FieldValue::Variant>);
}  // namespace

std::optional<std::int64_t> FieldValue::as_int() const {
  return std::visit(
      [](const auto& v) -> std::optional<std::int64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? 1 : 0;
        } else if constexpr (std::is_integral_v<T>) {
          return static_cast<std::int64_t>(v);
        } else {
          return std::nullopt;
        }
      },
      value);
}

const std::string* FieldValue::as_string() const {
  return std::get_if<std::string>(&value);
}

std::optional<bool> FieldValue::as_bool() const {
  if (const bool* b = std::get_if<bool>(&value)) return *b;
  return std::nullopt;
}

const FieldTable* FieldValue::as_table() const {
  return std::get_if<FieldTable>(&value);
}

const FieldArray* FieldValue::as_array() const {
  return std::get_if<FieldArray>(&value);
}

char FieldValue::type_letter() const {
  return kTypeLetters[value.index()];
}

bool operator==(const FieldValue& a, const FieldValue& b) {
  return a.value == b.value;
}

const FieldValue* find_field(const FieldTable& table, std::string_view name) {
  for (const FieldEntry& e : table) {
    if (e.name == name) return &e.value;
  }
  return nullptr;
}

void set_field(FieldTable& table, std::string_view name, FieldValue value) {
  for (FieldEntry& e : table) {
    if (e.name == name) {
      e.value = std::move(value);
      return;
    }
  }
  table.push_back(FieldEntry{std::string(name), std::move(value)});
}

}  // namespace warren::protocol
