#include "warren/client/idempotency.hpp"

#include <catch2/catch.hpp>

using namespace warren::client;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point t{};
  InMemoryIdempotencyStore::TimeSource source() {
    return [this] { return t; };
  }
};

Delivery with_id(std::string id) {
  Delivery d;
  d.properties.message_id = std::move(id);
  return d;
}

}  // namespace

TEST_CASE("In-memory store remembers ids for the window", "[idempotency]") {
  FakeClock clock;
  InMemoryIdempotencyStore store(10s, 100, clock.source());
  CHECK_FALSE(store.seen("a"));
  store.mark("a");
  CHECK(store.seen("a"));
  clock.t += 9s;
  CHECK(store.seen("a"));
  clock.t += 2s;
  CHECK_FALSE(store.seen("a"));
  CHECK(store.size() == 0);
}

TEST_CASE("Re-marking an id extends it", "[idempotency]") {
  FakeClock clock;
  InMemoryIdempotencyStore store(10s, 100, clock.source());
  store.mark("a");
  clock.t += 8s;
  store.mark("a");
  clock.t += 8s;  // 16 s after the first mark, 8 after the second
  CHECK(store.seen("a"));
  clock.t += 3s;
  CHECK_FALSE(store.seen("a"));
}

TEST_CASE("In-memory store drops the oldest beyond max_entries", "[idempotency]") {
  FakeClock clock;
  InMemoryIdempotencyStore store(1h, 3, clock.source());
  for (const char* id : {"a", "b", "c", "d"}) {
    store.mark(id);
    clock.t += 1s;
  }
  CHECK(store.size() == 3);
  CHECK_FALSE(store.seen("a"));
  CHECK(store.seen("b"));
  CHECK(store.seen("d"));
}

TEST_CASE("idempotent() runs a message-id once and acks repeats", "[idempotency]") {
  auto store = std::make_shared<InMemoryIdempotencyStore>(1min);
  auto stats = std::make_shared<IdempotencyStats>();
  int runs = 0;
  Outcome next = Ack{};
  SyncHandler h = idempotent(
      store,
      [&](const Delivery&) -> Outcome {
        ++runs;
        return next;
      },
      stats);
  CHECK(std::holds_alternative<Ack>(h(with_id("m1"))));
  CHECK(std::holds_alternative<Ack>(h(with_id("m1"))));
  CHECK(runs == 1);
  CHECK(stats->skipped == 1);

  // Not remembered unless acked: a retried message must run again.
  next = Retry{5s};
  CHECK(std::holds_alternative<Retry>(h(with_id("m2"))));
  next = Ack{};
  CHECK(std::holds_alternative<Ack>(h(with_id("m2"))));
  CHECK(runs == 3);

  // No message-id: always runs.
  h(Delivery{});
  h(Delivery{});
  CHECK(runs == 5);
  CHECK(stats->handled == 5);
}
