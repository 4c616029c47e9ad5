// Direct reply-to (RabbitMQ's amq.rabbitmq.reply-to): an RPC client consumes
// the pseudo-queue with no-ack; its requests' reply-to property is rewritten
// to a name that identifies its channel, and replies published to that name
// on the default exchange go straight to it, with no queue in between.

#include <random>

#include "channel.hpp"
#include "connection.hpp"
#include "deliver_frame.hpp"
#include "vhost.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::broker {

namespace m = protocol::method;

namespace {

std::string random_token() {
  static std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string token;
  for (int i = 0; i < 24; ++i)
    token += kAlphabet[rng() % 62];
  return token;
}

}  // namespace

MaybeError Channel::consume_replies(const m::BasicConsume& c) {
  if (!c.no_ack) {
    return amqp_error(protocol::kPreconditionFailed, "reply consumer cannot acknowledge");
  }
  if (!reply_token_.empty()) {
    return amqp_error(protocol::kPreconditionFailed, "reply consumer already set");
  }
  reply_consumer_tag_ = c.consumer_tag.empty() ? "amq.ctag-" + random_token() : c.consumer_tag;
  reply_token_ = random_token();
  vhost().register_reply_channel(reply_token_, this);
  if (!c.no_wait) {
    protocol::write_method_frame(connection_.out(), id_, m::BasicConsumeOk{reply_consumer_tag_});
    connection_.request_flush();
  }
  return std::nullopt;
}

void Channel::stop_replies() {
  if (reply_token_.empty()) return;
  vhost().unregister_reply_channel(reply_token_);
  reply_token_.clear();
  reply_consumer_tag_.clear();
}

MaybeError Channel::rewrite_reply_to(Message& message) {
  constexpr std::uint16_t kReplyToFlag = 1 << 9;
  const auto& p = message.properties;
  if (p.size() < 2 || ((p[0] << 8 | p[1]) & kReplyToFlag) == 0) return std::nullopt;
  protocol::BasicProperties props;
  if (!protocol::decode_properties(p, props)) {
    return amqp_error(protocol::kFrameError, "malformed content header properties");
  }
  if (props.reply_to != kReplyToQueue) return std::nullopt;
  if (reply_token_.empty()) {
    return amqp_error(protocol::kPreconditionFailed, "fast reply consumer does not exist");
  }
  props.reply_to = std::string(kReplyToPrefix) + reply_token_;
  message.properties.clear();
  protocol::Encoder enc(message.properties);
  protocol::encode_properties(props, enc);
  return std::nullopt;
}

void Channel::deliver_reply(MessagePtr message, bool mandatory) {
  std::string_view token = std::string_view(message->routing_key).substr(kReplyToPrefix.size());
  Channel* target = vhost().reply_channel(token);
  if (target == nullptr) {
    if (mandatory) send_return(*message, protocol::kNoRoute, "NO_ROUTE");
    return;
  }
  target->deliver_direct_reply(*message);
}

void Channel::deliver_direct_reply(const Message& message) {
  const std::uint64_t tag = untracked_delivery_tag();
  protocol::Bytes& out = connection_.out();
  write_deliver_frame(out, id_, reply_consumer_tag_, tag, false, message.exchange,
                      message.routing_key);
  protocol::write_content_header_frame(out, id_, 60, message.body.size(), message.properties);
  protocol::write_body_frames(out, id_, message.body, connection_.frame_max());
  connection_.request_flush();
}

}  // namespace warren::broker
