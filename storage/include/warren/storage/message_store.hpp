#pragma once
// MessageStore: durable queue messages as opaque bytes, keyed by
// (queue id, sequence). The broker serialises messages; the store never
// looks inside the bytes.
//
// Ordering: within one queue, messages are kept and read in ascending
// sequence order (as unsigned 64-bit integers). Queues are independent:
// nothing done to one queue id touches another.
//
// Threads: write() and delete_queue() have one caller at a time (the
// persister thread). read(), stats() and states() may run on another thread
// concurrently with them (the broker thread pages messages in); each sees
// every write that completed before it started.
//
// Queue state: besides messages, each queue may have one small state record
// (the broker keeps its head, tail and count there, so start-up needs no scan
// of the messages). It is written in the same atomic batch as the messages.
//
// Timelines: entries ordered by due time (then by an id), for what waits
// until a moment: a queue's messages waiting to be retried (timeline = the
// queue id) and delayed messages. Written in the same atomic batch as the
// messages, so a message moves between a queue and a timeline in one step;
// read from any due time onwards without touching earlier entries. A queue's
// timeline goes with delete_queue.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "warren/storage/status.hpp"

namespace warren::storage {

using QueueId = std::uint64_t;
using Sequence = std::uint64_t;
using TimelineId = std::uint64_t;

// How far a write goes before it returns OK.
enum class Durability {
  // fsync: the write is on stable storage (survives power loss).
  // RocksDB: WriteOptions::sync = true.
  kFsync,
  // os: the write reached the OS page cache (survives a process crash, not a
  // power loss). RocksDB: WriteOptions::sync = false. Cheaper; for transient
  // or already-acknowledged data, or to be covered by a later kFsync write
  // (syncing the log also persists every earlier unsynced write).
  kOs,
};

// One mutation in a MessageBatch.
struct MessageOp {
  enum class Kind { kAppend, kRemove, kPurge, kState, kSchedule, kUnschedule };
  Kind kind = Kind::kAppend;
  QueueId queue = 0;   // kSchedule/kUnschedule: the timeline
  Sequence first = 0;  // kAppend/kRemove: the sequence; kPurge: first of the range;
                       // kSchedule/kUnschedule: the due time
  Sequence last = 0;   // kPurge: last of the range (inclusive); kSchedule/kUnschedule:
                       // the entry's id; otherwise == first
  std::string bytes;   // kAppend: the message; kState: the state record; kSchedule: the entry
};

// An ordered list of mutations applied atomically by MessageStore::write:
// after a crash either all of them are visible or none. Operations apply in
// the order added, so a purge followed by an append of a sequence inside the
// purged range leaves that appended message.
class MessageBatch {
 public:
  // Stores `bytes` at (queue, seq), replacing any message already there.
  void append(QueueId queue, Sequence seq, std::string bytes) {
    ops_.push_back({MessageOp::Kind::kAppend, queue, seq, seq, std::move(bytes)});
  }
  // Deletes (queue, seq); deleting a missing message is not an error.
  void remove(QueueId queue, Sequence seq) {
    ops_.push_back({MessageOp::Kind::kRemove, queue, seq, seq, {}});
  }
  // Deletes every message of `queue` with first <= seq <= last.
  // Precondition: first <= last (else write() fails with kInvalidArgument).
  void purge(QueueId queue, Sequence first, Sequence last) {
    ops_.push_back({MessageOp::Kind::kPurge, queue, first, last, {}});
  }

  // Replaces `queue`'s state record.
  void set_state(QueueId queue, std::string bytes) {
    ops_.push_back({MessageOp::Kind::kState, queue, 0, 0, std::move(bytes)});
  }

  // Stores `bytes` on `timeline` at (due, id), replacing any entry there.
  void schedule(TimelineId timeline, std::uint64_t due, std::uint64_t id, std::string bytes) {
    ops_.push_back({MessageOp::Kind::kSchedule, timeline, due, id, std::move(bytes)});
  }
  // Deletes the entry at (due, id) of `timeline`; a missing one is not an error.
  void unschedule(TimelineId timeline, std::uint64_t due, std::uint64_t id) {
    ops_.push_back({MessageOp::Kind::kUnschedule, timeline, due, id, {}});
  }

  bool empty() const noexcept { return ops_.empty(); }
  std::size_t size() const noexcept { return ops_.size(); }
  const std::vector<MessageOp>& ops() const noexcept { return ops_; }
  std::vector<MessageOp>& ops() noexcept { return ops_; }
  void clear() noexcept { ops_.clear(); }

 private:
  std::vector<MessageOp> ops_;
};

struct QueueState {
  QueueId queue = 0;
  std::string bytes;
  friend bool operator==(const QueueState&, const QueueState&) = default;
};

struct StoredMessage {
  Sequence seq = 0;
  std::string bytes;
  friend bool operator==(const StoredMessage&, const StoredMessage&) = default;
};

struct ScheduledEntry {
  std::uint64_t due = 0;
  std::uint64_t id = 0;
  std::string bytes;
  friend bool operator==(const ScheduledEntry&, const ScheduledEntry&) = default;
};

// Summary of one queue's stored messages.
struct QueueStats {
  std::uint64_t count = 0;
  Sequence first = 0;  // lowest stored sequence; 0 when count == 0
  Sequence last = 0;   // highest stored sequence; 0 when count == 0
};

class MessageStore {
 public:
  virtual ~MessageStore() = default;

  // Applies every operation of `batch` atomically, in order. An empty batch
  // is OK and writes nothing.
  // Errors: kInvalidArgument (a purge with first > last; nothing is written),
  // kIoError / kNoSpace (nothing is written).
  virtual Status write(const MessageBatch& batch, Durability durability) = 0;

  // Appends to `out` up to `limit` messages of `queue` with seq >= `from`, in
  // ascending sequence order. Fewer than `limit` means the queue has no more.
  // To page through a queue, call again with from = last returned seq + 1.
  // Errors: kInvalidArgument (limit == 0), kIoError, kCorruption; on error
  // `out` may hold a prefix of the result.
  virtual Status read(QueueId queue, Sequence from, std::size_t limit,
                      std::vector<StoredMessage>& out) = 0;

  // Appends to `out` up to `limit` entries of `timeline` at or after
  // (due, id), ordered by due time then id. Fewer than `limit` means there
  // are no more. Errors as read().
  virtual Status read_scheduled(TimelineId timeline, std::uint64_t due, std::uint64_t id,
                                std::size_t limit, std::vector<ScheduledEntry>& out) = 0;

  // Count and first/last sequence of `queue`'s messages. A queue with no
  // messages is not an error: count == 0. Cost: O(count) for RocksDB (meant
  // for recovery, not for the message path).
  virtual Result<QueueStats> stats(QueueId queue) = 0;

  // After a failed write (disk full, I/O error), clears the error state the
  // store may have entered, so that writes can be retried; fails while the
  // cause persists. OK when there is nothing to clear. Writer thread only.
  virtual Status resume() { return Status::Ok(); }

  // Writes what only the write-ahead log holds to the store's tables, so the
  // next open has no log to replay. For a clean stop, after the last write.
  virtual Status flush() { return Status::Ok(); }

  // Every queue's state record, by ascending queue id.
  virtual Result<std::vector<QueueState>> states() = 0;

  // Deletes every message of `queue` (one range delete), its timeline and
  // its state record, leaving other queues untouched.
  virtual Status delete_queue(QueueId queue, Durability durability) = 0;
};

}  // namespace warren::storage
