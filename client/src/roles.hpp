#pragma once
// PublisherCore and ConsumerCore: the channel listeners behind Publisher and
// Consumer. Owned by shared_ptr from the handles (and from running handler
// coroutines); the channel points back with a raw pointer that close/stop
// clears. Thread: the connection's executor.

#include <deque>
#include <memory>
#include <string>

#include "core.hpp"

namespace warren::client::detail {

// The header that ties a basic.return to its publish (publisher.hpp).
inline constexpr std::string_view kPublishSeqHeader = "x-warren-publish-seq";

struct ConfirmState {
  std::optional<ConfirmResult> result;
  std::exception_ptr error;
  std::shared_ptr<Notifier> cv;
  // basic.return came for it: its ack means kReturned.
  bool returned = false;
  std::uint16_t return_code = 0;
  std::string return_text;
  bool ready() const { return result.has_value() || error != nullptr; }
};

class PublisherCore : public ChannelListener, public std::enable_shared_from_this<PublisherCore> {
 public:
  PublisherCore(std::shared_ptr<ConnectionCore> conn, PublisherOptions options);
  ~PublisherCore() override;
  asio::awaitable<void> start();
  asio::awaitable<Confirmation> publish(std::string_view exchange, std::string_view routing_key,
                                        const Message& message, bool mandatory);
  std::optional<Confirmation> try_publish(std::string_view exchange, std::string_view routing_key,
                                          const Message& message, bool mandatory);
  asio::awaitable<void> wait_for_confirms(std::chrono::milliseconds timeout);
  asio::awaitable<void> close();

  void on_return(Returned&& r) override;
  void on_confirm(std::uint64_t tag, bool multiple, bool ack) override;
  void on_channel_closed(const Error& e) override;
  void on_connection_lost(const Error& e) override;
  asio::awaitable<void> recover() override;

  std::size_t in_flight() const { return unconfirmed_.size(); }
  std::uint64_t resent() const { return resent_; }
  std::uint64_t published = 0, nacked = 0, returned = 0;

 private:
  // Outbound bytes beyond which publishing yields to the writer.
  static constexpr std::size_t kYieldBacklog = 64 * 1024;
  static void check_names(std::string_view exchange, std::string_view routing_key);
  bool can_send_now() const;
  Confirmation send_now(std::string_view exchange, std::string_view routing_key,
                        const Message& message, bool mandatory);
  void fail_all(const Error& e);
  void settle(ConfirmState& s, bool ack);
  // Appends basic.publish; mandatory messages are tagged with `seq` when
  // confirms are on (publisher.hpp).
  void send(std::string_view exchange, std::string_view routing_key, const Message& message,
            bool mandatory, std::uint64_t seq);

  std::shared_ptr<ConnectionCore> conn_;
  PublisherOptions options_;
  std::shared_ptr<ChannelCore> ch_;
  std::uint64_t next_seq_ = 1;
  // A copy of an unconfirmed message, kept with resend_unconfirmed.
  struct Copy {
    std::string exchange, routing_key;
    bool mandatory = false;
    Message message;
  };
  struct Unconfirmed {
    std::uint64_t seq = 0;  // publish sequence number on the current channel
    std::shared_ptr<ConfirmState> state;
    std::unique_ptr<Copy> copy;
  };
  std::deque<Unconfirmed> unconfirmed_;
  std::uint64_t resent_ = 0;
  // Since the last wait_for_confirms(): what to report.
  std::uint64_t nacks_pending_report_ = 0;
  std::uint64_t returns_pending_report_ = 0;
  std::exception_ptr failure_pending_report_;
  bool closed_ = false;
};

class ConsumerCore : public ChannelListener, public std::enable_shared_from_this<ConsumerCore> {
 public:
  ConsumerCore(std::shared_ptr<ConnectionCore> conn, std::string queue, ConsumerOptions options,
               SyncHandler sync, AsyncHandler async);
  ~ConsumerCore() override;
  asio::awaitable<void> start();
  asio::awaitable<void> stop(std::chrono::milliseconds timeout);
  asio::awaitable<bool> wait_done(std::chrono::milliseconds timeout);

  void on_deliver(Delivery& d) override;
  void on_server_cancel() override;
  void on_channel_closed(const Error& e) override;
  void on_connection_lost(const Error& e) override;
  asio::awaitable<void> recover() override;
  void after_batch() override { flush_acks(); }
  void on_queue_renamed(const std::string& from, const std::string& to) override {
    if (queue_ == from) queue_ = to;
  }

  std::string tag_;
  std::string queue_;
  std::uint64_t delivered = 0;
  std::uint64_t in_flight = 0;
  bool done = false;
  std::exception_ptr error;

 private:
  asio::awaitable<void> subscribe();
  asio::awaitable<void> run_async(Delivery d, std::uint64_t epoch);
  asio::awaitable<void> hold_then_requeue(std::uint64_t tag, std::uint64_t epoch,
                                          std::chrono::milliseconds delay);
  void settle(const Outcome& outcome, std::uint64_t tag, std::uint64_t epoch, bool in_order);
  void flush_acks();
  void fail(const Error& e);

  std::shared_ptr<ConnectionCore> conn_;
  ConsumerOptions options_;
  SyncHandler sync_;
  AsyncHandler async_;
  std::shared_ptr<ChannelCore> ch_;
  // Coalesced acks (synchronous handlers settle in delivery order).
  std::uint64_t ack_last_ = 0;
  std::uint32_t ack_count_ = 0;
  std::uint32_t held_ = 0;  // deliveries held by the client-delay fallback
  bool stopping_ = false;
};

}  // namespace warren::client::detail
