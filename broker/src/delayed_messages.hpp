#pragma once
// Delayed messages: what is published to an `x-delayed-message` exchange with
// a positive `x-delay` header waits here until it is due, then is routed
// through that exchange (by its `x-delayed-type`). See SEMANTICS.md.
//
// All of them live on one timeline of the store (timeline 0; queue ids start
// at 1), keyed by (Unix due time in ms, a publish counter), so they survive
// restarts and come out in due-time order, publish order among equals.
// Memory is bounded: only a window of the earliest entries is held (at most
// `window` messages); the rest are read back from the store, a chunk at a
// time, as the window drains. Start-up reads one chunk, never the whole
// timeline. A small state record keeps the count and the counter.
//
// Broker thread only. Without a store (no persister) every entry is held in
// memory and nothing survives a restart.

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "message.hpp"
#include "timeline_window.hpp"

namespace warren::broker {

class Channel;
class Persister;
class VHost;
struct Exchange;

class DelayedMessages {
 public:
  using FindVHost = std::function<VHost*(const std::string& name)>;

  static constexpr std::uint64_t kTimeline = 0;
  static constexpr std::size_t kDefaultWindow = 10'000;

  DelayedMessages(boost::asio::io_context& io, Persister* store, FindVHost find_vhost,
                  std::size_t window = kDefaultWindow);
  ~DelayedMessages();
  DelayedMessages(const DelayedMessages&) = delete;
  DelayedMessages& operator=(const DelayedMessages&) = delete;

  // The delay `message` asks for: its x-delay header when that is a positive
  // integer, else nothing (route at once).
  static std::optional<std::int64_t> delay_of(const Message& message);

  // Start-up, before the persister starts: the state record (null when
  // there is none) and the first chunk of the timeline.
  void recover(const std::string* state);

  // Holds `message` for `delay_ms`, then routes it through `exchange` of
  // `vhost`: the exchange it was published to, or a delayed exchange it
  // reached through an exchange-to-exchange binding (the message keeps its
  // own exchange name, which consumers see).
  // With `mandatory`, `channel` (kept alive by `channel_alive`) gets a
  // basic.return when the message is unroutable once due.
  void add(const VHost& vhost, const Exchange& exchange, MessagePtr message, std::int64_t delay_ms,
           Channel* channel, std::weak_ptr<int> channel_alive);

  // How many are waiting (in memory and in the store), in all vhosts and in
  // one.
  std::uint64_t pending() const { return pending_; }
  std::uint64_t pending_in(const std::string& vhost) const;
  // How many of them are held in memory.
  std::size_t in_memory() const { return window_.held().size(); }

  // A waiting message as the admin API shows it.
  struct Listed {
    std::uint64_t id = 0;
    std::int64_t due_unix_ms = 0;
    std::string vhost;
    MessagePtr message;
  };
  // Waiting messages of `vhost` in due-time order, skipping `offset` and
  // returning at most `limit`. Reads the store beyond the window.
  std::vector<Listed> list(const std::string& vhost, std::size_t offset, std::size_t limit);
  // The waiting message (due, id) of `vhost`: from the window, or one read
  // of the store.
  std::optional<Listed> find(const std::string& vhost, std::uint64_t due_unix_ms, std::uint64_t id);
  // Cancels (drops) the waiting message (due, id) of `vhost`; false when
  // there is none.
  bool cancel(const std::string& vhost, std::uint64_t due_unix_ms, std::uint64_t id);

 private:
  using Key = TimelineKey;
  struct Held {
    std::string vhost;
    std::string exchange;  // routes it when due
    MessagePtr message;
    Channel* channel = nullptr;  // for mandatory returns
    std::weak_ptr<int> channel_alive;
  };

  void insert(const Key& key, Held held);
  void arm_timer();
  void release_due();
  void route(Held& held);
  void maybe_refill();
  void refill();
  void write_state();
  void count_out(const std::string& vhost);
  std::optional<Held> decode(const std::string& bytes) const;
  auto decoder() const {
    return [this](const storage::ScheduledEntry& entry) { return decode(entry.bytes); };
  }

  boost::asio::io_context& io_;
  Persister* store_;
  FindVHost find_vhost_;
  // The earliest entries; the rest are in the store only.
  TimelineWindow<Held> window_;
  std::uint64_t next_id_ = 1;
  std::uint64_t pending_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> pending_by_vhost_;
  boost::asio::steady_timer timer_;
  std::uint64_t timer_due_ = 0;            // what the timer is armed for; 0: not armed
  boost::asio::steady_timer retry_timer_;  // a failed read of the store
};

}  // namespace warren::broker
