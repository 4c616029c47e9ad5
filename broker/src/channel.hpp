#pragma once
// One AMQP channel of a connection: handles its methods, assembles published
// messages from method + header + body frames, tracks unacked deliveries,
// consumers, prefetch, publisher confirms and transactions.
// Owned by its Connection; lives on the broker thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "access.hpp"
#include "amqp_error.hpp"
#include "consumer.hpp"
#include "message.hpp"
#include "queue.hpp"
#include "warren/protocol/frame.hpp"
#include "warren/protocol/methods.hpp"

namespace warren::broker {

class Connection;
class VHost;
struct Exchange;

inline constexpr std::string_view kReplyToQueue = "amq.rabbitmq.reply-to";
inline constexpr std::string_view kReplyToPrefix = "amq.rabbitmq.reply-to.";

class Channel {
 public:
  Channel(Connection& connection, std::uint16_t id);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  std::uint16_t id() const { return id_; }

  // Read-only state for the admin API's listings.
  Connection& connection() const { return connection_; }
  const std::map<std::string, std::unique_ptr<Consumer>, std::less<>>& consumers() const {
    return consumers_;
  }
  std::uint16_t consumer_prefetch() const { return consumer_prefetch_; }
  std::uint16_t channel_prefetch() const { return channel_prefetch_; }
  bool confirm_mode() const { return confirm_mode_; }
  bool tx_mode() const { return tx_mode_; }
  std::uint32_t unacked_count() const { return unacked_live_; }
  bool closing() const { return closing_; }

  // Frame handlers; an error closes the channel or the connection.
  MaybeError handle_method(protocol::Method& method);
  MaybeError handle_header(const protocol::Frame& frame);
  MaybeError handle_body(const protocol::Frame& frame);
  // Whether a content header or body frame is expected next.
  bool expecting_content() const { return publish_state_ != PublishState::kIdle; }

  // Called by a Queue: may this consumer take one more message now?
  bool can_accept(const Consumer& consumer) const;
  // Called by a Queue: writes basic.deliver + content and records the delivery.
  void deliver(Consumer& consumer, Queue& queue, Queue::Entry entry);
  // The queue is going away: forget the consumer and tell the client.
  void cancel_by_server(Consumer& consumer);
  // The connection's write buffer drained: queues of our consumers may deliver.
  void resume_deliveries();
  // Direct reply-to: delivers a reply published to this channel's
  // amq.rabbitmq.reply-to.<token> name (no queue, no ack).
  void deliver_direct_reply(const Message& message);
  // basic.return 312 NO_ROUTE for a mandatory publish found unroutable later
  // (a delayed message that came due).
  void return_unroutable(const Message& message);

  // Sends the publisher confirms accumulated while processing input.
  void flush_confirms();
  // Requeues unacked deliveries and drops consumers (channel closing).
  void release_all();

 private:
  enum class PublishState { kIdle, kAwaitHeader, kAwaitBody };

  struct Unacked {
    MessagePtr message;  // null once settled
    std::shared_ptr<Queue> queue;
    Consumer* consumer = nullptr;
    std::uint64_t seq = 0;
    bool redelivered = false;
    std::chrono::steady_clock::time_point expires_at;
    std::uint32_t acquired_count = 0;
    std::uint32_t delivery_count = 0;
  };

  // Pending work inside a transaction, applied at tx.commit.
  struct TxAck {
    // kRejectRequeue is a failed attempt (reject, lost channel); kReturn
    // gives the message back without failing it (nack, recover).
    // kDelayedReturn: Warren's nack with delay, a failed attempt that waits.
    enum class Kind { kAck, kRejectRequeue, kReturn, kRejectDrop, kDelayedReturn } kind;
    std::uint64_t tag;
    bool multiple;
    std::uint32_t delay_ms = 0;  // kDelayedReturn only
  };
  struct TxPublish {
    std::string exchange;
    MessagePtr message;
    bool mandatory;
  };

  template <typename M>
  MaybeError on(const M& method);

  MaybeError on(const protocol::method::ChannelClose& m);
  MaybeError on(const protocol::method::ChannelCloseOk& m);
  MaybeError on(const protocol::method::ChannelFlow& m);
  MaybeError on(const protocol::method::ChannelFlowOk& m);
  MaybeError on(const protocol::method::ExchangeDeclare& m);
  MaybeError on(const protocol::method::ExchangeDelete& m);
  MaybeError on(const protocol::method::ExchangeBind& m);
  MaybeError on(const protocol::method::ExchangeUnbind& m);
  MaybeError on(const protocol::method::QueueDeclare& m);
  MaybeError on(const protocol::method::QueueBind& m);
  MaybeError on(const protocol::method::QueueUnbind& m);
  MaybeError on(const protocol::method::QueuePurge& m);
  MaybeError on(const protocol::method::QueueDelete& m);
  MaybeError on(const protocol::method::BasicQos& m);
  MaybeError on(const protocol::method::BasicConsume& m);
  MaybeError on(const protocol::method::BasicCancel& m);
  MaybeError on(protocol::method::BasicPublish& m);  // takes the strings
  MaybeError on(const protocol::method::BasicGet& m);
  MaybeError on(const protocol::method::BasicAck& m);
  MaybeError on(const protocol::method::BasicReject& m);
  MaybeError on(const protocol::method::BasicNack& m);
  MaybeError on(const protocol::method::BasicWarrenNackDelay& m);
  MaybeError on(const protocol::method::BasicRecover& m);
  MaybeError on(const protocol::method::BasicRecoverAsync& m);
  MaybeError on(const protocol::method::ConfirmSelect& m);
  MaybeError on(const protocol::method::TxSelect& m);
  MaybeError on(const protocol::method::TxCommit& m);
  MaybeError on(const protocol::method::TxRollback& m);

