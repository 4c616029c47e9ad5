#include "channel.hpp"

#include <algorithm>
#include <random>

#include "broker.hpp"
#include "connection.hpp"
#include "delayed_messages.hpp"
#include "deliver_frame.hpp"
#include "persister.hpp"
#include "sender_selected.hpp"
#include "vhost.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::broker {

namespace m = protocol::method;
using protocol::kAccessRefused;
using protocol::kNotFound;
using protocol::kNotImplemented;
using protocol::kPreconditionFailed;

namespace {

constexpr std::uint16_t kBasicClass = 60;

std::string generated_consumer_tag() {
  static std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string tag = "amq.ctag-";
  for (int i = 0; i < 22; ++i)
    tag += kAlphabet[rng() % 64];
  return tag;
}

template <typename M>
AmqpError with_method(AmqpError e) {
  e.class_id = M::kClassId;
  e.method_id = M::kMethodId;
  return e;
}

}  // namespace

Channel::Channel(Connection& connection, std::uint16_t id) : connection_(connection), id_(id) {}

Channel::~Channel() = default;

VHost& Channel::vhost() {
  return connection_.vhost();
}

template <typename M>
void Channel::send(const M& method) {
  protocol::write_method_frame(connection_.out(), id_, method);
  connection_.request_flush();
}

MaybeError Channel::handle_method(protocol::Method& method) {
  if (publish_state_ != PublishState::kIdle) {
    return with_method<m::BasicPublish>(amqp_error(
        protocol::kUnexpectedFrame, "expected content {}, got non content {} frame instead",
        publish_state_ == PublishState::kAwaitHeader ? "header for class 60" : "body",
        publish_state_ == PublishState::kAwaitHeader ? "header" : "body"));
  }
  return std::visit(
      [this](auto& m) -> MaybeError {
        using M = std::decay_t<decltype(m)>;
        MaybeError err = on(m);
        if (err && err->class_id == 0) *err = with_method<M>(std::move(*err));
        return err;
      },
      method);
}

// Methods a client may not send on a channel (connection.* or server-only).
template <typename M>
MaybeError Channel::on(const M&) {
  return amqp_error(protocol::kCommandInvalid, "unexpected method {} on channel {}", M::kName, id_);
}

// ---------------------------------------------------------------- channel

MaybeError Channel::on(const m::ChannelClose&) {
  release_all();
  send(m::ChannelCloseOk{});
  return std::nullopt;  // the connection frees the channel after this returns
}

MaybeError Channel::on(const m::ChannelCloseOk&) {
  return std::nullopt;
}

MaybeError Channel::on(const m::ChannelFlow& flow) {
  // As RabbitMQ: a client may not pause deliveries with flow (prefetch is
  // the way); active=true is a no-op.
  if (!flow.active) return amqp_error(kNotImplemented, "active=false");
  send(m::ChannelFlowOk{true});
  return std::nullopt;
}

MaybeError Channel::on(const m::ChannelFlowOk&) {
  return std::nullopt;
}

// ---------------------------------------------------------------- access

