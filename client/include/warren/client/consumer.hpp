#pragma once
// Consumer (a "worker"): a channel with a prefetch, subscribed to one queue,
// that runs a handler per delivery and settles the delivery with the
// handler's Outcome:
//
//   Ack          -> basic.ack (coalesced into `ack multiple` up to multi_ack)
//   Requeue      -> basic.nack requeue=true (back to the queue at once)
//   Retry{delay} -> Warren's basic.warren-nack-delay (docs/PROTOCOL-EXTENSIONS.md):
//                   redelivered after `delay`, counted as a failed attempt.
//                   Only when the server advertises warren.nack_delay; else
//                   ConsumerOptions::retry_fallback decides (default: fail).
//   Reject       -> basic.reject requeue=false (dead-lettered if the queue
//                   has a dead-letter exchange, else dropped)
//
// A handler that throws counts as ConsumerOptions::on_exception (Reject by
// default, so a poison message ends in the DLQ instead of looping).
//
// After a reconnection the consumer re-subscribes by itself (same queue,
// same tag, same prefetch). Deliveries of the lost connection that were
// still in handlers are not settled (the broker redelivers them).
//
// Thread: handlers run on the connection's executor. A synchronous handler
// runs inline in the read loop (fastest; must not block). An asynchronous
// handler is a coroutine spawned per delivery, so up to `prefetch` of them
// run interleaved.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "warren/client/error.hpp"
#include "warren/client/message.hpp"

namespace warren::client {

namespace detail {
class ConsumerCore;
}

struct Ack {};
struct Requeue {};
struct Retry {
  std::chrono::milliseconds delay{0};
};
struct Reject {};
using Outcome = std::variant<Ack, Requeue, Retry, Reject>;

using SyncHandler = std::function<Outcome(const Delivery&)>;
using AsyncHandler = std::function<boost::asio::awaitable<Outcome>(const Delivery&)>;

// What Retry{delay} does when the server lacks warren.nack_delay.
enum class RetryFallback {
  // Requeue the delivery (nothing is lost), then stop the consumer with
  // Error(kUnsupported): done() and error() say why. The default: a retry
  // policy that silently does something else is a bug waiting to happen.
  kFail,
  // basic.nack requeue=true at once (the delay is ignored).
  kRequeueNow,
  // Hold the delivery (it keeps its prefetch slot) for `delay` on a client
  // timer, then basic.nack requeue=true. Lost if the connection drops while
  // waiting (then the broker redelivers it at once).
  kClientDelay,
  // basic.reject requeue=false (dead-letter).
  kReject,
};

struct ConsumerOptions {
  ConsumerOptions() = default;  // not an aggregate: see ConnectionOptions
  std::uint16_t prefetch = 100;
  // Acks coalesced into one `basic.ack multiple` (1 = one ack per message).
  // Coalesced acks are flushed after every read batch either way.
  std::uint32_t multi_ack = 1;
  std::string consumer_tag;  // empty: the library makes one
  bool exclusive = false;
  bool no_ack = false;        // the broker forgets a message once sent; outcomes are ignored
  std::int32_t priority = 0;  // x-priority, when non-zero
  RetryFallback retry_fallback = RetryFallback::kFail;
  Outcome on_exception = Reject{};
  // Called when the consumer stops on its own (server cancel, kFail above,
  // channel error). Runs on the connection's executor.
  std::function<void(const Error&)> on_error;
};

class Consumer {
 public:
  Consumer() = default;
  const std::string& tag() const;
  const std::string& queue() const;
  std::uint64_t delivered() const;  // deliveries handed to the handler
  std::uint64_t in_flight() const;  // handlers running now
  // Whether the consumer has stopped (stop(), a server cancel or an error).
  bool done() const;
  // Why it stopped by itself, if it did.
  const std::exception_ptr& error() const;
  // Graceful stop: basic.cancel, wait for the running handlers and their
  // settlements (bounded by `timeout`), flush acks, close the channel.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits until done() (a server cancel or an error), at most `timeout`;
  // returns done().
  boost::asio::awaitable<bool> wait_done(std::chrono::milliseconds timeout);

 private:
  friend class Connection;
  explicit Consumer(std::shared_ptr<detail::ConsumerCore> c) : core_(std::move(c)) {}
  std::shared_ptr<detail::ConsumerCore> core_;
};

}  // namespace warren::client
