#include "wait_migration.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "log.hpp"

namespace warren::broker {

namespace {
constexpr std::size_t kChunk = 4096;
}  // namespace

void migrate_waits(storage::MessageStore& messages, storage::QueueId queue,
                   QueueStateRecord& state) {
  storage::MessageBatch batch;
  std::vector<storage::ScheduledEntry> scheduled;
  std::vector<storage::StoredMessage> found;
  for (std::uint64_t due = 1, id = 0;;) {
    scheduled.clear();
    const storage::Status status = messages.read_scheduled(queue, due, id, kChunk, scheduled);
    if (!status.ok()) throw std::runtime_error("reading waiting messages: " + status.to_string());
    for (const auto& s : scheduled) {
      auto counts = decode_waiting(s.bytes);
      found.clear();
      std::optional<DecodedMessage> message;
      if (counts && messages.read(queue, s.id, 1, found).ok() && !found.empty() &&
          found.front().seq == s.id) {
        message = decode_stored_message(found.front().bytes);
      }
      if (!message || message->transient) {
        batch.unschedule(queue, s.due, s.id);  // its message is gone
        continue;
      }
      batch.schedule(queue, s.due, s.id,
                     encode_waiting_message(*counts, *message->message, message->expires_at));
      batch.remove(queue, s.id);
      state.stored_count -= std::min<std::uint64_t>(state.stored_count, 1);
      state.stored_bytes -=
          std::min<std::uint64_t>(state.stored_bytes, message->message->body.size());
      ++state.waiting_count;
    }
    if (scheduled.size() < kChunk) break;
    due = scheduled.back().due;
    id = scheduled.back().id + 1;
  }
  state.waits_with_messages = true;
  batch.set_state(queue, encode_queue_state(state));
  const storage::Status status = messages.write(batch, storage::Durability::kFsync);
  if (!status.ok()) throw std::runtime_error("moving waits to the timeline: " + status.to_string());
  if (state.waiting_count > 0) {
    log_info("recovery: queue {}: {} waiting messages moved to its timeline", queue,
             state.waiting_count);
  }
}

}  // namespace warren::broker