MaybeError Channel::check_access(Permit permit, std::string_view kind, std::string_view name) {
  const Broker& broker = connection_.broker();
  const bool publish = permit == Permit::kWrite && kind == "exchange";
  if (publish && writable_generation_ == broker.permissions_generation() &&
      name == writable_exchange_) {
    return std::nullopt;
  }
  const Permission* p = broker.find_permissions(vhost().name(), connection_.user());
  if (p == nullptr || !permits(*p, permit, name)) {
    return amqp_error(kAccessRefused, "access to {} '{}' in vhost '{}' refused for user '{}'", kind,
                      name.empty() && kind == "exchange" ? "amq.default" : name, vhost().name(),
                      connection_.user());
  }
  if (publish) {
    writable_generation_ = broker.permissions_generation();
    writable_exchange_ = name;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- exchanges

MaybeError Channel::on(const m::ExchangeDeclare& d) {
  if (!d.passive) {
    if (auto err = check_access(Permit::kConfigure, "exchange", d.exchange)) return err;
    // As RabbitMQ: an alternate exchange needs read on this one and write
    // on the alternate.
    if (const auto* ae = protocol::find_field(d.arguments, "alternate-exchange");
        ae != nullptr && ae->as_string() != nullptr) {
      if (auto err = check_access(Permit::kRead, "exchange", d.exchange)) return err;
      if (auto err = check_access(Permit::kWrite, "exchange", *ae->as_string())) return err;
    }
  }
  const Exchange* exchange = nullptr;
  ExchangeDeclare spec{d.exchange,    d.type,     d.passive,  d.durable,
                       d.auto_delete, d.internal, d.arguments};
  if (auto err = vhost().declare_exchange(spec, &exchange)) return err;
  if (!d.no_wait) send(m::ExchangeDeclareOk{});
  return std::nullopt;
}

MaybeError Channel::on(const m::ExchangeDelete& d) {
  if (auto err = check_access(Permit::kConfigure, "exchange", d.exchange)) return err;
  if (auto err = vhost().delete_exchange(d.exchange, d.if_unused)) return err;
  if (!d.no_wait) send(m::ExchangeDeleteOk{});
  return std::nullopt;
}

MaybeError Channel::on(const m::ExchangeBind& b) {
  if (auto err = check_access(Permit::kWrite, "exchange", b.destination)) return err;
  if (auto err = check_access(Permit::kRead, "exchange", b.source)) return err;
  BindingSpec spec{b.source, b.destination, routing::DestinationKind::kExchange, b.routing_key,
                   b.arguments};
  if (auto err = vhost().bind(spec, &connection_)) return err;
  if (!b.no_wait) send(m::ExchangeBindOk{});
  return std::nullopt;
}

MaybeError Channel::on(const m::ExchangeUnbind& b) {
  if (auto err = check_access(Permit::kWrite, "exchange", b.destination)) return err;
  if (auto err = check_access(Permit::kRead, "exchange", b.source)) return err;
  BindingSpec spec{b.source, b.destination, routing::DestinationKind::kExchange, b.routing_key,
                   b.arguments};
  if (auto err = vhost().unbind(spec, &connection_)) return err;
  if (!b.no_wait) send(m::ExchangeUnbindOk{});
  return std::nullopt;
}

// ---------------------------------------------------------------- queues

MaybeError Channel::resolve_queue(const std::string& name, std::shared_ptr<Queue>* out) {
  if (name.empty()) {
    if (last_queue_.empty()) {
      return amqp_error(kNotFound, "no previously declared queue");
    }
    return vhost().lookup_queue(last_queue_, &connection_, out);
  }
  return vhost().lookup_queue(name, &connection_, out);
}

MaybeError Channel::on(const m::QueueDeclare& d) {
  if (!d.passive) {
    // A server-named queue is checked as "amq.gen-" (RabbitMQ checks the
    // generated name, which starts so).
    const std::string_view name = d.queue.empty() ? std::string_view("amq.gen-") : d.queue;
    if (auto err = check_access(Permit::kConfigure, "queue", name)) return err;
    // As RabbitMQ: dead-lettering needs read on the queue and write on the
    // dead-letter exchange.
    if (const auto* dlx = protocol::find_field(d.arguments, "x-dead-letter-exchange");
        dlx != nullptr && dlx->as_string() != nullptr) {
      if (auto err = check_access(Permit::kRead, "queue", name)) return err;
      if (auto err = check_access(Permit::kWrite, "exchange", *dlx->as_string())) return err;
    }
  }
  std::shared_ptr<Queue> queue;
  QueueDeclare spec{d.queue, d.passive,
                    QueueOptions{d.durable, d.exclusive, d.auto_delete, d.arguments}};
  if (auto err = vhost().declare_queue(spec, &connection_, &queue)) return err;
  last_queue_ = queue->name();
  if (!d.no_wait) {
    send(m::QueueDeclareOk{queue->name(), static_cast<std::uint32_t>(queue->ready_count()),
                           static_cast<std::uint32_t>(queue->consumer_count())});
  }
  return std::nullopt;
}

MaybeError Channel::on(const m::QueueBind& b) {
  std::string queue = b.queue.empty() ? last_queue_ : b.queue;
  std::string key = (b.queue.empty() && b.routing_key.empty()) ? last_queue_ : b.routing_key;
  if (queue.empty()) return amqp_error(kNotFound, "no previously declared queue");
  if (auto err = check_access(Permit::kWrite, "queue", queue)) return err;
  if (auto err = check_access(Permit::kRead, "exchange", b.exchange)) return err;
  BindingSpec spec{b.exchange, queue, routing::DestinationKind::kQueue, key, b.arguments};
  if (auto err = vhost().bind(spec, &connection_)) return err;
  if (!b.no_wait) send(m::QueueBindOk{});
  return std::nullopt;
}

MaybeError Channel::on(const m::QueueUnbind& b) {
  std::string queue = b.queue.empty() ? last_queue_ : b.queue;
  if (queue.empty()) return amqp_error(kNotFound, "no previously declared queue");
  if (auto err = check_access(Permit::kWrite, "queue", queue)) return err;
  if (auto err = check_access(Permit::kRead, "exchange", b.exchange)) return err;
  BindingSpec spec{b.exchange, queue, routing::DestinationKind::kQueue, b.routing_key, b.arguments};
  if (auto err = vhost().unbind(spec, &connection_)) return err;
  send(m::QueueUnbindOk{});
  return std::nullopt;
}

MaybeError Channel::on(const m::QueuePurge& p) {
  std::shared_ptr<Queue> queue;
  if (auto err = check_access(Permit::kRead, "queue", p.queue.empty() ? last_queue_ : p.queue)) {
    return err;
  }
  if (auto err = resolve_queue(p.queue, &queue)) return err;
  std::size_t n = queue->purge();
  if (!p.no_wait) send(m::QueuePurgeOk{static_cast<std::uint32_t>(n)});
  return std::nullopt;
}

MaybeError Channel::on(const m::QueueDelete& d) {
  std::shared_ptr<Queue> queue;
  std::string name = d.queue.empty() ? last_queue_ : d.queue;
  if (auto err = check_access(Permit::kConfigure, "queue", name)) return err;
  if (vhost().find_queue(name) == nullptr) {
    // Deleting a queue that does not exist succeeds, as in RabbitMQ.
    if (!d.no_wait) send(m::QueueDeleteOk{0});
    return std::nullopt;
  }
  if (auto err = resolve_queue(name, &queue)) return err;
  if (d.if_unused && queue->consumer_count() > 0) {
    return amqp_error(kPreconditionFailed, "queue '{}' in vhost '{}' in use", queue->name(),
                      vhost().name());
  }
  if (d.if_empty && queue->ready_count() > 0) {
    return amqp_error(kPreconditionFailed, "queue '{}' in vhost '{}' not empty", queue->name(),
                      vhost().name());
  }
  auto n = static_cast<std::uint32_t>(queue->ready_count());
  vhost().delete_queue(queue);
  if (!d.no_wait) send(m::QueueDeleteOk{n});
  return std::nullopt;
}

// ---------------------------------------------------------------- consumers

MaybeError Channel::on(const m::BasicQos& q) {
  if (q.prefetch_size != 0) {
    return amqp_error(kNotImplemented, "prefetch_size!=0 ({})", q.prefetch_size);
  }
  if (q.global) {
    channel_prefetch_ = q.prefetch_count;
  } else {
    consumer_prefetch_ = q.prefetch_count;
  }
  send(m::BasicQosOk{});
  resume_deliveries();
  return std::nullopt;
}

MaybeError Channel::on(const m::BasicConsume& c) {
  if (c.queue == kReplyToQueue) return consume_replies(c);
  if (auto err = check_access(Permit::kRead, "queue", c.queue.empty() ? last_queue_ : c.queue)) {
    return err;
  }
  std::shared_ptr<Queue> queue;
  if (auto err = resolve_queue(c.queue, &queue)) return err;
  std::string tag = c.consumer_tag.empty() ? generated_consumer_tag() : c.consumer_tag;
  if (consumers_.contains(tag)) {
    return amqp_error(protocol::kNotAllowed, "attempt to reuse consumer tag '{}'", tag);
  }
  if (queue->has_exclusive_consumer() || (c.exclusive && queue->consumer_count() > 0)) {
    return amqp_error(kAccessRefused, "queue '{}' in vhost '{}' in exclusive use", queue->name(),
                      vhost().name());
  }
  std::int64_t priority = 0;
  if (const auto* p = protocol::find_field(c.arguments, "x-priority")) {
    auto v = p->as_int();
    if (!v) {
      return amqp_error(kPreconditionFailed, "invalid arg 'x-priority' for consumer '{}'", tag);
    }
    priority = *v;
  }
  auto consumer = std::make_unique<Consumer>();
  consumer->channel = this;
  consumer->queue = queue;
  consumer->tag = tag;
  consumer->no_ack = c.no_ack;
  consumer->exclusive = c.exclusive;
  consumer->priority = priority;
  consumer->prefetch = consumer_prefetch_;
  Consumer* raw = consumer.get();
  consumers_.emplace(tag, std::move(consumer));
  // consume-ok goes out before the first delivery.
  if (!c.no_wait) send(m::BasicConsumeOk{tag});
  queue->add_consumer(raw);
  queue->dispatch();
  return std::nullopt;
}

void Channel::remove_consumer(Consumer& consumer, bool notify_vhost) {
  for (Unacked& u : unacked_) {
    if (u.consumer == &consumer) u.consumer = nullptr;
  }
  std::shared_ptr<Queue> queue = consumer.queue;
  queue->remove_consumer(&consumer);
  consumers_.erase(consumer.tag);  // destroys `consumer`
  if (notify_vhost) queue->vhost().consumer_removed(queue);
}

MaybeError Channel::on(const m::BasicCancel& c) {
  if (!reply_token_.empty() && c.consumer_tag == reply_consumer_tag_) stop_replies();
  auto it = consumers_.find(c.consumer_tag);
  if (it != consumers_.end()) remove_consumer(*it->second, true);
  if (!c.no_wait) send(m::BasicCancelOk{c.consumer_tag});
  return std::nullopt;
}

void Channel::cancel_by_server(Consumer& consumer) {
  std::string tag = consumer.tag;
  remove_consumer(consumer, false);
  if (connection_.consumer_cancel_notify()) send(m::BasicCancel{tag, true});
}

bool Channel::can_accept(const Consumer& consumer) const {
  if (closing_) return false;
  if (connection_.write_backlogged()) {
    connection_.note_backlogged();
    return false;
  }
  if (consumer.no_ack) return true;
  if (consumer.prefetch != 0 && consumer.unacked >= consumer.prefetch) return false;
  if (channel_prefetch_ != 0 && unacked_live_ >= channel_prefetch_) return false;
  return true;
}

void Channel::resume_deliveries() {
  // Copy: a dispatch may cancel consumers (auto-delete) and change the map.
  std::vector<std::shared_ptr<Queue>> queues;
  for (auto& [tag, c] : consumers_)
    queues.push_back(c->queue);
  for (auto& q : queues)
    q->dispatch();
}

// ---------------------------------------------------------------- delivery

std::uint64_t Channel::untracked_delivery_tag() {
  const std::uint64_t tag = next_delivery_tag_++;
  // Keep tags contiguous in unacked_: a settled placeholder, unless the
  // window is empty, in which case it just moves on.
  if (unacked_.empty()) {
    first_unacked_tag_ = next_delivery_tag_;
  } else {
    unacked_.push_back(Unacked{});
  }
  return tag;
}

std::uint64_t Channel::record_delivery(Queue::Entry& entry, Queue& queue, Consumer* consumer,
                                       bool no_ack) {
  if (no_ack) {
    queue.discard_stored(entry.seq, *entry.message);  // delivered is settled
    return untracked_delivery_tag();
  }
  const std::uint64_t tag = next_delivery_tag_++;
  if (unacked_.empty()) first_unacked_tag_ = tag;
  unacked_.push_back(Unacked{entry.message, queue.shared_from_this(), consumer, entry.seq,
                             entry.redelivered, entry.expires_at, entry.acquired_count,
                             entry.delivery_count});
  ++unacked_live_;
  queue.add_unacked();
  if (consumer != nullptr) ++consumer->unacked;
  return tag;
}

const protocol::Bytes& Channel::delivery_properties(const Queue::Entry& entry) {
  const Message& msg = *entry.message;
  if (entry.acquired_count == 0 && entry.delivery_count == 0) return msg.properties;
  protocol::BasicProperties props;
  if (!protocol::decode_properties(msg.properties, props)) return msg.properties;
  protocol::FieldTable headers = props.headers.value_or(protocol::FieldTable{});
  if (entry.delivery_count > 0) {
    protocol::set_field(headers, "x-delivery-count", std::int64_t{entry.delivery_count});
  }
  if (entry.acquired_count > 0) {
    protocol::set_field(headers, "x-acquired-count", std::int64_t{entry.acquired_count});
  }
  props.headers = std::move(headers);
  properties_scratch_.clear();
  protocol::Encoder enc(properties_scratch_);
  protocol::encode_properties(props, enc);
  return properties_scratch_;
}

void Channel::deliver(Consumer& consumer, Queue& queue, Queue::Entry entry) {
  const Message& msg = *entry.message;
  const std::uint64_t tag = record_delivery(entry, queue, &consumer, consumer.no_ack);
  ++(consumer.no_ack ? queue.stats().deliver_no_ack : queue.stats().deliver);
  if (entry.redelivered) ++queue.stats().redeliver;
  protocol::Bytes& out = connection_.out();
  write_deliver_frame(out, id_, consumer.tag, tag, entry.redelivered, msg.exchange,
                      msg.routing_key);
  protocol::write_content_header_frame(out, id_, kBasicClass, msg.body.size(),
                                       delivery_properties(entry));
  protocol::write_body_frames(out, id_, msg.body, connection_.frame_max());
  connection_.request_flush();
}

MaybeError Channel::on(const m::BasicGet& g) {
  if (auto err = check_access(Permit::kRead, "queue", g.queue.empty() ? last_queue_ : g.queue)) {
    return err;
  }
  std::shared_ptr<Queue> queue;
  if (auto err = resolve_queue(g.queue, &queue)) return err;
  Queue::Entry entry;
  if (!queue->take(entry)) {
    ++queue->stats().get_empty;
    send(m::BasicGetEmpty{});
    return std::nullopt;
  }
  const Message& msg = *entry.message;
  const std::uint64_t tag = record_delivery(entry, *queue, nullptr, g.no_ack);
  ++(g.no_ack ? queue->stats().get_no_ack : queue->stats().get);
  if (entry.redelivered) ++queue->stats().redeliver;
  protocol::Bytes& out = connection_.out();
  protocol::write_method_frame(out, id_,
                               m::BasicGetOk{tag, entry.redelivered, msg.exchange, msg.routing_key,
                                             static_cast<std::uint32_t>(queue->ready_count())});
  protocol::write_content_header_frame(out, id_, kBasicClass, msg.body.size(),
                                       delivery_properties(entry));
  protocol::write_body_frames(out, id_, msg.body, connection_.frame_max());
  connection_.request_flush();
  return std::nullopt;
}

// ---------------------------------------------------------------- acks

void Channel::settle_one(Unacked& u, TxAck::Kind kind, std::uint32_t delay_ms) {
  Queue& queue = *u.queue;
  queue.settled();
  --unacked_live_;
  if (u.consumer != nullptr) --u.consumer->unacked;
  if (kind == TxAck::Kind::kAck) ++queue.stats().ack;
  if (kind == TxAck::Kind::kAck) {
    queue.discard_stored(u.seq, *u.message);
  }
  if (kind == TxAck::Kind::kDelayedReturn) {
    queue.requeue_after(Queue::Entry{std::move(u.message), u.seq, true, u.expires_at,
                                     u.acquired_count + 1, u.delivery_count + 1},
                        std::chrono::milliseconds(delay_ms));
  } else if (kind == TxAck::Kind::kRejectRequeue || kind == TxAck::Kind::kReturn) {
    const bool failed = kind == TxAck::Kind::kRejectRequeue;
    queue.return_entry(Queue::Entry{std::move(u.message), u.seq, true, u.expires_at,
                                    u.acquired_count + 1, u.delivery_count + (failed ? 1u : 0u)},
                       failed);
  } else if (kind == TxAck::Kind::kRejectDrop) {
    // In the same storage batch as the dead-lettered copy: atomic.
    queue.dead_letter(u.message, DeathReason::kRejected);
    queue.discard_stored(u.seq, *u.message);
  }
  u.message = nullptr;
  if (touched_queues_.empty() || touched_queues_.back() != u.queue) {
    touched_queues_.push_back(u.queue);
  }
  u.queue = nullptr;
}

void Channel::pop_settled_front() {
  while (!unacked_.empty() && unacked_.front().message == nullptr) {
    unacked_.pop_front();
    ++first_unacked_tag_;
  }
  if (unacked_.empty()) first_unacked_tag_ = next_delivery_tag_;
}

void Channel::dispatch_touched_queues() {
  std::sort(touched_queues_.begin(), touched_queues_.end());
  touched_queues_.erase(std::unique(touched_queues_.begin(), touched_queues_.end()),
                        touched_queues_.end());
  // Swap out first: dispatching can settle (and touch) again.
  std::vector<std::shared_ptr<Queue>> queues;
  queues.swap(touched_queues_);
  for (auto& q : queues)
    q->dispatch();
}

MaybeError Channel::settle(std::uint64_t tag, bool multiple, TxAck::Kind kind,
                           std::uint16_t class_id, std::uint16_t method_id,
                           std::uint32_t delay_ms) {
  auto unknown = [&] {
    AmqpError e = amqp_error(kPreconditionFailed, "unknown delivery tag {}", tag);
    e.class_id = class_id;
    e.method_id = method_id;
    return e;
  };
  const std::uint64_t end = first_unacked_tag_ + unacked_.size();
  if (multiple && tag == 0) {
    tag = end - 1;  // everything outstanding
    if (unacked_live_ == 0) return std::nullopt;
  } else if (tag < first_unacked_tag_ || tag >= end ||
             unacked_[tag - first_unacked_tag_].message == nullptr) {
    return unknown();
  }
  if (tx_mode_) {
    tx_acks_.push_back(TxAck{kind, tag, multiple, delay_ms});
    return std::nullopt;
  }
  const std::uint64_t from = multiple ? first_unacked_tag_ : tag;
  for (std::uint64_t t = from; t <= tag; ++t) {
    Unacked& u = unacked_[t - first_unacked_tag_];
    if (u.message != nullptr) settle_one(u, kind, delay_ms);
  }
  pop_settled_front();
  dispatch_touched_queues();
  return std::nullopt;
}

MaybeError Channel::on(const m::BasicWarrenNackDelay& n) {
  return settle(n.delivery_tag, n.multiple, TxAck::Kind::kDelayedReturn,
                m::BasicWarrenNackDelay::kClassId, m::BasicWarrenNackDelay::kMethodId, n.delay);
}

MaybeError Channel::on(const m::BasicAck& a) {
  return settle(a.delivery_tag, a.multiple, TxAck::Kind::kAck, m::BasicAck::kClassId,
                m::BasicAck::kMethodId);
}

MaybeError Channel::on(const m::BasicReject& r) {
  return settle(r.delivery_tag, false,
                r.requeue ? TxAck::Kind::kRejectRequeue : TxAck::Kind::kRejectDrop,
                m::BasicReject::kClassId, m::BasicReject::kMethodId);
}

MaybeError Channel::on(const m::BasicNack& n) {
  return settle(n.delivery_tag, n.multiple,
                n.requeue ? TxAck::Kind::kReturn : TxAck::Kind::kRejectDrop, m::BasicNack::kClassId,
                m::BasicNack::kMethodId);
}

void Channel::requeue_all_unacked(TxAck::Kind kind) {
  for (Unacked& u : unacked_) {
    if (u.message != nullptr) settle_one(u, kind);
  }
  pop_settled_front();
}

MaybeError Channel::on(const m::BasicRecoverAsync& r) {
  if (!r.requeue) return amqp_error(kNotImplemented, "requeue=false");
  requeue_all_unacked(TxAck::Kind::kReturn);
  dispatch_touched_queues();
  return std::nullopt;
}

MaybeError Channel::on(const m::BasicRecover& r) {
  if (!r.requeue) return amqp_error(kNotImplemented, "requeue=false");
  requeue_all_unacked(TxAck::Kind::kReturn);
  send(m::BasicRecoverOk{});
  dispatch_touched_queues();
  return std::nullopt;
}

// ---------------------------------------------------------------- publishing

MaybeError Channel::on(m::BasicPublish& p) {
  if (p.immediate) return amqp_error(kNotImplemented, "immediate=true");
  pending_mandatory_ = p.mandatory;
  pending_message_ = std::make_shared<Message>();
  pending_message_->exchange = std::move(p.exchange);
  pending_message_->routing_key = std::move(p.routing_key);
  publish_state_ = PublishState::kAwaitHeader;
  return std::nullopt;
}

MaybeError Channel::handle_header(const protocol::Frame& frame) {
  if (publish_state_ != PublishState::kAwaitHeader) {
    return amqp_error(protocol::kUnexpectedFrame, "unexpected content header frame on channel {}",
                      id_);
  }
  protocol::ContentHeader header;
  if (!protocol::parse_content_header(frame.payload, header)) {
    return with_method<m::BasicPublish>(
        amqp_error(protocol::kFrameError, "malformed content header frame"));
  }
  if (header.class_id != kBasicClass) {
    return with_method<m::BasicPublish>(amqp_error(
        protocol::kUnexpectedFrame,
        "expected content header for class 60, got one for class {} instead", header.class_id));
  }
  const std::uint64_t max = connection_.max_message_size();
  if (header.body_size > max) {
    publish_state_ = PublishState::kIdle;
    pending_message_.reset();
    return with_method<m::BasicPublish>(
        amqp_error(kPreconditionFailed, "message size {} is larger than configured max size {}",
                   header.body_size, max));
  }
  Message& msg = *pending_message_;
  msg.properties.assign(header.encoded_properties.begin(), header.encoded_properties.end());
  msg.body_size = header.body_size;
  msg.body.reserve(header.body_size);
  publish_state_ = PublishState::kAwaitBody;
  if (header.body_size == 0) return publish_complete();
  return std::nullopt;
}

MaybeError Channel::handle_body(const protocol::Frame& frame) {
  if (publish_state_ != PublishState::kAwaitBody) {
    return amqp_error(protocol::kUnexpectedFrame, "unexpected content body frame on channel {}",
                      id_);
  }
  Message& msg = *pending_message_;
  if (msg.body.size() + frame.payload.size() > msg.body_size) {
    return with_method<m::BasicPublish>(
        amqp_error(protocol::kUnexpectedFrame, "content body is longer than the declared size {}",
                   msg.body_size));
  }
  msg.body.insert(msg.body.end(), frame.payload.begin(), frame.payload.end());
  if (msg.body.size() == msg.body_size) return publish_complete();
  return std::nullopt;
}

// The few properties the broker acts on: user-id (must be the connection's
// user, as RabbitMQ checks), expiration (per-message TTL) and priority. The
// property list is decoded only when one of their flag bits is set.
MaybeError Channel::inspect_properties(Message& message) {
  constexpr std::uint16_t kPriorityFlag = 1 << 11;
  constexpr std::uint16_t kExpirationFlag = 1 << 8;
  constexpr std::uint16_t kUserIdFlag = 1 << 4;
  const auto& p = message.properties;
  if (p.size() < 2) return amqp_error(protocol::kFrameError, "malformed content header properties");
  const std::uint16_t flags = static_cast<std::uint16_t>(p[0] << 8 | p[1]);
  if ((flags & (kPriorityFlag | kExpirationFlag | kUserIdFlag)) == 0) return std::nullopt;
  protocol::BasicProperties props;
  if (!protocol::decode_properties(p, props)) {
    return amqp_error(protocol::kFrameError, "malformed content header properties");
  }
  if (props.user_id && *props.user_id != connection_.user()) {
    return amqp_error(kPreconditionFailed,
                      "user_id property set to '{}' but authenticated user was '{}'",
                      *props.user_id, connection_.user());
  }
  if (props.priority) message.priority = *props.priority;
  if (props.expiration) {
    auto ttl = parse_expiration(*props.expiration);
    if (!ttl) return amqp_error(kPreconditionFailed, "invalid expiration '{}'", *props.expiration);
    message.ttl_ms = *ttl;
  }
  return std::nullopt;
}

MaybeError Channel::publish_complete() {
  publish_state_ = PublishState::kIdle;
  std::shared_ptr<Message> pending = std::move(pending_message_);
  connection_.note_published();
  if (auto err = inspect_properties(*pending)) return with_method<m::BasicPublish>(std::move(*err));
  if (auto err = rewrite_reply_to(*pending)) return with_method<m::BasicPublish>(std::move(*err));
  pending->persistent = delivery_mode_of(pending->properties) == 2;
  pending->account();
  MessagePtr message = std::move(pending);
  if (auto err = check_access(Permit::kWrite, "exchange", message->exchange)) {
    return with_method<m::BasicPublish>(std::move(*err));
  }
  const Exchange* exchange = vhost().find_exchange(message->exchange);
  if (exchange == nullptr) {
    return with_method<m::BasicPublish>(vhost().no_exchange(message->exchange));
  }
  if (exchange->internal) {
    return with_method<m::BasicPublish>(
        amqp_error(kAccessRefused, "cannot publish to internal exchange '{}' in vhost '{}'",
                   exchange->name, vhost().name()));
  }
  if (tx_mode_) {
    tx_publishes_.push_back(TxPublish{exchange->name, std::move(message), pending_mandatory_});
    return std::nullopt;
  }
  bool accepted = true;
  Persister* store = vhost().persister();
  const std::uint64_t ops_before = store != nullptr ? store->ops_added() : 0;
  if (exchange->name.empty() && message->routing_key.starts_with(kReplyToPrefix)) {
    deliver_reply(std::move(message), pending_mandatory_);
  } else {
    accepted = route_and_enqueue(*exchange, std::move(message), pending_mandatory_);
  }
  if (confirm_mode_ && store != nullptr && store->ops_added() != ops_before) {
    // Stored somewhere: this confirm waits for the storage batch.
    const std::uint64_t batch = store->open_batch_id();
    if (awaiting_storage_.empty() || awaiting_storage_.back().batch != batch) {
      awaiting_storage_.push_back({batch, next_publish_seq_});
      store->after_stored([this, alive = std::weak_ptr<int>(alive_), batch] {
        if (!alive.expired()) stored(batch);
      });
    }
  }
  if (confirm_mode_) {
    // A queue that refused the message (x-overflow reject-publish) makes
    // its confirm a nack, as in RabbitMQ.
    if (!accepted) nacked_.push_back(next_publish_seq_);
    ++next_publish_seq_;
    connection_.note_confirm_pending(id_);
  }
  return std::nullopt;
}

bool Channel::route_and_enqueue(const Exchange& exchange, MessagePtr message, bool mandatory) {
  DelayedMessages* delayed = vhost().delayed();
  std::optional<std::int64_t> delay;
  if (delayed != nullptr && vhost().has_delayed_exchanges()) {
    delay = DelayedMessages::delay_of(*message);
  }
  if (delay && exchange.delayed()) {
    delayed->add(vhost(), exchange, std::move(message), *delay, mandatory ? this : nullptr, alive_);
    return true;
  }
  // A delayed exchange reached through a binding holds the message too, as
  // the plugin's exchange does when it routes it.
  vhost().route_message(exchange, message, route_scratch_, delay ? &held_scratch_ : nullptr);
  if (delay) {
    for (const Exchange* holder : held_scratch_) {
      delayed->add(vhost(), *holder, message, *delay, mandatory ? this : nullptr, alive_);
    }
    if (route_scratch_.empty() && !held_scratch_.empty()) return true;
  }
  if (route_scratch_.empty()) {
    if (mandatory) send_return(*message, protocol::kNoRoute, "NO_ROUTE");
    return true;
  }
  bool accepted = true;
  for (Queue* q : route_scratch_)
    accepted = q->publish(message) && accepted;
  return accepted;
}

void Channel::return_unroutable(const Message& message) {
  send_return(message, protocol::kNoRoute, "NO_ROUTE");
}

void Channel::send_return(const Message& message, std::uint16_t code, std::string_view text) {
  protocol::Bytes& out = connection_.out();
  protocol::write_method_frame(
      out, id_, m::BasicReturn{code, std::string(text), message.exchange, message.routing_key});
  protocol::write_content_header_frame(out, id_, kBasicClass, message.body.size(),
                                       message.properties);
  protocol::write_body_frames(out, id_, message.body, connection_.frame_max());
  connection_.request_flush();
}

void Channel::stored(std::uint64_t batch) {
  while (!awaiting_storage_.empty() && awaiting_storage_.front().batch <= batch)
    awaiting_storage_.pop_front();
  flush_confirms();
}

void Channel::when_stored(std::function<void()> done) {
  Persister* store = vhost().persister();
  if (store == nullptr) {
    done();
    return;
  }
  store->after_stored([alive = std::weak_ptr<int>(alive_), done = std::move(done)] {
    if (!alive.expired()) done();
  });
}

void Channel::flush_confirms() {
  // Publishes whose messages are still being stored, and all after them, wait.
  const std::uint64_t last =
      awaiting_storage_.empty() ? next_publish_seq_ - 1 : awaiting_storage_.front().first_seq - 1;
  if (!confirm_mode_ || last <= confirmed_upto_) return;
  // Everything up to `last` is routed (and, once durable storage exists,
  // stored): one ack (multiple) covers each run between refused publishes,
  // which get a nack each.
  std::size_t nacks_sent = 0;
  for (std::uint64_t nacked : nacked_) {
    if (nacked > last) break;
    if (nacked - 1 > confirmed_upto_) {
      send(m::BasicAck{nacked - 1, nacked - 1 - confirmed_upto_ > 1});
    }
    send(m::BasicNack{nacked, false, false});
    confirmed_upto_ = nacked;
    ++nacks_sent;
  }
  nacked_.erase(nacked_.begin(), nacked_.begin() + static_cast<std::ptrdiff_t>(nacks_sent));
  if (last > confirmed_upto_) send(m::BasicAck{last, last - confirmed_upto_ > 1});
  confirmed_upto_ = last;
}

MaybeError Channel::on(const m::ConfirmSelect& c) {
  if (tx_mode_) {
    return amqp_error(kPreconditionFailed, "cannot switch from tx to confirm mode");
  }
  confirm_mode_ = true;
  if (!c.nowait) send(m::ConfirmSelectOk{});
  return std::nullopt;
}

// ---------------------------------------------------------------- transactions

MaybeError Channel::on(const m::TxSelect&) {
  if (confirm_mode_) {
    return amqp_error(kPreconditionFailed, "cannot switch from confirm to tx mode");
  }
  tx_mode_ = true;
  send(m::TxSelectOk{});
  return std::nullopt;
}

MaybeError Channel::on(const m::TxCommit&) {
  if (!tx_mode_) return amqp_error(kPreconditionFailed, "channel is not transactional");
  std::vector<TxAck> acks;
  acks.swap(tx_acks_);
  std::vector<TxPublish> publishes;
  publishes.swap(tx_publishes_);
  tx_mode_ = false;  // settle() applies immediately outside tx mode
  for (const TxAck& a : acks) {
    // A tag may have been settled by an earlier entry of the same
    // transaction (e.g. multiple); skip those quietly.
    const std::uint64_t end = first_unacked_tag_ + unacked_.size();
    if (a.tag < first_unacked_tag_ || a.tag >= end) continue;
    settle(a.tag, a.multiple, a.kind, 0, 0, a.delay_ms);
  }
  tx_mode_ = true;
  for (TxPublish& p : publishes) {
    const Exchange* exchange = vhost().find_exchange(p.exchange);
    if (exchange != nullptr) (void)route_and_enqueue(*exchange, std::move(p.message), p.mandatory);
  }
  // The commit is answered once what it stored (or removed) is on disk.
  when_stored([this] { send(m::TxCommitOk{}); });
  return std::nullopt;
}

MaybeError Channel::on(const m::TxRollback&) {
  if (!tx_mode_) return amqp_error(kPreconditionFailed, "channel is not transactional");
  tx_acks_.clear();
  tx_publishes_.clear();
  send(m::TxRollbackOk{});
  return std::nullopt;
}

// ---------------------------------------------------------------- teardown

void Channel::release_all() {
  if (closing_) return;
  closing_ = true;
  stop_replies();
  // Consumers go first, so requeued messages are not handed back to them.
  while (!consumers_.empty())
    remove_consumer(*consumers_.begin()->second, true);
  requeue_all_unacked(TxAck::Kind::kRejectRequeue);  // a lost channel is a failed attempt
  tx_acks_.clear();
  tx_publishes_.clear();
  pending_message_.reset();
  publish_state_ = PublishState::kIdle;
  dispatch_touched_queues();
}

}  // namespace warren::broker
