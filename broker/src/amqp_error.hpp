#pragma once
// An AMQP exception as a value: the reply code and text that close a channel
// (soft errors) or the whole connection (hard errors), and the method that
// caused it. Handlers return it; they never throw for bad client input.

#include <fmt/core.h>

#include <cstdint>
#include <optional>
#include <string>

#include "warren/protocol/methods.hpp"

namespace warren::broker {

struct AmqpError {
  std::uint16_t code = 0;
  std::string text;  // with the spec's name as prefix, e.g. "NOT_FOUND - no queue 'q' ..."
  std::uint16_t class_id = 0;
  std::uint16_t method_id = 0;

  // Codes the spec classes as connection exceptions ("hard errors").
  bool is_connection_error() const { return protocol::is_hard_error(code); }
};

// Builds an error whose text starts with the code's spec name, as RabbitMQ's do.
template <typename... Args>
AmqpError amqp_error(std::uint16_t code, fmt::format_string<Args...> format, Args&&... args) {
  return AmqpError{code,
                   fmt::format("{} - {}", protocol::reply_text_name(code),
                               fmt::format(format, std::forward<Args>(args)...)),
                   0, 0};
}

// The result of handling one method: nothing, or the error to raise.
using MaybeError = std::optional<AmqpError>;

}  // namespace warren::broker
