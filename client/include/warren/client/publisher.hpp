#pragma once
// Publisher: one channel in confirm mode (unless confirms are off).
//
// publish() waits (bounded by PublisherOptions::wait_timeout) while
//   - the in-flight window is full (confirm_window unconfirmed messages),
//   - the server has blocked the connection (connection.blocked),
//   - the socket's outbound buffer is over its cap,
//   - the connection is down and being re-established,
// then writes the message and returns a Confirmation. If the wait runs out
// it throws Error(Errc::kTimeout); nothing is sent. A message written but not
// yet confirmed when the connection drops is never silently dropped: its
// Confirmation fails with Errc::kConnectionLost (it may or may not have
// reached the queue; publish it again if you need at-least-once).
//
// Thread: the connection's executor (see connection.hpp).

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
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
  // Called (on the connection's executor) for every basic.return, i.e. a
  // mandatory message that no queue took. Its Confirmation still resolves
  // (RabbitMQ acks a returned message: it was handled, just not routed).
  std::function<void(const Returned&)> on_return;
};

enum class ConfirmResult { kAck, kNack };

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
  // wait(), and throws Error(kNacked) on a nack.
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
  // asks the broker to return it (on_return) when no queue takes it.
  boost::asio::awaitable<Confirmation> publish(std::string_view exchange,
                                               std::string_view routing_key, const Message& message,
                                               bool mandatory = false);
  // publish() then Confirmation::acked(): one round trip per message. Slow;
  // prefer publishing a batch and then wait_for_confirms().
  boost::asio::awaitable<void> publish_confirmed(std::string_view exchange,
                                                 std::string_view routing_key,
                                                 const Message& message, bool mandatory = false);
  // Waits until every message published so far is confirmed. Throws
  // Error(kNacked) if any of them was nacked, kConnectionLost if any was lost
  // in a disconnection, kTimeout after `timeout`.
  boost::asio::awaitable<void> wait_for_confirms(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

  std::size_t in_flight() const;    // published, not yet confirmed
  std::uint64_t published() const;  // total since creation
  std::uint64_t nacked() const;
  std::uint64_t returned() const;

  // Closes the publisher's channel (after wait_for_confirms if you care).
  boost::asio::awaitable<void> close();

 private:
  friend class Connection;
  explicit Publisher(std::shared_ptr<detail::PublisherCore> c) : core_(std::move(c)) {}
  std::shared_ptr<detail::PublisherCore> core_;
};

}  // namespace warren::client
