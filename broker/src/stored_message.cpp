#include "stored_message.hpp"

#include <algorithm>

namespace warren::broker {

namespace {

constexpr std::uint8_t kMessageVersion = 1;
constexpr std::uint8_t kStateVersion = 2;
constexpr std::uint8_t kWaitingVersion = 1;
constexpr std::uint8_t kWaitingMessageVersion = 2;
constexpr std::uint8_t kTransientFlag = 1;

void put_u8(std::string& out, std::uint8_t v) {
  out.push_back(static_cast<char>(v));
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// Reads big-endian fields from a byte string; `ok` turns false on overrun.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  std::uint64_t number(int bytes) {
    if (!take(static_cast<std::size_t>(bytes))) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v = (v << 8) | static_cast<unsigned char>(
                         in_[pos_ - static_cast<std::size_t>(bytes) + static_cast<std::size_t>(i)]);
    return v;
  }
  std::string_view text(std::size_t n) {
    if (!take(n)) return {};
    return in_.substr(pos_ - n, n);
  }
  std::string_view rest() {
    std::string_view r = in_.substr(pos_);
    pos_ = in_.size();
    return r;
  }

 private:
  bool take(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
std::int64_t unix_us_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::uint64_t unix_ms_after(std::int64_t delay_ms) {
  const std::int64_t due_us = unix_us_now() + delay_ms * 1000;
  return static_cast<std::uint64_t>((due_us + 999) / 1000);
}

std::chrono::steady_clock::time_point steady_at_unix_ms(std::uint64_t unix_ms) {
  const std::int64_t left_us = static_cast<std::int64_t>(unix_ms) * 1000 - unix_us_now();
  return std::chrono::steady_clock::now() +
         std::chrono::microseconds(std::max<std::int64_t>(0, left_us));
}

std::string encode_stored_message(const Message& message, SteadyTime expires_at, bool transient) {
  std::string out;
  out.reserve(32 + message.exchange.size() + message.routing_key.size() +
              message.properties.size() + message.body.size());
  put_u8(out, kMessageVersion);
  put_u8(out, transient ? kTransientFlag : 0);
  put_u8(out, message.priority);
  std::int64_t expiry = 0;
  if (expires_at != SteadyTime::max()) {
    // Steady time does not survive a restart; wall-clock time does.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        expires_at - std::chrono::steady_clock::now());
    expiry = std::max<std::int64_t>(1, unix_ms_now() + left.count());
  }
  put_u64(out, static_cast<std::uint64_t>(expiry));
  put_u8(out, static_cast<std::uint8_t>(message.exchange.size()));
  out += message.exchange;
  put_u8(out, static_cast<std::uint8_t>(message.routing_key.size()));
  out += message.routing_key;
  put_u32(out, static_cast<std::uint32_t>(message.properties.size()));
  out.append(reinterpret_cast<const char*>(message.properties.data()), message.properties.size());
  out.append(reinterpret_cast<const char*>(message.body.data()), message.body.size());
  return out;
}

std::optional<DecodedMessage> decode_stored_message(std::string_view bytes) {
  Reader in(bytes);
  if (in.number(1) != kMessageVersion) return std::nullopt;
  DecodedMessage out;
  const auto flags = static_cast<std::uint8_t>(in.number(1));
  out.transient = (flags & kTransientFlag) != 0;
  auto message = std::make_shared<Message>();
  message->persistent = !out.transient;
  message->priority = static_cast<std::uint8_t>(in.number(1));
  const auto expiry = static_cast<std::int64_t>(in.number(8));
  message->exchange = std::string(in.text(in.number(1)));
  message->routing_key = std::string(in.text(in.number(1)));
  std::string_view properties = in.text(in.number(4));
  std::string_view body = in.rest();
  if (!in.ok()) return std::nullopt;
  message->properties.assign(properties.begin(), properties.end());
  message->body.assign(body.begin(), body.end());
  message->body_size = message->body.size();
  if (expiry != 0) {
    const auto left = std::chrono::milliseconds(expiry - unix_ms_now());
    out.expires_at =
        std::chrono::steady_clock::now() + std::max(left, std::chrono::milliseconds(0));
  }
  message->account();
  out.message = std::move(message);
  return out;
}

std::string encode_queue_state(const QueueStateRecord& state) {
  std::string out;
  put_u8(out, kStateVersion);
  put_u64(out, state.next_seq);
  put_u64(out, state.delivered_upto);
  put_u64(out, state.stored_count);
  put_u64(out, state.stored_bytes);
  put_u64(out, state.waiting_count);
  return out;
}

std::optional<QueueStateRecord> decode_queue_state(std::string_view bytes) {
  Reader in(bytes);
  const auto version = in.number(1);
  if (version != 1 && version != kStateVersion) return std::nullopt;
  QueueStateRecord state;
  state.next_seq = in.number(8);
  state.delivered_upto = in.number(8);
  state.stored_count = in.number(8);
  state.stored_bytes = in.number(8);
  state.waits_with_messages = version == kStateVersion;
  if (state.waits_with_messages) state.waiting_count = in.number(8);
  if (!in.ok()) return std::nullopt;
  return state;
}

std::string encode_waiting(const WaitingRecord& record) {
  std::string out;
  put_u8(out, kWaitingVersion);
  put_u32(out, record.acquired_count);
  put_u32(out, record.delivery_count);
  return out;
}

std::optional<WaitingRecord> decode_waiting(std::string_view bytes) {
  Reader in(bytes);
  if (in.number(1) != kWaitingVersion) return std::nullopt;
  WaitingRecord record;
  record.acquired_count = static_cast<std::uint32_t>(in.number(4));
  record.delivery_count = static_cast<std::uint32_t>(in.number(4));
  if (!in.ok()) return std::nullopt;
  return record;
}

std::string encode_waiting_message(const WaitingRecord& counts, const Message& message,
                                   SteadyTime expires_at) {
  std::string out = encode_stored_message(message, expires_at, false);
  std::string head;
  put_u8(head, kWaitingMessageVersion);
  put_u32(head, counts.acquired_count);
  put_u32(head, counts.delivery_count);
  out.insert(0, head);
  return out;
}

std::optional<WaitingMessage> decode_waiting_message(std::string_view bytes) {
  Reader in(bytes);
  if (in.number(1) != kWaitingMessageVersion) return std::nullopt;
  WaitingMessage out;
  out.counts.acquired_count = static_cast<std::uint32_t>(in.number(4));
  out.counts.delivery_count = static_cast<std::uint32_t>(in.number(4));
  if (!in.ok()) return std::nullopt;
  auto message = decode_stored_message(in.rest());
  if (!message) return std::nullopt;
  out.message = std::move(*message);
  return out;
}

}  // namespace warren::broker
