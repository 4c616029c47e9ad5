// Publisher: confirm tracking with a bounded window (see publisher.hpp).

#include <fmt/core.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "roles.hpp"

namespace warren::client {

namespace detail {

namespace m = protocol::method;

PublisherCore::PublisherCore(std::shared_ptr<ConnectionCore> conn, PublisherOptions options)
    : conn_(std::move(conn)), options_(std::move(options)) {
  if (options_.confirm_window == 0) options_.confirm_window = 1;
}

PublisherCore::~PublisherCore() {
  if (ch_ && !closed_) conn_->abandon_channel(ch_);
}

asio::awaitable<void> PublisherCore::start() {
  ch_ = conn_->allocate_channel(this);
  try {
    co_await conn_->open_channel(*ch_);
    co_await recover();
  } catch (...) {
    ch_->listener = nullptr;
    conn_->release_channel(ch_->id);
    ch_.reset();
    closed_ = true;
    throw;
  }
}

asio::awaitable<void> PublisherCore::recover() {
  next_seq_ = 1;
  if (options_.confirms) {
    if (!conn_->capabilities().publisher_confirms) {
      throw Error(Errc::kUnsupported, "the server does not support publisher confirms");
    }
    const m::ConfirmSelect select{false};
    co_await conn_->rpc(*ch_, select, true);
  }
  // Messages kept from the lost connection (resend_unconfirmed) go again,
  // in their order and before anything published from now on, with the new
  // channel's sequence numbers; their Confirmations still wait.
  for (Unconfirmed& u : unconfirmed_) {
    if (!u.copy) continue;  // cannot happen: without copies they were failed
    u.seq = next_seq_++;
    send(u.copy->exchange, u.copy->routing_key, u.copy->message, u.copy->mandatory, u.seq);
    ++resent_;
  }
}

asio::awaitable<Confirmation> PublisherCore::publish(std::string_view exchange,
                                                     std::string_view routing_key,
                                                     const Message& message, bool mandatory) {
  auto self = shared_from_this();
  if (closed_) throw Error(Errc::kClosed, "the publisher is closed");
  check_names(exchange, routing_key);
  // The common case waits for nothing: skip the waiting loop (and its
  // coroutine frames) altogether.
  const bool ready_now = can_send_now();
  const auto deadline =
      ready_now ? Clock::time_point::max() : deadline_after(options_.wait_timeout);
  while (!ready_now) {
    co_await conn_->wait_ready(deadline, true);
    if (closed_) throw Error(Errc::kClosed, "the publisher is closed");
    if (!ch_->open) {
      // Closed by a channel error (e.g. 404 for a missing exchange): reopen.
      co_await conn_->open_channel(*ch_);
      co_await recover();
      continue;
    }
    if (options_.confirms && unconfirmed_.size() >= options_.confirm_window) {
      const bool notified = co_await conn_->cv().wait_until(deadline);
      if (!notified && unconfirmed_.size() >= options_.confirm_window) {
        throw Error(
            Errc::kTimeout,
            fmt::format("timed out: {} messages await confirms (the window)", unconfirmed_.size()));
      }
      continue;
    }
    break;
  }
  Confirmation c = send_now(exchange, routing_key, message, mandatory);
  // Let the writer start on a large batch instead of buffering it all.
  if (conn_->write_backlog() >= kYieldBacklog) {
    co_await asio::post(conn_->executor(), asio::use_awaitable);
  }
  co_return c;
}

void PublisherCore::check_names(std::string_view exchange, std::string_view routing_key) {
  if (exchange.size() > 255 || routing_key.size() > 255) {
    throw std::invalid_argument("exchange names and routing keys are at most 255 bytes");
  }
}

bool PublisherCore::can_send_now() const {
  return conn_->is_open() && !conn_->blocked() &&
         conn_->write_backlog() < conn_->options().max_write_buffer && ch_->usable() &&
         (!options_.confirms || unconfirmed_.size() < options_.confirm_window);
}

std::optional<Confirmation> PublisherCore::try_publish(std::string_view exchange,
                                                       std::string_view routing_key,
                                                       const Message& message, bool mandatory) {
  if (closed_) throw Error(Errc::kClosed, "the publisher is closed");
  check_names(exchange, routing_key);
  // Past kYieldBacklog the caller must go through publish(), which yields to
  // the writer: a loop of try_publish() alone would never let it run.
  if (!can_send_now() || conn_->write_backlog() >= kYieldBacklog) return std::nullopt;
  return send_now(exchange, routing_key, message, mandatory);
}

Confirmation PublisherCore::send_now(std::string_view exchange, std::string_view routing_key,
                                     const Message& message, bool mandatory) {
  const std::uint64_t seq = next_seq_;
  send(exchange, routing_key, message, mandatory, seq);
  ++published;
  std::shared_ptr<ConfirmState> state;  // null: ready, acked (no confirms)
  if (options_.confirms) {
    state = std::make_shared<ConfirmState>();
    state->cv = conn_->cv_ptr();
    Unconfirmed& u = unconfirmed_.emplace_back();
    u.seq = seq;
    u.state = state;
    if (options_.resend_unconfirmed) {
      u.copy = std::make_unique<Copy>();
      u.copy->exchange = exchange;
      u.copy->routing_key = routing_key;
      u.copy->mandatory = mandatory;
      u.copy->message = message;
    }
    ++next_seq_;
  }
  return Confirmation(std::move(state));
}

void PublisherCore::send(std::string_view exchange, std::string_view routing_key,
                         const Message& message, bool mandatory, std::uint64_t seq) {
  if (options_.confirms && mandatory) {
    // Tag it so that a basic.return names this very message (publisher.hpp).
    BasicProperties tagged = message.properties;
    if (!tagged.headers) tagged.headers.emplace();
    protocol::set_field(*tagged.headers, kPublishSeqHeader, static_cast<std::int64_t>(seq));
    conn_->send_publish(ch_->id, exchange, routing_key, mandatory, tagged, message.body);
  } else {
    conn_->send_publish(ch_->id, exchange, routing_key, mandatory, message.properties,
                        message.body);
  }
}

void PublisherCore::settle(ConfirmState& s, bool ack) {
  if (!ack) {
    s.result = ConfirmResult::kNack;
    ++nacked;
    ++nacks_pending_report_;
  } else if (s.returned) {
    s.result = ConfirmResult::kReturned;
    ++returns_pending_report_;
  } else {
    s.result = ConfirmResult::kAck;
  }
}

void PublisherCore::on_confirm(std::uint64_t tag, bool multiple, bool ack) {
  if (multiple) {
    while (!unconfirmed_.empty() && unconfirmed_.front().seq <= tag) {
      settle(*unconfirmed_.front().state, ack);
      unconfirmed_.pop_front();
    }
  } else {
    auto it = std::lower_bound(unconfirmed_.begin(), unconfirmed_.end(), tag,
                               [](const auto& e, std::uint64_t t) { return e.seq < t; });
    if (it != unconfirmed_.end() && it->seq == tag) {
      settle(*it->state, ack);
      unconfirmed_.erase(it);
    }
  }
  conn_->cv().notify_all();
}

void PublisherCore::on_return(Returned&& r) {
  ++returned;
  if (options_.confirms && r.properties.headers) {
    auto& headers = *r.properties.headers;
    auto it = std::find_if(headers.begin(), headers.end(), [](const protocol::FieldEntry& e) {
      return e.name == kPublishSeqHeader;
    });
    if (it != headers.end()) {
      const std::optional<std::int64_t> seq = it->value.as_int();
      headers.erase(it);
      if (headers.empty()) r.properties.headers.reset();
      // The return precedes the message's ack, so it is still unconfirmed.
      if (seq && *seq > 0) {
        const auto tag = static_cast<std::uint64_t>(*seq);
        auto u = std::lower_bound(unconfirmed_.begin(), unconfirmed_.end(), tag,
                                  [](const auto& e, std::uint64_t t) { return e.seq < t; });
        if (u != unconfirmed_.end() && u->seq == tag) {
          u->state->returned = true;
          u->state->return_code = r.reply_code;
          u->state->return_text = r.reply_text;
        }
      }
    }
  }
  if (options_.on_return) options_.on_return(r);
}

void PublisherCore::fail_all(const Error& e) {
  if (unconfirmed_.empty()) return;
  auto err = std::make_exception_ptr(e);
  for (auto& u : unconfirmed_)
    u.state->error = err;
  unconfirmed_.clear();
  failure_pending_report_ = err;
  conn_->cv().notify_all();
}

void PublisherCore::on_channel_closed(const Error& e) {
  fail_all(e);
}

void PublisherCore::on_connection_lost(const Error& e) {
  // With resend_unconfirmed, keep them for recover() unless the connection
  // is gone for good (closed, or no reconnection).
  if (options_.resend_unconfirmed && !closed_ && e.errc() != Errc::kClosed &&
      conn_->options().auto_reconnect && conn_->state() != ConnectionCore::State::kClosed) {
    for (auto& u : unconfirmed_)
      u.state->returned = false;  // its ack never came: it goes again
    conn_->cv().notify_all();
    return;
  }
  fail_all(Error(Errc::kConnectionLost,
                 fmt::format("unconfirmed when the connection dropped ({}); it may or may not "
                             "have been routed",
                             e.what())));
}

asio::awaitable<void> PublisherCore::wait_for_confirms(std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  co_await wait_for(
      conn_->cv(), deadline_after(timeout), [&] { return unconfirmed_.empty(); },
      "waiting for publisher confirms");
  if (failure_pending_report_) {
    auto e = std::exchange(failure_pending_report_, nullptr);
    nacks_pending_report_ = 0;
    returns_pending_report_ = 0;
    std::rethrow_exception(e);
  }
  if (nacks_pending_report_ > 0) {
    const auto n = std::exchange(nacks_pending_report_, 0);
    returns_pending_report_ = 0;
    throw Error(Errc::kNacked, fmt::format("{} message(s) nacked by the broker", n));
  }
  if (returns_pending_report_ > 0) {
    const auto n = std::exchange(returns_pending_report_, 0);
    throw Error(Errc::kReturned,
                fmt::format("{} mandatory message(s) returned unroutable by the broker", n), 312);
  }
}

asio::awaitable<void> PublisherCore::close() {
  auto self = shared_from_this();
  if (closed_) co_return;
  closed_ = true;
  fail_all(Error(Errc::kClosed, "the publisher was closed before its confirm arrived"));
  co_await conn_->close_channel(ch_);
}

}  // namespace detail

// ---------------------------------------------------------------- handles

bool Confirmation::ready() const {
  return state_ == nullptr || state_->ready();
}

boost::asio::awaitable<ConfirmResult> Confirmation::wait(std::chrono::milliseconds timeout) const {
  if (state_ == nullptr) co_return ConfirmResult::kAck;
  auto state = state_;
  if (!state->ready()) {
    co_await detail::wait_for(
        *state->cv, detail::deadline_after(timeout), [&] { return state->ready(); },
        "waiting for a publisher confirm");
  }
  if (state->error) std::rethrow_exception(state->error);
  co_return *state->result;
}

boost::asio::awaitable<void> Confirmation::acked(std::chrono::milliseconds timeout) const {
  const ConfirmResult r = co_await wait(timeout);
  if (r == ConfirmResult::kNack) throw Error(Errc::kNacked, "the broker nacked the message");
  if (r == ConfirmResult::kReturned) {
    throw Error(Errc::kReturned,
                fmt::format("the broker returned the message: {} {}", state_->return_code,
                            state_->return_text),
                state_->return_code);
  }
}

// Not a coroutine (one frame less per message): the core's coroutine keeps
// itself alive once it runs, and the caller co_awaits this at once.
std::optional<Confirmation> Publisher::try_publish(std::string_view exchange,
                                                   std::string_view routing_key,
                                                   const Message& message, bool mandatory) {
  if (!core_) throw Error(Errc::kClosed, "empty Publisher");
  return core_->try_publish(exchange, routing_key, message, mandatory);
}

boost::asio::awaitable<Confirmation> Publisher::publish(std::string_view exchange,
                                                        std::string_view routing_key,
                                                        const Message& message, bool mandatory) {
  if (!core_) throw Error(Errc::kClosed, "empty Publisher");
  return core_->publish(exchange, routing_key, message, mandatory);
}

boost::asio::awaitable<void> Publisher::publish_confirmed(std::string_view exchange,
                                                          std::string_view routing_key,
                                                          const Message& message, bool mandatory) {
  Confirmation c = co_await publish(exchange, routing_key, message, mandatory);
  co_await c.acked();
}

boost::asio::awaitable<void> Publisher::wait_for_confirms(std::chrono::milliseconds timeout) {
  if (!core_) co_return;
  auto core = core_;
  co_await core->wait_for_confirms(timeout);
}

std::size_t Publisher::in_flight() const {
  return core_ ? core_->in_flight() : 0;
}
std::uint64_t Publisher::published() const {
  return core_ ? core_->published : 0;
}
std::uint64_t Publisher::nacked() const {
  return core_ ? core_->nacked : 0;
}
std::uint64_t Publisher::returned() const {
  return core_ ? core_->returned : 0;
}
std::uint64_t Publisher::resent() const {
  return core_ ? core_->resent() : 0;
}

boost::asio::awaitable<void> Publisher::close() {
  if (!core_) co_return;
  auto core = core_;
  co_await core->close();
}

}  // namespace warren::client
