#pragma once
// Idempotency for at-least-once consumers. A broker may deliver a message
// twice (a lost ack, a reconnection, a publisher that re-sent after a lost
// confirm); `idempotent(store, handler)` runs the handler once per
// message-id within the store's window and acks the repeats unseen.
//
// Rules: a message without a message-id always runs. An id is remembered
// only when the handler returned Ack (a Retry/Requeue/Reject must be able to
// run again). The check happens before the handler and the mark after it, so
// two deliveries of one id handled concurrently (async handlers) can both
// run; use a store with an atomic claim for that.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "warren/client/consumer.hpp"

namespace warren::client {

// Pluggable store of handled message ids (e.g. Redis or a database table
// in production). Called on the connection's executor only.
class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;
  // Whether `id` was marked within the window.
  virtual bool seen(std::string_view id) = 0;
  virtual void mark(std::string_view id) = 0;
};

// The default: in memory, forgets ids older than `window`, and the oldest
// ids beyond `max_entries`. Not thread-safe (one executor).
class InMemoryIdempotencyStore final : public IdempotencyStore {
 public:
  using TimeSource = std::function<std::chrono::steady_clock::time_point()>;
  explicit InMemoryIdempotencyStore(std::chrono::milliseconds window,
                                    std::size_t max_entries = 100000,
                                    TimeSource now = &std::chrono::steady_clock::now);
  bool seen(std::string_view id) override;
  void mark(std::string_view id) override;
  std::size_t size() const { return expiry_.size(); }

 private:
  void expire();
  std::chrono::milliseconds window_;
  std::size_t max_entries_;
  TimeSource now_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> expiry_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> order_;
};

// Counts what the wrapper did (shared, so it can be read while consuming).
struct IdempotencyStats {
  std::uint64_t handled = 0;
  std::uint64_t skipped = 0;  // duplicates acked without running the handler
};

SyncHandler idempotent(std::shared_ptr<IdempotencyStore> store, SyncHandler handler,
                       std::shared_ptr<IdempotencyStats> stats = nullptr);
AsyncHandler idempotent(std::shared_ptr<IdempotencyStore> store, AsyncHandler handler,
                        std::shared_ptr<IdempotencyStats> stats = nullptr);

}  // namespace warren::client
