#include "delayed_messages.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "channel.hpp"
#include "log.hpp"
#include "persister.hpp"
#include "stored_message.hpp"
#include "vhost.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::broker {

namespace {

// Delayed record, version 2: u8 version, u16 vhost length, vhost, u16
// length and name of the exchange that routes it when due, then the message
// record (stored_message.hpp), which carries its own exchange and routing
// key. Version 1 had no routing exchange (it was the message's).
constexpr std::uint8_t kRecordVersion = 2;

void put_string16(std::string& out, const std::string& s) {
  out.push_back(static_cast<char>((s.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(s.size() & 0xff));
  out += s;
}

// Reads a u16-length string at `at`, advancing it; nullopt when truncated.
std::optional<std::string> get_string16(std::string_view in, std::size_t& at) {
  if (at + 2 > in.size()) return std::nullopt;
  const std::size_t size =
      (static_cast<unsigned char>(in[at]) << 8) | static_cast<unsigned char>(in[at + 1]);
  if (at + 2 + size > in.size()) return std::nullopt;
  std::string s(in.substr(at + 2, size));
  at += 2 + size;
  return s;
}
// State record, version 2: u8 version, u64 next id, u64 pending count, then
// per vhost with messages waiting: u16 name length, name, u64 count.
// (Version 1 stopped after the total.)
constexpr std::uint8_t kStateVersion = 2;

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint64_t get_u64(std::string_view in, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

std::string encode_record(const std::string& vhost, const std::string& exchange,
                          const Message& message) {
  std::string out;
  out.push_back(static_cast<char>(kRecordVersion));
  put_string16(out, vhost);
  put_string16(out, exchange);
  out += encode_stored_message(message, SteadyTime::max(), !message.persistent);
  return out;
}

// The plugin's convention: a delivered message carries the delay it waited
// as a negative x-delay, so sending it through a delayed exchange again
// routes it at once. Returns a copy with that header.
MessagePtr with_negated_delay(const Message& message, std::int64_t delay_ms) {
  protocol::BasicProperties props;
  if (!protocol::decode_properties(message.properties, props) || !props.headers) return nullptr;
  const protocol::FieldValue* old = protocol::find_field(*props.headers, "x-delay");
  protocol::FieldValue negated =
      old != nullptr && old->type_letter() == 'I' && delay_ms <= INT32_MAX
          ? protocol::FieldValue(static_cast<std::int32_t>(-delay_ms))
          : protocol::FieldValue(std::int64_t{-delay_ms});
  protocol::set_field(*props.headers, "x-delay", std::move(negated));
  return copy_with_properties(message, props);
}

// The expiration property as a TTL (a recovered message's ttl_ms is not
// stored); -1 when absent or not a number.
std::int64_t ttl_of(const Message& message) {
  protocol::BasicProperties props;
  if (!protocol::decode_properties(message.properties, props) || !props.expiration) return -1;
  return parse_expiration(*props.expiration).value_or(-1);
}

}  // namespace

DelayedMessages::DelayedMessages(boost::asio::io_context& io, Persister* store,
                                 FindVHost find_vhost, std::size_t window)
    : io_(io),
      store_(store),
      find_vhost_(std::move(find_vhost)),
      window_(store, kTimeline, window, Key{0, 0}),
      timer_(io),
      retry_timer_(io) {}

DelayedMessages::~DelayedMessages() = default;

std::optional<std::int64_t> DelayedMessages::delay_of(const Message& message) {
  protocol::BasicProperties props;
  if (!protocol::decode_properties(message.properties, props) || !props.headers) {
    return std::nullopt;
  }
  const protocol::FieldValue* v = protocol::find_field(*props.headers, "x-delay");
  if (v == nullptr) return std::nullopt;
  auto delay = v->as_int();
  if (!delay || *delay <= 0) return std::nullopt;
  return delay;
}

void DelayedMessages::recover(const std::string* state) {
  if (store_ == nullptr) return;
  const auto version = state != nullptr && !state->empty() ? static_cast<std::uint8_t>((*state)[0])
                                                           : std::uint8_t{0};
  if ((version == 1 || version == kStateVersion) && state->size() >= 17) {
    next_id_ = std::max<std::uint64_t>(1, get_u64(*state, 1));
    pending_ = get_u64(*state, 9);
    for (std::size_t at = 17; at + 2 <= state->size();) {
      const std::size_t size = (static_cast<unsigned char>((*state)[at]) << 8) |
                               static_cast<unsigned char>((*state)[at + 1]);
      if (at + 2 + size + 8 > state->size()) break;
      pending_by_vhost_[state->substr(at + 2, size)] = get_u64(*state, at + 2 + size);
      at += 2 + size + 8;
    }
  }
  window_.assume_stored();
  refill();
}

void DelayedMessages::write_state() {
  if (store_ == nullptr) return;
  std::string state;
  state.push_back(static_cast<char>(kStateVersion));
  put_u64(state, next_id_);
  put_u64(state, pending_);
  for (const auto& [vhost, count] : pending_by_vhost_) {
    state.push_back(static_cast<char>((vhost.size() >> 8) & 0xff));
    state.push_back(static_cast<char>(vhost.size() & 0xff));
    state += vhost;
    put_u64(state, count);
  }
  store_->set_state(kTimeline, std::move(state));
}

std::uint64_t DelayedMessages::pending_in(const std::string& vhost) const {
  auto it = pending_by_vhost_.find(vhost);
  return it != pending_by_vhost_.end() ? it->second : 0;
}

void DelayedMessages::count_out(const std::string& vhost) {
  if (pending_ > 0) --pending_;
  auto it = pending_by_vhost_.find(vhost);
  if (it == pending_by_vhost_.end()) return;
  if (--it->second == 0) pending_by_vhost_.erase(it);
}

void DelayedMessages::add(const VHost& vhost, const Exchange& exchange, MessagePtr message,
                          std::int64_t delay_ms, Channel* channel,
                          std::weak_ptr<int> channel_alive) {
  if (MessagePtr rewritten = with_negated_delay(*message, delay_ms)) message = rewritten;
  const Key key{unix_ms_after(delay_ms), next_id_++};
  ++pending_;
  ++pending_by_vhost_[vhost.name()];
  if (store_ != nullptr) {
    store_->schedule(kTimeline, key.due, key.id,
                     encode_record(vhost.name(), exchange.name, *message));
    write_state();
  }
  insert(key,
         Held{vhost.name(), exchange.name, std::move(message), channel, std::move(channel_alive)});
}

void DelayedMessages::insert(const Key& key, Held held) {
  // Past the window the store holds it (unless a refill is under way: it
  // merges).
  if (window_.add(key, std::move(held))) arm_timer();
}

void DelayedMessages::arm_timer() {
  if (window_.held().empty()) return;
  const std::uint64_t due = window_.held().begin()->first.due;
  if (timer_due_ != 0 && timer_due_ <= due) return;  // armed for earlier: it re-arms
  timer_due_ = due;
  timer_.expires_at(steady_at_unix_ms(due));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // cancelled by an earlier arm, or shut down
    timer_due_ = 0;
    release_due();
  });
}

void DelayedMessages::release_due() {
  const auto now = static_cast<std::uint64_t>(unix_ms_now());
  bool released = false;
  const auto& held = window_.held();
  while (!held.empty() && held.begin()->first.due <= now) {
    auto [key, entry] = window_.take_earliest();
    // Unscheduled in the same storage batch as the copies routed into
    // durable queues: atomic.
    if (store_ != nullptr) store_->unschedule(kTimeline, key.due, key.id);
    count_out(entry.vhost);
    released = true;
    route(entry);
  }
  if (released) write_state();
  maybe_refill();
  arm_timer();
}

void DelayedMessages::route(Held& held) {
  VHost* vhost = find_vhost_(held.vhost);
  const Exchange* exchange = vhost != nullptr ? vhost->find_exchange(held.exchange) : nullptr;
  if (exchange == nullptr) {
    log_debug("delayed message for missing exchange '{}' in vhost '{}' dropped", held.exchange,
              held.vhost);
    return;
  }
  std::vector<Queue*> targets;
  vhost->route_message(*exchange, held.message, targets);
  if (targets.empty()) {
    // mandatory, as SEMANTICS.md: returned only when unroutable now.
    if (held.channel != nullptr && !held.channel_alive.expired()) {
      held.channel->return_unroutable(*held.message);
    }
    return;
  }
  for (Queue* q : targets) {
    // A refusal (reject-publish) drops the message: its confirm went out
    // when it was stored here.
    (void)q->publish(held.message);
  }
}

void DelayedMessages::maybe_refill() {
  if (store_ == nullptr || !window_.wants_refill()) return;
  // Entries past the frontier may still be in the persister's open batch:
  // read once everything added so far is written.
  window_.refill_requested();
  store_->after_stored([this] { refill(); });
}

void DelayedMessages::refill() {
  const storage::Status status =
      window_.refill(decoder(), [this](const storage::ScheduledEntry& entry) {
        log_error("delayed messages: unreadable entry {} dropped", entry.id);
        store_->unschedule(kTimeline, entry.due, entry.id);
        if (pending_ > 0) --pending_;
      });
  if (!status.ok()) {
    log_error("delayed messages: reading the store failed: {}; retrying in 1 s",
              status.to_string());
    retry_timer_.expires_after(std::chrono::seconds(1));
    retry_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) maybe_refill();
    });
    return;
  }
  arm_timer();
}

