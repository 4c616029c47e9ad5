#include "warren/client/idempotency.hpp"

namespace warren::client {

InMemoryIdempotencyStore::InMemoryIdempotencyStore(std::chrono::milliseconds window,
                                                   std::size_t max_entries, TimeSource now)
    : window_(window), max_entries_(max_entries == 0 ? 1 : max_entries), now_(std::move(now)) {}

void InMemoryIdempotencyStore::expire() {
  const auto now = now_();
  while (!order_.empty() && (order_.front().first <= now || expiry_.size() > max_entries_)) {
    auto it = expiry_.find(order_.front().second);
    // A re-marked id has a later expiry; only its latest queue entry removes it.
    if (it != expiry_.end() && it->second == order_.front().first) expiry_.erase(it);
    order_.pop_front();
  }
}

bool InMemoryIdempotencyStore::seen(std::string_view id) {
  expire();
  auto it = expiry_.find(std::string(id));
  return it != expiry_.end() && it->second > now_();
}

void InMemoryIdempotencyStore::mark(std::string_view id) {
  const auto until = now_() + window_;
  expiry_[std::string(id)] = until;
  order_.emplace_back(until, std::string(id));
  expire();
}

SyncHandler idempotent(std::shared_ptr<IdempotencyStore> store, SyncHandler handler,
                       std::shared_ptr<IdempotencyStats> stats) {
  if (!stats) stats = std::make_shared<IdempotencyStats>();
  return [store = std::move(store), handler = std::move(handler),
          stats = std::move(stats)](const Delivery& d) -> Outcome {
    const std::string_view id = d.message_id();
    if (!id.empty() && store->seen(id)) {
      ++stats->skipped;
      return Ack{};
    }
    Outcome o = handler(d);
    ++stats->handled;
    if (!id.empty() && std::holds_alternative<Ack>(o)) store->mark(id);
    return o;
  };
}

AsyncHandler idempotent(std::shared_ptr<IdempotencyStore> store, AsyncHandler handler,
                        std::shared_ptr<IdempotencyStats> stats) {
  if (!stats) stats = std::make_shared<IdempotencyStats>();
  return [store = std::move(store), handler = std::move(handler),
          stats = std::move(stats)](const Delivery& d) -> boost::asio::awaitable<Outcome> {
    // Copies: the lambda object may not outlive the first suspension.
    auto s = store;
    auto h = handler;
    auto st = stats;
    const std::string id(d.message_id());
    if (!id.empty() && s->seen(id)) {
      ++st->skipped;
      co_return Ack{};
    }
    Outcome o = co_await h(d);
    ++st->handled;
    if (!id.empty() && std::holds_alternative<Ack>(o)) s->mark(id);
    co_return o;
  };
}

}  // namespace warren::client