  template <typename M>
  void send(const M& method);
  VHost& vhost();

  // The queue named in a method, or the last one declared on the channel
  // when the name is empty (as the spec says).
  MaybeError resolve_queue(const std::string& name, std::shared_ptr<Queue>* out);
  // 403 ACCESS_REFUSED unless the user's permission in this vhost grants
  // `permit` on the resource (kind "exchange" or "queue"), as RabbitMQ.
  MaybeError check_access(Permit permit, std::string_view kind, std::string_view name);
  MaybeError publish_complete();
  MaybeError inspect_properties(Message& message);
  // Direct reply-to (direct_reply_to.cpp).
  MaybeError consume_replies(const protocol::method::BasicConsume& c);
  void stop_replies();
  MaybeError rewrite_reply_to(Message& message);
  void deliver_reply(MessagePtr message, bool mandatory);
  // False when a queue refused the message (x-overflow reject-publish*).
  bool route_and_enqueue(const Exchange& exchange, MessagePtr message, bool mandatory);
  void send_return(const Message& message, std::uint16_t code, std::string_view text);
  std::uint64_t untracked_delivery_tag();
  std::uint64_t record_delivery(Queue::Entry& entry, Queue& queue, Consumer* consumer, bool no_ack);
  MaybeError settle(std::uint64_t tag, bool multiple, TxAck::Kind kind, std::uint16_t class_id,
                    std::uint16_t method_id, std::uint32_t delay_ms = 0);
  void settle_one(Unacked& u, TxAck::Kind kind, std::uint32_t delay_ms = 0);
  void pop_settled_front();
  void requeue_all_unacked(TxAck::Kind kind);
  // The content header of a redelivery carries the counts: its properties
  // are re-encoded into `scratch`. First deliveries use the bytes as received.
  const protocol::Bytes& delivery_properties(const Queue::Entry& entry);
  void dispatch_touched_queues();
  void remove_consumer(Consumer& consumer, bool notify_vhost);

  Connection& connection_;
  const std::uint16_t id_;
  bool closing_ = false;

  // Publish assembly.
  PublishState publish_state_ = PublishState::kIdle;
  bool pending_mandatory_ = false;
  std::shared_ptr<Message> pending_message_;

  // Deliveries awaiting ack, indexed by delivery tag - first_unacked_tag_.
  std::deque<Unacked> unacked_;
  std::uint64_t first_unacked_tag_ = 1;
  std::uint64_t next_delivery_tag_ = 1;
  std::uint32_t unacked_live_ = 0;  // entries in unacked_ not yet settled

  std::map<std::string, std::unique_ptr<Consumer>, std::less<>> consumers_;
  std::uint16_t consumer_prefetch_ = 0;  // basic.qos global=false
  std::uint16_t channel_prefetch_ = 0;   // basic.qos global=true
  std::string last_queue_;
  // The last exchange a publish was allowed to write to, and the
  // permissions generation of that check (publishes skip the regex).
  std::string writable_exchange_;
  std::uint64_t writable_generation_ = 0;

  // Publisher confirms.
  bool confirm_mode_ = false;
  std::uint64_t next_publish_seq_ = 1;
  std::uint64_t confirmed_upto_ = 0;
  std::vector<std::uint64_t> nacked_;  // publish seqs to nack, ascending
  // Publishes whose messages are not stored yet, per storage batch: their
  // confirms (and every later one) wait for the batch. Ascending.
  struct AwaitingStorage {
    std::uint64_t batch;
    std::uint64_t first_seq;
  };
  std::deque<AwaitingStorage> awaiting_storage_;
  // Storage completions hold a weak reference: the channel may close first.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  // Asks for `done` to run on this channel once everything so far is stored.
  void when_stored(std::function<void()> done);
  void stored(std::uint64_t batch);

  // Transactions.
  bool tx_mode_ = false;
  std::vector<TxPublish> tx_publishes_;
  std::vector<TxAck> tx_acks_;

  // Direct reply-to: the pseudo-consumer and the token naming this channel.
  std::string reply_consumer_tag_;
  std::string reply_token_;

  std::vector<Queue*> route_scratch_;
  std::vector<const Exchange*> held_scratch_;  // delayed exchanges reached
  protocol::Bytes properties_scratch_;
  std::vector<std::shared_ptr<Queue>> touched_queues_;
};

}  // namespace warren::broker