std::optional<DelayedMessages::Held> DelayedMessages::decode(const std::string& bytes) const {
  const auto version = bytes.empty() ? 0 : static_cast<std::uint8_t>(bytes[0]);
  if (version != 1 && version != kRecordVersion) return std::nullopt;
  std::size_t at = 1;
  auto vhost = get_string16(bytes, at);
  std::optional<std::string> exchange;
  if (vhost && version == kRecordVersion) {
    exchange = get_string16(bytes, at);
    if (!exchange) return std::nullopt;
  }
  if (!vhost) return std::nullopt;
  auto decoded = decode_stored_message(std::string_view(bytes).substr(at));
  if (!decoded) return std::nullopt;
  decoded->message->ttl_ms = ttl_of(*decoded->message);
  if (!exchange) exchange = decoded->message->exchange;
  return Held{std::move(*vhost), std::move(*exchange), std::move(decoded->message), nullptr, {}};
}

std::vector<DelayedMessages::Listed> DelayedMessages::list(const std::string& vhost,
                                                           std::size_t offset, std::size_t limit) {
  std::vector<Listed> out;
  auto visit = [&](const Key& key, const std::string& held_vhost, const MessagePtr& message) {
    if (held_vhost != vhost) return true;
    if (offset > 0) {
      --offset;
      return true;
    }
    out.push_back({key.id, static_cast<std::int64_t>(key.due), held_vhost, message});
    return out.size() < limit;
  };
  for (const auto& [key, held] : window_.held()) {
    if (!visit(key, held.vhost, held.message)) return out;
  }
  (void)window_.visit_store(decoder(), [&](const Key& key, const Held& held) {
    return visit(key, held.vhost, held.message);
  });
  return out;
}

std::optional<DelayedMessages::Listed> DelayedMessages::find(const std::string& vhost,
                                                             std::uint64_t due, std::uint64_t id) {
  std::optional<Held> held = window_.find(Key{due, id}, decoder());
  if (!held || held->vhost != vhost) return std::nullopt;
  return Listed{id, static_cast<std::int64_t>(due), vhost, std::move(held->message)};
}

bool DelayedMessages::cancel(const std::string& vhost, std::uint64_t due, std::uint64_t id) {
  if (!find(vhost, due, id)) return false;
  (void)window_.take(Key{due, id}, decoder());
  if (store_ != nullptr) store_->unschedule(kTimeline, due, id);
  count_out(vhost);
  write_state();
  maybe_refill();
  return true;
}

}  // namespace warren::broker
