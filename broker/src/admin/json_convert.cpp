#include "admin/json_convert.hpp"

#include <cmath>

namespace warren::admin {

using protocol::FieldArray;
using protocol::FieldTable;
using protocol::FieldValue;

json to_json(const FieldValue& value) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, protocol::Void>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, bool>) {
          return v;
        } else if constexpr (std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::int16_t> ||
                             std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t>) {
          return static_cast<std::int64_t>(v);
        } else if constexpr (std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t> ||
                             std::is_same_v<T, std::uint32_t>) {
          return static_cast<std::uint64_t>(v);
        } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          return static_cast<double>(v);
        } else if constexpr (std::is_same_v<T, protocol::Decimal>) {
          return static_cast<double>(v.value) / std::pow(10.0, v.scale);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, protocol::ByteArray>) {
          return v.bytes;
        } else if constexpr (std::is_same_v<T, protocol::Timestamp>) {
          return v.seconds;
        } else if constexpr (std::is_same_v<T, FieldArray>) {
          json a = json::array();
          for (const auto& item : v)
            a.push_back(to_json(item));
          return a;
        } else {
          return to_json(static_cast<const FieldTable&>(v));
        }
      },
      value.value);
}

json to_json(const FieldTable& table) {
  json o = json::object();
  for (const auto& entry : table)
    o[entry.name] = to_json(entry.value);
  return o;
}

json to_json(const protocol::BasicProperties& p) {
  json o = json::object();
  if (p.content_type) o["content_type"] = *p.content_type;
  if (p.content_encoding) o["content_encoding"] = *p.content_encoding;
  if (p.headers) o["headers"] = to_json(*p.headers);
  if (p.delivery_mode) o["delivery_mode"] = *p.delivery_mode;
  if (p.priority) o["priority"] = *p.priority;
  if (p.correlation_id) o["correlation_id"] = *p.correlation_id;
  if (p.reply_to) o["reply_to"] = *p.reply_to;
  if (p.expiration) o["expiration"] = *p.expiration;
  if (p.message_id) o["message_id"] = *p.message_id;
  if (p.timestamp) o["timestamp"] = *p.timestamp;
  if (p.type) o["type"] = *p.type;
  if (p.user_id) o["user_id"] = *p.user_id;
  if (p.app_id) o["app_id"] = *p.app_id;
  if (p.cluster_id) o["cluster_id"] = *p.cluster_id;
  return o;
}

namespace {

FieldValue to_field_value(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return protocol::Void{};
    case json::value_t::boolean:
      return v.get<bool>();
    case json::value_t::number_integer:
      return v.get<std::int64_t>();
    case json::value_t::number_unsigned:
      return static_cast<std::int64_t>(v.get<std::uint64_t>());
    case json::value_t::number_float:
      return v.get<double>();
    case json::value_t::string:
      return v.get<std::string>();
    case json::value_t::array: {
      FieldArray a;
      for (const auto& item : v)
        a.push_back(to_field_value(item));
      return a;
    }
    case json::value_t::object:
      return to_field_table(v);
    default:
      return protocol::Void{};
  }
}

}  // namespace

FieldTable to_field_table(const json& value) {
  if (value.is_null()) return {};
  if (!value.is_object()) throw bad_request(json::array({"not_object", value}));
  FieldTable table;
  for (auto it = value.begin(); it != value.end(); ++it)
    table.push_back(protocol::FieldEntry{it.key(), to_field_value(it.value())});
  return table;
}

protocol::BasicProperties to_properties(const json& value) {
  protocol::BasicProperties p;
  if (value.is_null()) return p;
  if (!value.is_object()) throw bad_request(json::array({"not_object", value}));
  auto str = [&](const char* key, std::optional<std::string>& out) {
    if (auto it = value.find(key); it != value.end() && !it->is_null()) {
      if (!it->is_string()) throw bad_request(std::string("invalid property ") + key);
      out = it->get<std::string>();
    }
  };
  auto num = [&](const char* key, std::int64_t max) -> std::optional<std::int64_t> {
    auto it = value.find(key);
    if (it == value.end() || it->is_null()) return std::nullopt;
    std::optional<std::int64_t> v;
    if (it->is_number_integer()) v = it->get<std::int64_t>();
    if (it->is_string()) {
      try {
        std::size_t used = 0;
        v = std::stoll(it->get<std::string>(), &used);
        if (used != it->get_ref<const std::string&>().size()) v.reset();
      } catch (const std::exception&) {
        v.reset();
      }
    }
    if (!v || *v < 0 || *v > max) throw bad_request(std::string("invalid property ") + key);
    return v;
  };
  str("content_type", p.content_type);
  str("content_encoding", p.content_encoding);
  str("correlation_id", p.correlation_id);
  str("reply_to", p.reply_to);
  str("message_id", p.message_id);
  str("type", p.type);
  str("user_id", p.user_id);
  str("app_id", p.app_id);
  str("cluster_id", p.cluster_id);
  if (auto it = value.find("expiration"); it != value.end() && !it->is_null()) {
    if (it->is_number_integer()) {
      p.expiration = std::to_string(it->get<std::int64_t>());
    } else {
      str("expiration", p.expiration);
    }
  }
  if (auto v = num("delivery_mode", 255)) p.delivery_mode = static_cast<std::uint8_t>(*v);
  if (auto v = num("priority", 255)) p.priority = static_cast<std::uint8_t>(*v);
  if (auto v = num("timestamp", INT64_MAX)) p.timestamp = static_cast<std::uint64_t>(*v);
  if (auto it = value.find("headers"); it != value.end() && !it->is_null()) {
    p.headers = to_field_table(*it);
  }
  return p;
}

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    if (c < 0x80) {
      n = 0;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      n = 1;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      n = 3;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace warren::admin
