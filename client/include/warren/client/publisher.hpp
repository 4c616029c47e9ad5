#pragma once
// Publisher: one channel in confirm mode (unless confirms are off).
//
// publish() waits (bounded by PublisherOptions::wait_timeout) while
//   - the in-flight window is full (confirm_window unconfirmed messages),
//   - the server has blocked the connection (connection.blocked),
//   - the socket's outbound buffer is over its cap,
//   - the connection is down and being re-established,
// then writes the message and returns a Confirmation. If the wait runs out
// it throws Error(Errc::kTimeout); nothing is sent.
//
// A message written but not yet confirmed when the connection drops is never
// silently dropped. By default its Confirmation fails with
// Errc::kConnectionLost: it may or may not have reached the queue, and the
// caller decides whether to publish it again. With
// PublisherOptions::resend_unconfirmed the publisher keeps a copy of every
// unconfirmed message and, once the connection is back (after topology
// recovery), publishes them again in their original order, before anything
// newer; their Confirmations keep waiting and resolve with the new
// confirms. That is at-least-once: a message the broker had taken before it
// died may arrive twice (deduplicate by message-id, see idempotency.hpp).
// The kept messages fail with kConnectionLost only when the connection is
// closed for good (close(), or auto_reconnect off); waits on them are
// bounded by their timeouts as always.
//
// Without confirms (PublisherOptions::confirms = false) nothing tells
// whether a message arrived: what was buffered or on the wire when the
// connection dropped may be lost without an error. Use confirms for
// anything that matters.
//
// Thread: the connection's executor (see connection.hpp).

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "warren/client/message.hpp"

namespace warren::client {

namespace detail {
class PublisherCore;
struct ConfirmState;
}  // namespace detail

struct PublisherOptions {
  PublisherOptions() = default;  // not an aggregate: see ConnectionOptions
  bool confirms = true;
  // Unconfirmed messages allowed in flight; publish() waits beyond it.
  std::size_t confirm_window = 1000;
  // Upper bound for every wait inside publish().
  std::chrono::milliseconds wait_timeout{30000};
  // Publish unconfirmed messages again after a reconnection instead of
  // failing them (see the class comment). Needs `confirms`; costs a copy of
  // each message while it is unconfirmed.
  bool resend_unconfirmed = false;
  // Called (on the connection's executor) for every basic.return, i.e. a
  // mandatory message that no queue took, before its Confirmation resolves.
  std::function<void(const Returned&)> on_return;
};

// The broker's verdict on one published message.
//   kAck       taken by at least one queue (or not mandatory)
//   kNack      refused by the broker (basic.nack)
//   kReturned  mandatory, and no queue took it: the broker sent basic.return
//              and then acked it (RabbitMQ's order); nothing was enqueued.
//
// How a return finds its message: with confirms on, a mandatory publish
// carries the header `x-warren-publish-seq` (its publish sequence number on
// the channel). The broker sends it back in basic.return, which names the
// message exactly, even when earlier mandatory messages to the same exchange
// and routing key are still unconfirmed. The header is removed from the
// Returned given to on_return, but a mandatory message that is routed
// reaches its consumers with it (as the .NET client's x-dotnet-pub-seq-no).
// Without confirms, mandatory messages go out unchanged and returns are
// reported through on_return only.
enum class ConfirmResult { kAck, kNack, kReturned };

// The broker's verdict on one published message.
class Confirmation {
 public:
  Confirmation() = default;
  // Whether the verdict (or a failure) is in.
  bool ready() const;
  // Waits for the verdict. Throws Error(kConnectionLost) if the connection
  // dropped first, Error(kTimeout) after `timeout`. Without confirms it
  // returns kAck at once.
  boost::asio::awaitable<ConfirmResult> wait(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(60000)) const;
  // wait(), and throws Error(kNacked) on a nack, Error(kReturned) (with the
  // reply code, 312) on a return.
  boost::asio::awaitable<void> acked(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(60000)) const;

 private:
  friend class detail::PublisherCore;
  explicit Confirmation(std::shared_ptr<detail::ConfirmState> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::ConfirmState> state_;
};

class Publisher {
 public:
  Publisher() = default;

  // Sends one message (see the class comment for the waits). `mandatory`
  // asks the broker to return it (on_return; its Confirmation then says
  // kReturned) when no queue takes it. Throws std::invalid_argument when
  // the exchange name or routing key is longer than 255 bytes.
  boost::asio::awaitable<Confirmation> publish(std::string_view exchange,
                                               std::string_view routing_key, const Message& message,
                                               bool mandatory = false);
  // publish() without a coroutine, for tight producer loops: publishes at
  // once and returns its Confirmation when nothing needs waiting for (the
  // connection open and not blocked, the window not full, less than 64 KiB
  // waiting to be written), else returns nullopt and sends nothing; then
  // co_await publish(), which waits as needed and lets the socket drain:
  //   auto c = p.try_publish(x, k, m);
  //   if (!c) c = co_await p.publish(x, k, m);
  // Same exceptions as publish() (kClosed, std::invalid_argument).
  std::optional<Confirmation> try_publish(std::string_view exchange, std::string_view routing_key,
                                          const Message& message, bool mandatory = false);
  // publish() then Confirmation::acked(): one round trip per message. Slow;
  // prefer publishing a batch and then wait_for_confirms(). Throws
  // Error(kReturned) when a mandatory message was not routed.
  boost::asio::awaitable<void> publish_confirmed(std::string_view exchange,
                                                 std::string_view routing_key,
                                                 const Message& message, bool mandatory = false);
  // Waits until every message published so far is confirmed. Throws, for
  // what happened since the previous call (in this order of precedence):
  // the error of a message lost in a disconnection (kConnectionLost) or a
  // channel error; Error(kNacked) if any was nacked; Error(kReturned) if any
  // mandatory message came back unroutable; kTimeout after `timeout`.
  boost::asio::awaitable<void> wait_for_confirms(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

  std::size_t in_flight() const;    // published, not yet confirmed
  std::uint64_t published() const;  // total since creation
  std::uint64_t nacked() const;
  std::uint64_t returned() const;
  // Messages published again after reconnections (resend_unconfirmed).
  std::uint64_t resent() const;

  // Closes the publisher's channel (after wait_for_confirms if you care).
  boost::asio::awaitable<void> close();

 private:
  friend class Connection;
  explicit Publisher(std::shared_ptr<detail::PublisherCore> c) : core_(std::move(c)) {}
  std::shared_ptr<detail::PublisherCore> core_;
};

}  // namespace warren::client
