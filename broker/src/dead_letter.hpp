#pragma once
// Dead-lettering: the copy of a message that goes to a queue's dead-letter
// exchange, with the x-death history RabbitMQ 3.10 writes (an array, newest
// first, one entry per queue and reason with a count) and the
// x-first-death-* headers.

#include <optional>
#include <string>
#include <string_view>

#include "message.hpp"
#include "warren/protocol/field_table.hpp"

namespace warren::broker {

// `reason` is one of "rejected", "expired", "maxlen", "delivery_limit".
// The copy's exchange is `dlx` and its routing key `dlx_routing_key` or,
// when none is set, the original one. Returns null when the original's
// properties cannot be decoded (then the message is dropped).
std::shared_ptr<Message> dead_lettered_copy(const Message& original, std::string_view queue,
                                            std::string_view reason, const std::string& dlx,
                                            const std::optional<std::string>& dlx_routing_key);

// Whether a dead-lettered message must not enter `queue` again: it already
// died there and no death in its history was a rejection (RabbitMQ's cycle
// rule, so that expiry loops without a consumer cannot spin forever).
bool dead_letter_cycle(const protocol::FieldTable* headers, std::string_view queue);

}  // namespace warren::broker
