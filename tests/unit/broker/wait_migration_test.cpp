// Moving waits stored in the old form (the message in the queue's range, its
// counts on the timeline) to the timeline, as recovery does once for a queue
// state record of version 1. Over the in-memory store.

#include "wait_migration.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "warren/storage/stores.hpp"

namespace warren::broker {
namespace {

constexpr storage::QueueId kQueue = 7;

std::string message_record(const std::string& body) {
  Message m;
  m.exchange = "x";
  m.routing_key = "k";
  m.body.assign(body.begin(), body.end());
  m.persistent = true;
  return encode_stored_message(m, SteadyTime::max(), false);
}

// A version 1 queue state record: no wait count.
std::string state_v1(std::uint64_t next_seq, std::uint64_t stored_count,
                     std::uint64_t stored_bytes) {
  std::string out(1, '\x01');
  for (std::uint64_t v : {next_seq, std::uint64_t{0}, stored_count, stored_bytes}) {
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  return out;
}

std::vector<storage::ScheduledEntry> timeline(storage::MessageStore& store) {
  std::vector<storage::ScheduledEntry> out;
  REQUIRE(store.read_scheduled(kQueue, 0, 0, 100, out).ok());
  return out;
}

TEST_CASE("old-form waits move to the timeline with their messages") {
  auto stores = storage::make_memory_stores();
  storage::MessageStore& store = *stores.messages;
  storage::MessageBatch old;
  old.append(kQueue, 1, message_record("one"));
  old.append(kQueue, 2, message_record("two"));
  old.append(kQueue, 3, message_record("three"));
  old.schedule(kQueue, 5000, 2, encode_waiting(WaitingRecord{2, 1}));  // 2 waits
  old.schedule(kQueue, 6000, 9, encode_waiting(WaitingRecord{1, 1}));  // its message is gone
  old.schedule(kQueue, 0, 3, encode_waiting(WaitingRecord{1, 0}));     // 3's counts, ready
  old.set_state(kQueue, state_v1(10, 3, 11));
  REQUIRE(store.write(old, storage::Durability::kOs).ok());

  auto states = store.states();
  REQUIRE(states.ok());
  auto state = decode_queue_state(states.value().at(0).bytes);
  REQUIRE(state);
  CHECK_FALSE(state->waits_with_messages);

  migrate_waits(store, kQueue, *state);

  CHECK(state->waits_with_messages);
  CHECK(state->stored_count == 2);
  CHECK(state->stored_bytes == 8);  // "one" + "three"
  CHECK(state->waiting_count == 1);
  CHECK(state->next_seq == 10);

  std::vector<storage::StoredMessage> range;
  REQUIRE(store.read(kQueue, 0, 100, range).ok());
  REQUIRE(range.size() == 2);
  CHECK(range[0].seq == 1);
  CHECK(range[1].seq == 3);

  const auto entries = timeline(store);
  REQUIRE(entries.size() == 2);
  CHECK((entries[0].due == 0 && entries[0].id == 3));  // counts records stay
  CHECK(decode_waiting(entries[0].bytes));
  CHECK((entries[1].due == 5000 && entries[1].id == 2));
  auto waiting = decode_waiting_message(entries[1].bytes);
  REQUIRE(waiting);
  CHECK(waiting->counts.acquired_count == 2);
  CHECK(waiting->counts.delivery_count == 1);
  CHECK(std::string(waiting->message.message->body.begin(), waiting->message.message->body.end()) ==
        "two");
  CHECK(waiting->message.message->routing_key == "k");

  // The new state is stored in the same write.
  auto stored_state = decode_queue_state(store.states().value().at(0).bytes);
  REQUIRE(stored_state);
  CHECK(stored_state->waits_with_messages);
  CHECK(stored_state->waiting_count == 1);
  CHECK(stored_state->stored_count == 2);
}

TEST_CASE("a queue state record round-trips its wait count") {
  const QueueStateRecord state{12, 5, 3, 300, 42};
  auto decoded = decode_queue_state(encode_queue_state(state));
  REQUIRE(decoded);
  CHECK(decoded->waiting_count == 42);
  CHECK(decoded->stored_bytes == 300);
  CHECK(decoded->waits_with_messages);
}

}  // namespace
}  // namespace warren::broker
