#include "warren/client/message.hpp"

namespace warren::client {

Message& Message::header(std::string_view name, FieldValue value) {
  if (!properties.headers) properties.headers.emplace();
  protocol::set_field(*properties.headers, name, std::move(value));
  return *this;
}

const FieldValue* Delivery::header(std::string_view name) const {
  if (!properties.headers) return nullptr;
  return protocol::find_field(*properties.headers, name);
}

std::int64_t Delivery::delivery_count() const {
  const FieldValue* v = header("x-delivery-count");
  return v ? v->as_int().value_or(0) : 0;
}

std::vector<DeathRecord> Delivery::deaths() const {
  std::vector<DeathRecord> out;
  const FieldValue* v = header("x-death");
  const protocol::FieldArray* arr = v ? v->as_array() : nullptr;
  if (arr == nullptr) return out;
  for (const FieldValue& entry : *arr) {
    const protocol::FieldTable* t = entry.as_table();
    if (t == nullptr) continue;
    DeathRecord r;
    auto str = [&](std::string_view name) {
      const FieldValue* f = protocol::find_field(*t, name);
      const std::string* s = f ? f->as_string() : nullptr;
      return s ? *s : std::string();
    };
    r.queue = str("queue");
    r.reason = str("reason");
    r.exchange = str("exchange");
    if (const FieldValue* c = protocol::find_field(*t, "count")) r.count = c->as_int().value_or(0);
    if (const FieldValue* keys = protocol::find_field(*t, "routing-keys")) {
      if (const protocol::FieldArray* ka = keys->as_array()) {
        for (const FieldValue& k : *ka) {
          if (const std::string* s = k.as_string()) r.routing_keys.push_back(*s);
        }
      }
    }
    if (const FieldValue* time = protocol::find_field(*t, "time")) {
      if (const auto* ts = std::get_if<protocol::Timestamp>(&time->value)) r.time = ts->seconds;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace warren::client
