#pragma once
// The built-in exchange types, each with RabbitMQ 3.10's semantics. Usually
// reached through ExchangeTypeRegistry::builtin(); exposed for direct use and
// tests. Every table identifies a binding by (destination, routing key,
// arguments), with arguments compared after a stable sort by name and with
// their types (so 'I' 1 and 'l' 1 are different bindings), as RabbitMQ does.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warren/protocol/field_table.hpp"
#include "warren/routing/binding_table.hpp"

namespace warren::routing {

// direct: a binding matches when its routing key equals the message's.
std::unique_ptr<BindingTable> make_direct_table();

// fanout: every binding matches; keys and arguments are ignored.
std::unique_ptr<BindingTable> make_fanout_table();

// topic: binding keys are patterns of '.'-separated words in which "*"
// matches exactly one word and "#" zero or more. Empty words are words
// ("a..b" has three), except that the empty key has none: "" matches only
// the patterns "" and "#", "#.#", ... (rabbit_exchange_type_topic's
// split_topic_key).
std::unique_ptr<BindingTable> make_topic_table();

// headers: the routing key is ignored; a binding's arguments are matched
// against the message headers (none = an empty table) per "x-match":
//   all (also when absent or invalid) / any: arguments named "x-..." are
//   ignored; all-with-x / any-with-x: only "x-match" itself is ignored.
// An argument of type void ('V') matches a header of that name with any
// value; others match by Erlang ==: integer types, timestamps and floats
// compare numerically ('I' 1 matches 'l' 1 and 'd' 1.0), 'S' and 'x' as
// bytes, other types need the same type. 'all' with nothing to match
// matches every message; 'any' with nothing to match matches none.
std::unique_ptr<BindingTable> make_headers_table();

// RabbitMQ's validation of headers binding arguments: null when valid,
// otherwise the reason (a broker sends it with PRECONDITION_FAILED).
std::optional<std::string> validate_headers_binding(const protocol::FieldTable& arguments);

// Splits a topic routing key or pattern into its words, as RabbitMQ does:
// on every '.', with "" having no words.
void split_topic_key(std::string_view key, std::vector<std::string_view>& words);

}  // namespace warren::routing
