#pragma once
// Comparisons of AMQP field values the way RabbitMQ makes them. Two notions:
//  - identity: a binding's arguments are part of its identity (RabbitMQ keys
//    bindings by exact Erlang terms, so the type counts: 'I' 1 differs from
//    'l' 1);
//  - headers matching: rabbit_exchange_type_headers compares values with
//    Erlang's ==, which ignores the AMQP type (1 == 1.0, 'S' "a" == 'x' "a").

#include <cstddef>

#include "warren/protocol/field_table.hpp"
#include "warren/routing/binding_table.hpp"

namespace warren::routing::detail {

// The RabbitMQ type letter of the value's alternative (V t b B s u I i l f d D S x T A F).
char type_letter(const protocol::FieldValue& value);

// Same type letter and same value. Floats compare by value, except that NaN
// is identical to NaN so that a binding holding one can still be removed.
bool identical(const protocol::FieldValue& a, const protocol::FieldValue& b);
bool identical(const protocol::FieldTable& a, const protocol::FieldTable& b);
// Consistent with identical().
std::size_t identity_hash(const protocol::FieldValue& value);
std::size_t identity_hash(const protocol::FieldTable& table);

// Binding identity: destination, routing key and (sorted) arguments.
bool identical(const Binding& a, const Binding& b);
std::size_t identity_hash(const Binding& binding);

// Erlang's == on the terms RabbitMQ decodes the two values to: at top level
// the AMQP type is ignored (integers of any width, timestamps and floats
// compare numerically and exactly; 'S' and 'x' compare as bytes; an empty
// array equals an empty table); inside arrays and tables, element types must
// match as well.
bool erlang_equal(const protocol::FieldValue& a, const protocol::FieldValue& b);

// RabbitMQ keeps binding arguments and message headers sorted by name
// (lists:keysort, stable, byte-wise) and both its identity and its headers
// matching depend on that order.
bool is_sorted_by_name(const protocol::FieldTable& table);
void sort_by_name(protocol::FieldTable& table);

// Arguments in the order RabbitMQ stores them.
protocol::FieldTable sorted_by_name(const protocol::FieldTable& table);

}  // namespace warren::routing::detail
