#pragma once
// Sender-selected distribution, as RabbitMQ: a message's `CC` and `BCC`
// headers (arrays of strings) add routing keys to its routing key. `BCC` is
// removed before the message reaches a queue; `CC` stays, and dead-lettering
// routes by it again and lists it in x-death's routing-keys.

#include <string>
#include <vector>

#include "message.hpp"
#include "warren/protocol/field_table.hpp"

namespace warren::broker {

// Cheap test on the encoded properties: may they carry CC or BCC?
bool may_have_cc(const protocol::Bytes& properties);

// The CC keys in `headers` (strings of the CC array; anything else ignored).
std::vector<std::string> cc_keys(const protocol::FieldTable& headers);

// The extra routing keys of `message` (CC then BCC). When it has BCC,
// `message` is replaced by a copy without that header.
std::vector<std::string> take_sender_selected_keys(MessagePtr& message);

}  // namespace warren::broker
