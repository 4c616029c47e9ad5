#pragma once
// AMQP field tables and message properties to and from the JSON the
// management API uses (as rabbit_mgmt_format: tables become objects, arrays
// arrays, timestamps and decimals numbers, byte arrays strings).

#include <optional>
#include <string>

#include "admin/api.hpp"
#include "warren/protocol/field_table.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::admin {

json to_json(const protocol::FieldValue& value);
json to_json(const protocol::FieldTable& table);
json to_json(const protocol::BasicProperties& properties);

// JSON -> field table for x-arguments and headers: strings 'S', integers
// 'l', floats 'd', booleans 't', null 'V', arrays 'A', objects 'F'.
// Throws 400 when `value` is not an object.
protocol::FieldTable to_field_table(const json& value);
// The "properties" object of a publish. Throws 400 on a wrong type.
protocol::BasicProperties to_properties(const json& value);

// Whether `bytes` is valid UTF-8 (the "auto" payload encoding).
bool is_utf8(std::string_view bytes);

}  // namespace warren::admin
