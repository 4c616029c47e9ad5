#include "sender_selected.hpp"

#include <algorithm>
#include <string_view>

#include "warren/protocol/properties.hpp"

namespace warren::broker {

namespace {

void append_strings(const protocol::FieldTable& headers, std::string_view name,
                    std::vector<std::string>& out) {
  const protocol::FieldValue* v = protocol::find_field(headers, name);
  const protocol::FieldArray* keys = v != nullptr ? v->as_array() : nullptr;
  if (keys == nullptr) return;
  for (const protocol::FieldValue& key : *keys) {
    if (const std::string* s = key.as_string()) out.push_back(*s);
  }
}

}  // namespace

bool may_have_cc(const protocol::Bytes& properties) {
  // Header names are shortstrs: the length byte then the name.
  static constexpr std::string_view kCc(
      "\x02"
      "CC",
      3);
  static constexpr std::string_view kBcc(
      "\x03"
      "BCC",
      4);
  const auto* begin = reinterpret_cast<const char*>(properties.data());
  const std::string_view bytes(begin, properties.size());
  return bytes.find(kCc) != std::string_view::npos || bytes.find(kBcc) != std::string_view::npos;
}

std::vector<std::string> cc_keys(const protocol::FieldTable& headers) {
  std::vector<std::string> out;
  append_strings(headers, "CC", out);
  return out;
}

std::vector<std::string> take_sender_selected_keys(MessagePtr& message) {
  std::vector<std::string> keys;
  if (!may_have_cc(message->properties)) return keys;
  protocol::BasicProperties props;
  if (!protocol::decode_properties(message->properties, props) || !props.headers) return keys;
  append_strings(*props.headers, "CC", keys);
  append_strings(*props.headers, "BCC", keys);
  auto bcc = std::find_if(props.headers->begin(), props.headers->end(),
                          [](const protocol::FieldEntry& e) { return e.name == "BCC"; });
  if (bcc == props.headers->end()) return keys;
  props.headers->erase(bcc);
  message = copy_with_properties(*message, props);
  return keys;
}

}  // namespace warren::broker
