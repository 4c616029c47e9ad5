#pragma once
// How a queue message and a queue's state record are stored (the bytes the
// MessageStore keeps; it never looks inside them).
//
// Message record, version 1:
//   u8 version, u8 flags (bit 0: transient, paged out under memory pressure
//   and dropped at start-up), u8 priority, i64 expiry (Unix ms; 0: never),
//   shortstr exchange, shortstr routing key, longstr properties (as
//   received), then the body to the end.
// Counts record, version 1: u8 version, u32 acquired count, u32 delivery count.
// Waiting message, version 2: the same fields (version 2), then the message
// record.
// Queue state record, version 2: the next sequence, the highest sequence
// delivered (messages at or below it come back redelivered after a restart),
// how many messages the store holds for the queue with their body bytes, and
// how many wait on its timeline, so start-up needs no scan. (Version 1 had no
// wait count: its waits were counts records beside messages that stayed in
// the queue's range.)

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "message.hpp"

namespace warren::broker {

using SteadyTime = std::chrono::steady_clock::time_point;

std::string encode_stored_message(const Message& message, SteadyTime expires_at, bool transient);

struct DecodedMessage {
  std::shared_ptr<Message> message;
  SteadyTime expires_at = SteadyTime::max();
  bool transient = false;
};
// Empty when the bytes are not a message record this version understands.
std::optional<DecodedMessage> decode_stored_message(std::string_view bytes);

struct QueueStateRecord {
  std::uint64_t next_seq = 1;
  std::uint64_t delivered_upto = 0;
  std::uint64_t stored_count = 0;
  std::uint64_t stored_bytes = 0;
  std::uint64_t waiting_count = 0;
  // False for a version 1 record: its waits are in the old form.
  bool waits_with_messages = true;
};
std::string encode_queue_state(const QueueStateRecord& state);
std::optional<QueueStateRecord> decode_queue_state(std::string_view bytes);

// A stored message's delivery counts, on its queue's timeline at due time 0
// (keyed by sequence) while it is ready or delivered.
struct WaitingRecord {
  std::uint32_t acquired_count = 0;
  std::uint32_t delivery_count = 0;
};
std::string encode_waiting(const WaitingRecord& record);
std::optional<WaitingRecord> decode_waiting(std::string_view bytes);

// A stored message waiting to be retried: it leaves its queue's range for
// the queue's timeline (keyed by due time and sequence), counts and message
// together, and comes back to the range when released.
struct WaitingMessage {
  WaitingRecord counts;
  DecodedMessage message;
};
std::string encode_waiting_message(const WaitingRecord& counts, const Message& message,
                                   SteadyTime expires_at);
std::optional<WaitingMessage> decode_waiting_message(std::string_view bytes);

// Milliseconds since the Unix epoch: what survives a restart.
std::int64_t unix_ms_now();
// The Unix ms at which `delay_ms` from now has passed, rounded up: a due
// time computed from the truncated unix_ms_now() could come up to 1 ms early.
std::uint64_t unix_ms_after(std::int64_t delay_ms);
// The steady time at Unix ms `unix_ms` (now, when that is past).
std::chrono::steady_clock::time_point steady_at_unix_ms(std::uint64_t unix_ms);

}  // namespace warren::broker
