// Consumer: handler dispatch and settlement (see consumer.hpp).

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>

#include "roles.hpp"

namespace warren::client {

namespace detail {

namespace m = protocol::method;

namespace {
// Short enough for the small-string buffer: every basic.deliver carries it.
std::string make_tag() {
  static std::uint64_t counter = 0;
  return fmt::format("wc.{}.{}", ::getpid() % 10000, ++counter);
}
}  // namespace

ConsumerCore::ConsumerCore(std::shared_ptr<ConnectionCore> conn, std::string queue,
                           ConsumerOptions options, SyncHandler sync, AsyncHandler async)
    : tag_(options.consumer_tag.empty() ? make_tag() : options.consumer_tag),
      queue_(std::move(queue)),
      conn_(std::move(conn)),
      options_(std::move(options)),
      sync_(std::move(sync)),
      async_(std::move(async)) {}

ConsumerCore::~ConsumerCore() {
  if (ch_) conn_->abandon_channel(ch_);
}

asio::awaitable<void> ConsumerCore::start() {
  ch_ = conn_->allocate_channel(this);
  try {
    co_await conn_->open_channel(*ch_);
    co_await subscribe();
  } catch (...) {
    ch_->listener = nullptr;
    conn_->release_channel(ch_->id);
    ch_.reset();
    done = true;
    throw;
  }
}

asio::awaitable<void> ConsumerCore::subscribe() {
  ack_count_ = 0;
  held_ = 0;
  if (!options_.no_ack) {
    const m::BasicQos qos{0, options_.prefetch, false};
    co_await conn_->rpc(*ch_, qos, true);
  }
  m::BasicConsume c;
  c.queue = queue_;
  c.consumer_tag = tag_;
  c.no_ack = options_.no_ack;
  c.exclusive = options_.exclusive;
  if (options_.priority != 0) c.arguments.push_back({"x-priority", options_.priority});
  auto st = co_await conn_->rpc(*ch_, c, true);
  tag_ = std::get<m::BasicConsumeOk>(st->reply).consumer_tag;
}

asio::awaitable<void> ConsumerCore::recover() {
  if (done || stopping_) co_return;
  co_await subscribe();
}

void ConsumerCore::on_deliver(Delivery& d) {
  if (!ch_ || !ch_->usable()) return;  // the broker requeues it with the channel
  if (done) {
    // Stopped on its own (a failed Retry): hand back what was still in flight.
    if (!options_.no_ack) conn_->send(ch_->id, m::BasicNack{d.delivery_tag, false, true});
    return;
  }
  ++delivered;
  const std::uint64_t epoch = ch_->epoch;
  if (sync_) {
    Outcome outcome;
    try {
      outcome = sync_(d);
    } catch (...) {
      outcome = options_.on_exception;
    }
    if (!options_.no_ack) settle(outcome, d.delivery_tag, epoch, true);
    return;
  }
  ++in_flight;
  asio::co_spawn(
      conn_->executor(),
      [self = shared_from_this(), d = d, epoch]() mutable {
        return self->run_async(std::move(d), epoch);
      },
      asio::detached);
}

asio::awaitable<void> ConsumerCore::run_async(Delivery d, std::uint64_t epoch) {
  auto self = shared_from_this();
  Outcome outcome = options_.on_exception;
  try {
    outcome = co_await async_(d);
  } catch (...) {
    outcome = options_.on_exception;
  }
  if (!options_.no_ack) settle(outcome, d.delivery_tag, epoch, false);
  --in_flight;
  conn_->cv().notify_all();
}

void ConsumerCore::flush_acks() {
  if (ack_count_ == 0) return;
  if (ch_ && ch_->usable()) conn_->send(ch_->id, m::BasicAck{ack_last_, ack_count_ > 1});
  ack_count_ = 0;
}

void ConsumerCore::settle(const Outcome& outcome, std::uint64_t tag, std::uint64_t epoch,
                          bool in_order) {
  // A delivery of a lost channel: the broker has already requeued it.
  if (!ch_ || !ch_->usable() || epoch != ch_->epoch) return;
  const std::uint16_t id = ch_->id;
  if (std::holds_alternative<Ack>(outcome)) {
    if (in_order && held_ == 0 && options_.multi_ack > 1) {
      ack_last_ = tag;
      if (++ack_count_ >= options_.multi_ack) flush_acks();
      return;
    }
    flush_acks();
    conn_->send(id, m::BasicAck{tag, false});
    return;
  }
  flush_acks();
  if (std::holds_alternative<Requeue>(outcome)) {
    conn_->send(id, m::BasicNack{tag, false, true});
    return;
  }
  if (std::holds_alternative<Reject>(outcome)) {
    conn_->send(id, m::BasicReject{tag, false});
    return;
  }
  const auto delay = std::get<Retry>(outcome).delay;
  const auto delay_ms = static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(delay.count(), 0, std::numeric_limits<std::uint32_t>::max()));
  if (conn_->capabilities().nack_delay) {
    conn_->send(id, m::BasicWarrenNackDelay{tag, false, delay_ms});
    return;
  }
  switch (options_.retry_fallback) {
    case RetryFallback::kFail:
      conn_->send(id, m::BasicNack{tag, false, true});
      conn_->send(id, m::BasicCancel{tag_, true});
      fail(Error(
          Errc::kUnsupported,
          fmt::format("Retry{{{} ms}}: the server ({} {}) does not advertise "
                      "warren.nack_delay; the delivery was requeued and the consumer "
                      "stopped (see ConsumerOptions::retry_fallback)",
                      delay_ms, conn_->capabilities().product, conn_->capabilities().version)));
      return;
    case RetryFallback::kRequeueNow:
      conn_->send(id, m::BasicNack{tag, false, true});
      return;
    case RetryFallback::kReject:
      conn_->send(id, m::BasicReject{tag, false});
      return;
    case RetryFallback::kClientDelay:
      ++held_;
      asio::co_spawn(
          conn_->executor(),
          [self = shared_from_this(), tag, epoch, delay]() {
            return self->hold_then_requeue(tag, epoch, delay);
          },
          asio::detached);
      return;
  }
}

asio::awaitable<void> ConsumerCore::hold_then_requeue(std::uint64_t tag, std::uint64_t epoch,
                                                      std::chrono::milliseconds delay) {
  auto self = shared_from_this();
  asio::steady_timer timer(conn_->executor(), delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!ch_ || !ch_->usable() || epoch != ch_->epoch) co_return;
  --held_;
  conn_->send(ch_->id, m::BasicNack{tag, false, true});
  conn_->cv().notify_all();
}

void ConsumerCore::fail(const Error& e) {
  if (done) return;
  done = true;
  error = std::make_exception_ptr(e);
  if (options_.on_error) options_.on_error(e);
  conn_->cv().notify_all();
}

void ConsumerCore::on_server_cancel() {
  fail(Error(Errc::kClosed, fmt::format("the server cancelled consumer {} on queue '{}' (deleted?)",
                                        tag_, queue_)));
}

void ConsumerCore::on_channel_closed(const Error& e) {
  ack_count_ = 0;
  fail(e);
}

void ConsumerCore::on_connection_lost(const Error&) {
  // Unsettled deliveries go back to the queue on the server's side; the
  // consumer comes back with recover().
  ack_count_ = 0;
  held_ = 0;
  conn_->cv().notify_all();
}

asio::awaitable<void> ConsumerCore::stop(std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  if (!ch_) co_return;
  stopping_ = true;
  const auto deadline = deadline_after(timeout);
  if (!done && ch_->open && conn_->is_open()) {
    try {
      const m::BasicCancel cancel{tag_, false};
      co_await conn_->rpc(*ch_, cancel);
    } catch (const Error&) {
      // Gone with its channel or connection; nothing left to cancel.
    }
  }
  co_await wait_for(
      conn_->cv(), deadline, [&] { return (in_flight == 0 && held_ == 0) || !conn_->is_open(); },
      "handlers still running at stop()");
  flush_acks();
  done = true;
  co_await conn_->close_channel(ch_);
  ch_.reset();
  conn_->cv().notify_all();
}

asio::awaitable<bool> ConsumerCore::wait_done(std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  const auto deadline = deadline_after(timeout);
  while (!done) {
    if (!co_await conn_->cv().wait_until(deadline)) break;
  }
  co_return done;
}

}  // namespace detail

const std::string& Consumer::tag() const {
  return core_->tag_;
}
const std::string& Consumer::queue() const {
  return core_->queue_;
}
std::uint64_t Consumer::delivered() const {
  return core_ ? core_->delivered : 0;
}
std::uint64_t Consumer::in_flight() const {
  return core_ ? core_->in_flight : 0;
}
bool Consumer::done() const {
  return core_ == nullptr || core_->done;
}
const std::exception_ptr& Consumer::error() const {
  static const std::exception_ptr none;
  return core_ ? core_->error : none;
}

boost::asio::awaitable<void> Consumer::stop(std::chrono::milliseconds timeout) {
  if (!core_) co_return;
  auto core = core_;
  co_await core->stop(timeout);
}

boost::asio::awaitable<bool> Consumer::wait_done(std::chrono::milliseconds timeout) {
  if (!core_) co_return true;
  auto core = core_;
  co_return co_await core->wait_done(timeout);
}

}  // namespace warren::client
