#include "warren/client/topology.hpp"

#include <string>

namespace warren::client {

using protocol::FieldTable;
using protocol::set_field;

FieldTable ExchangeSpec::arguments() const {
  FieldTable t = extra_arguments;
  if (alternate_exchange) set_field(t, "alternate-exchange", *alternate_exchange);
  return t;
}

namespace {

std::int64_t ms(std::chrono::milliseconds d) {
  return static_cast<std::int64_t>(d.count());
}

const char* retry_type(RetryPolicy::Type t) {
  switch (t) {
    case RetryPolicy::Type::kDisabled:
      return "disabled";
    case RetryPolicy::Type::kFailed:
      return "failed";
    case RetryPolicy::Type::kReturned:
      return "returned";
    case RetryPolicy::Type::kAll:
      return "all";
  }
  return "disabled";
}

}  // namespace

FieldTable QueueSpec::arguments() const {
  FieldTable t = extra_arguments;
  if (dead_letter_exchange) set_field(t, "x-dead-letter-exchange", *dead_letter_exchange);
  if (dead_letter_routing_key) set_field(t, "x-dead-letter-routing-key", *dead_letter_routing_key);
  if (message_ttl) set_field(t, "x-message-ttl", ms(*message_ttl));
  if (expires) set_field(t, "x-expires", ms(*expires));
  if (max_length) set_field(t, "x-max-length", *max_length);
  if (max_length_bytes) set_field(t, "x-max-length-bytes", *max_length_bytes);
  if (overflow) {
    set_field(t, "x-overflow",
              std::string(*overflow == Overflow::kDropHead        ? "drop-head"
                          : *overflow == Overflow::kRejectPublish ? "reject-publish"
                                                                  : "reject-publish-dlx"));
  }
  if (delivery_limit) set_field(t, "x-delivery-limit", *delivery_limit);
  if (retry) {
    set_field(t, "x-delayed-retry-type", std::string(retry_type(retry->type)));
    set_field(t, "x-delayed-retry-min", ms(retry->min));
    if (retry->max) set_field(t, "x-delayed-retry-max", ms(*retry->max));
    if (retry->multiplier) set_field(t, "x-delayed-retry-multiplier", *retry->multiplier);
  }
  if (max_priority) set_field(t, "x-max-priority", static_cast<std::int64_t>(*max_priority));
  if (single_active_consumer) set_field(t, "x-single-active-consumer", true);
  return t;
}

}  // namespace warren::client
