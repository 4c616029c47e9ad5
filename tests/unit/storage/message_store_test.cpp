// MessageStore contract: every test runs over each implementation.

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "storage_test_support.hpp"

namespace warren::storage::test {
namespace {

constexpr Sequence kMaxSeq = std::numeric_limits<Sequence>::max();

std::vector<StoredMessage> read_all(MessageStore& store, QueueId queue, Sequence from = 0) {
  std::vector<StoredMessage> out;
  REQUIRE_OK(store.read(queue, from, 1'000'000, out));
  return out;
}

std::vector<Sequence> seqs_of(const std::vector<StoredMessage>& messages) {
  std::vector<Sequence> seqs;
  for (const auto& message : messages)
    seqs.push_back(message.seq);
  return seqs;
}

QueueStats stats_of(MessageStore& store, QueueId queue) {
  auto stats = store.stats(queue);
  INFO(stats.status().to_string());
  REQUIRE(stats.ok());
  return stats.value();
}

}  // namespace

TEMPLATE_TEST_CASE("a batch of appends is readable in sequence order", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;

  MessageBatch batch;
  batch.append(7, 3, "three");
  batch.append(7, 1, "one");
  batch.append(7, 2, std::string("t\0wo", 4));  // bytes, not C strings
  REQUIRE_OK(store.write(batch, Durability::kFsync));

  CHECK(read_all(store, 7) ==
        std::vector<StoredMessage>{{1, "one"}, {2, std::string("t\0wo", 4)}, {3, "three"}});
  const QueueStats stats = stats_of(store, 7);
  CHECK(stats.count == 3);
  CHECK(stats.first == 1);
  CHECK(stats.last == 3);
}

TEMPLATE_TEST_CASE("an empty queue reads nothing and has zero stats", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  CHECK(read_all(store, 1).empty());
  const QueueStats stats = stats_of(store, 1);
  CHECK(stats.count == 0);
  CHECK(stats.first == 0);
  CHECK(stats.last == 0);
  REQUIRE_OK(store.write(MessageBatch{}, Durability::kFsync));
}

TEMPLATE_TEST_CASE("sequences order numerically, not by low byte", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  // Values whose little-endian bytes would sort differently: 255 < 256 < 65536 < 2^63 < max.
  const std::vector<Sequence> seqs = {kMaxSeq, 256, 0, Sequence{1} << 63, 255, 65536, 1};
  MessageBatch batch;
  for (Sequence seq : seqs)
    batch.append(5, seq, std::to_string(seq));
  REQUIRE_OK(store.write(batch, Durability::kOs));

  const auto messages = read_all(store, 5);
  CHECK(seqs_of(messages) ==
        std::vector<Sequence>{0, 1, 255, 256, 65536, Sequence{1} << 63, kMaxSeq});
  for (const auto& message : messages)
    CHECK(message.bytes == std::to_string(message.seq));
  const QueueStats stats = stats_of(store, 5);
  CHECK(stats.first == 0);
  CHECK(stats.last == kMaxSeq);
}

TEMPLATE_TEST_CASE("range reads page through a queue with a limit", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  MessageBatch batch;
  for (Sequence seq = 10; seq < 20; ++seq)
    batch.append(3, seq, labelled("m", seq));
  REQUIRE_OK(store.write(batch, Durability::kFsync));

  std::vector<StoredMessage> page;
  REQUIRE_OK(store.read(3, 0, 4, page));
  CHECK(seqs_of(page) == std::vector<Sequence>{10, 11, 12, 13});

  // read appends to `out`; page on from the last seen seq + 1.
  REQUIRE_OK(store.read(3, page.back().seq + 1, 4, page));
  CHECK(seqs_of(page) == std::vector<Sequence>{10, 11, 12, 13, 14, 15, 16, 17});

  page.clear();
  REQUIRE_OK(store.read(3, 18, 4, page));  // fewer than limit: end of the queue
  CHECK(seqs_of(page) == std::vector<Sequence>{18, 19});

  page.clear();
  REQUIRE_OK(store.read(3, 15, 1, page));  // from a seq inside the range
  CHECK(page == std::vector<StoredMessage>{{15, "m15"}});

  page.clear();
  REQUIRE_OK(store.read(3, 20, 4, page));
  CHECK(page.empty());

  const Status zero_limit = store.read(3, 0, 0, page);
  CHECK(zero_limit.code() == StorageErrc::kInvalidArgument);
}

TEMPLATE_TEST_CASE("reads never cross into a neighbouring queue", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  MessageBatch batch;
  batch.append(1, kMaxSeq, "q1-last");
  batch.append(2, 0, "q2-first");
  batch.append(kMaxSeq, 0, "qmax");
  batch.append(kMaxSeq, kMaxSeq, "qmax-last");
  REQUIRE_OK(store.write(batch, Durability::kFsync));

  CHECK(read_all(store, 1) == std::vector<StoredMessage>{{kMaxSeq, "q1-last"}});
  CHECK(read_all(store, 2) == std::vector<StoredMessage>{{0, "q2-first"}});
  CHECK(read_all(store, 0).empty());
  CHECK(read_all(store, kMaxSeq).size() == 2);
  CHECK(stats_of(store, 1).count == 1);
  CHECK(stats_of(store, kMaxSeq).count == 2);
}

TEMPLATE_TEST_CASE("append replaces, remove deletes single messages", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  MessageBatch batch;
  for (Sequence seq = 1; seq <= 5; ++seq)
    batch.append(9, seq, "v1");
  REQUIRE_OK(store.write(batch, Durability::kFsync));

  batch.clear();
  batch.append(9, 2, "v2");
  batch.remove(9, 3);
  batch.remove(9, 100);  // missing: not an error
  batch.remove(8, 3);    // other queue: not an error, touches nothing
  REQUIRE_OK(store.write(batch, Durability::kFsync));

  CHECK(read_all(store, 9) ==
        std::vector<StoredMessage>{{1, "v1"}, {2, "v2"}, {4, "v1"}, {5, "v1"}});
  const QueueStats stats = stats_of(store, 9);
  CHECK(stats.count == 4);
  CHECK(stats.first == 1);
  CHECK(stats.last == 5);
}

TEMPLATE_TEST_CASE("operations in a batch apply in order", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  MessageBatch batch;
  batch.append(4, 1, "gone");
  batch.remove(4, 1);
  batch.append(4, 2, "old");
  batch.append(4, 3, "purged");
  batch.purge(4, 2, 3);
  batch.append(4, 2, "new");  // after the purge: survives
  REQUIRE_OK(store.write(batch, Durability::kFsync));
  CHECK(read_all(store, 4) == std::vector<StoredMessage>{{2, "new"}});
}

TEMPLATE_TEST_CASE("purge removes an inclusive range of one queue only", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  MessageBatch batch;
  for (QueueId queue = 1; queue <= 3; ++queue) {
    for (Sequence seq = 0; seq < 10; ++seq)
      batch.append(queue, seq, "x");
  }
  batch.append(2, kMaxSeq, "end");
  REQUIRE_OK(store.write(batch, Durability::kFsync));

  batch.clear();
  batch.purge(2, 3, 6);
  REQUIRE_OK(store.write(batch, Durability::kFsync));
  CHECK(seqs_of(read_all(store, 2)) == std::vector<Sequence>{0, 1, 2, 7, 8, 9, kMaxSeq});

  batch.clear();
  batch.purge(2, 8, kMaxSeq);  // to the very end of the seq space
  REQUIRE_OK(store.write(batch, Durability::kOs));
  CHECK(seqs_of(read_all(store, 2)) == std::vector<Sequence>{0, 1, 2, 7});

  CHECK(stats_of(store, 1).count == 10);
  CHECK(stats_of(store, 3).count == 10);
}

TEMPLATE_TEST_CASE("an invalid purge range fails and writes nothing", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  MessageBatch batch;
  batch.append(1, 1, "kept out");
  batch.purge(1, 5, 4);
  const Status status = store.write(batch, Durability::kFsync);
  CHECK(status.code() == StorageErrc::kInvalidArgument);
  CHECK(read_all(store, 1).empty());
}

TEMPLATE_TEST_CASE("delete_queue removes one queue, not its neighbours", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  const std::vector<QueueId> queues = {0, 41, 42, 43, kMaxSeq};
  MessageBatch batch;
  for (QueueId queue : queues) {
    batch.append(queue, 0, "first");
    batch.append(queue, 1000, "mid");
    batch.append(queue, kMaxSeq, "last");
  }
  REQUIRE_OK(store.write(batch, Durability::kFsync));

  REQUIRE_OK(store.delete_queue(42, Durability::kFsync));
  REQUIRE_OK(store.delete_queue(kMaxSeq, Durability::kFsync));
  REQUIRE_OK(store.delete_queue(12345, Durability::kFsync));  // never existed: OK

  CHECK(read_all(store, 42).empty());
  CHECK(read_all(store, kMaxSeq).empty());
  CHECK(stats_of(store, 42).count == 0);
  for (QueueId queue : {QueueId{0}, QueueId{41}, QueueId{43}}) {
    INFO("queue " << queue);
    CHECK(seqs_of(read_all(store, queue)) == std::vector<Sequence>{0, 1000, kMaxSeq});
  }

  // A deleted queue id can be reused.
  batch.clear();
  batch.append(42, 7, "again");
  REQUIRE_OK(store.write(batch, Durability::kFsync));
  CHECK(read_all(store, 42) == std::vector<StoredMessage>{{7, "again"}});
}

TEMPLATE_TEST_CASE("large batches and large messages round-trip", "[storage][messages]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  const std::string big(1 << 20, 'b');
  MessageBatch batch;
  batch.append(1, 0, big);
  for (Sequence seq = 1; seq <= 5000; ++seq)
    batch.append(1, seq, std::to_string(seq));
  REQUIRE_OK(store.write(batch, Durability::kFsync));
  const auto messages = read_all(store, 1);
  REQUIRE(messages.size() == 5001);
  CHECK(messages.front().bytes == big);
  CHECK(messages.back() == StoredMessage{5000, "5000"});
}

TEMPLATE_TEST_CASE("queue state records are written with the batch and listed by queue",
                   "[storage][messages][state]", STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  auto states = [&] {
    auto result = store.states();
    INFO(result.status().to_string());
    REQUIRE(result.ok());
    return result.value();
  };
  CHECK(states().empty());

  MessageBatch batch;
  batch.append(9, 1, "m");
  batch.set_state(9, "nine-a");
  batch.set_state(3, "three");
  batch.set_state(9, "nine-b");  // the last one in a batch wins
  REQUIRE_OK(store.write(batch, Durability::kFsync));
  CHECK(states() == std::vector<QueueState>{{3, "three"}, {9, "nine-b"}});

  // A failed batch leaves the state as it was.
  batch.clear();
  batch.set_state(3, "changed");
  batch.purge(3, 2, 1);
  CHECK(store.write(batch, Durability::kFsync).code() == StorageErrc::kInvalidArgument);
  CHECK(states() == std::vector<QueueState>{{3, "three"}, {9, "nine-b"}});

  // Deleting a queue deletes its state and messages, not its neighbours'.
  REQUIRE_OK(store.delete_queue(9, Durability::kFsync));
  CHECK(states() == std::vector<QueueState>{{3, "three"}});
  CHECK(read_all(store, 9).empty());
}

TEMPLATE_TEST_CASE("timelines are read in due-time order, from any point, one at a time",
                   "[storage][messages][timeline]", STORAGE_BACKENDS) {
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  auto read_from = [&](TimelineId timeline, std::uint64_t due, std::uint64_t id,
                       std::size_t limit = 1000) {
    std::vector<ScheduledEntry> out;
    REQUIRE_OK(store.read_scheduled(timeline, due, id, limit, out));
    return out;
  };

  MessageBatch batch;
  batch.schedule(5, 300, 1, "c");
  batch.schedule(5, 100, 2, "a");
  batch.schedule(5, 0x100, 1, "b");  // numeric order, not by low byte
  batch.schedule(5, 100, 1, "a0");   // same due time: by id
  batch.schedule(4, 50, 1, "other timeline");
  batch.schedule(6, 1, 1, "another");
  batch.schedule(kMaxSeq, 7, 7, "last timeline");
  REQUIRE_OK(store.write(batch, Durability::kFsync));

  CHECK(read_from(5, 0, 0) ==
        std::vector<ScheduledEntry>{{100, 1, "a0"}, {100, 2, "a"}, {0x100, 1, "b"}, {300, 1, "c"}});
  // From a point: everything at or after (due, id).
  CHECK(read_from(5, 100, 2) ==
        std::vector<ScheduledEntry>{{100, 2, "a"}, {0x100, 1, "b"}, {300, 1, "c"}});
  CHECK(read_from(5, 0, 0, 2) == std::vector<ScheduledEntry>{{100, 1, "a0"}, {100, 2, "a"}});
  CHECK(read_from(5, 301, 0).empty());
  CHECK(read_from(kMaxSeq, 0, 0) == std::vector<ScheduledEntry>{{7, 7, "last timeline"}});
  std::vector<ScheduledEntry> none;
  CHECK(store.read_scheduled(5, 0, 0, 0, none).code() == StorageErrc::kInvalidArgument);

  // Unschedule removes one entry; replacing keeps one; removing a missing one is fine.
  batch.clear();
  batch.unschedule(5, 100, 1);
  batch.schedule(5, 300, 1, "c2");
  batch.unschedule(5, 999, 9);
  REQUIRE_OK(store.write(batch, Durability::kFsync));
  CHECK(read_from(5, 0, 0) ==
        std::vector<ScheduledEntry>{{100, 2, "a"}, {0x100, 1, "b"}, {300, 1, "c2"}});

  // Scheduling is atomic with message operations: a failed batch changes nothing.
  batch.clear();
  batch.schedule(5, 1, 1, "never");
  batch.purge(5, 2, 1);
  CHECK(store.write(batch, Durability::kFsync).code() == StorageErrc::kInvalidArgument);
  CHECK(read_from(5, 0, 0).size() == 3);

  // delete_queue takes the queue's timeline and leaves the neighbours'.
  REQUIRE_OK(store.delete_queue(5, Durability::kFsync));
  CHECK(read_from(5, 0, 0).empty());
  CHECK(read_from(4, 0, 0) == std::vector<ScheduledEntry>{{50, 1, "other timeline"}});
  CHECK(read_from(6, 0, 0) == std::vector<ScheduledEntry>{{1, 1, "another"}});
}

TEMPLATE_TEST_CASE("reads run concurrently with a writer and see whole batches",
                   "[storage][messages][threads]", STORAGE_BACKENDS) {
#if defined(__SANITIZE_THREAD__)
  // Debian's librocksdb is not built with TSan, so TSan sees only half of its
  // lock-free memtable and reports races that are not there. Under TSan this
  // runs over the in-memory store only; the ASan run covers RocksDB.
  if constexpr (std::is_same_v<TestType, RocksDbBackend>) return;
#endif
  TestType backend;
  MessageStore& store = *backend.stores.messages;
  constexpr Sequence kBatches = 200;
  constexpr Sequence kPerBatch = 10;
  // Catch2's assertions are not thread-safe: each thread records its
  // failures, and they are checked after the join.
  std::atomic<bool> writes_ok{true};
  std::thread writer([&] {
    for (Sequence b = 0; b < kBatches && writes_ok; ++b) {
      MessageBatch batch;
      for (Sequence i = 0; i < kPerBatch; ++i)
        batch.append(5, b * kPerBatch + i, "x");
      batch.set_state(5, std::to_string(b));
      if (!store.write(batch, Durability::kOs).ok()) writes_ok = false;
    }
  });
  std::size_t last_seen = 0;
  bool whole_batches = true;
  bool reads_ok = true;
  while (last_seen < kBatches * kPerBatch && reads_ok && writes_ok) {
    std::vector<StoredMessage> out;
    reads_ok = store.read(5, 0, 1'000'000, out).ok();
    // Never part of a batch, and never fewer than an earlier read saw.
    whole_batches = whole_batches && out.size() % kPerBatch == 0 && out.size() >= last_seen;
    last_seen = out.size();
  }
  writer.join();
  CHECK(writes_ok);
  CHECK(reads_ok);
  CHECK(whole_batches);
  CHECK(last_seen == kBatches * kPerBatch);
}

}  // namespace warren::storage::test
