// In-memory MessageStore and MetadataStore: the reference semantics the
// RocksDB implementation must match (the contract tests run over both).

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "warren/storage/stores.hpp"

namespace warren::storage {
namespace {

// A mutex, because reads may run concurrently with writes (see
// message_store.hpp); RocksDB gives that for free.
class MemoryMessageStore final : public MessageStore {
 public:
  Status write(const MessageBatch& batch, Durability /*durability*/) override {
    std::lock_guard lock(mutex_);
    // Validate first so a bad batch changes nothing (atomicity).
    for (const MessageOp& op : batch.ops()) {
      if (op.kind == MessageOp::Kind::kPurge && op.first > op.last) {
        return {StorageErrc::kInvalidArgument, "purge range first > last"};
      }
    }
    for (const MessageOp& op : batch.ops()) {
      switch (op.kind) {
        case MessageOp::Kind::kAppend:
          queues_[op.queue][op.first] = op.bytes;
          break;
        case MessageOp::Kind::kRemove:
          erase_range(op.queue, op.first, op.first);
          break;
        case MessageOp::Kind::kPurge:
          erase_range(op.queue, op.first, op.last);
          break;
        case MessageOp::Kind::kState:
          states_[op.queue] = op.bytes;
          break;
        case MessageOp::Kind::kSchedule:
          timelines_[op.queue][{op.first, op.last}] = op.bytes;
          break;
        case MessageOp::Kind::kUnschedule: {
          auto found = timelines_.find(op.queue);
          if (found == timelines_.end()) break;
          found->second.erase({op.first, op.last});
          if (found->second.empty()) timelines_.erase(found);
          break;
        }
      }
    }
    return Status::Ok();
  }

  Status read(QueueId queue, Sequence from, std::size_t limit,
              std::vector<StoredMessage>& out) override {
    std::lock_guard lock(mutex_);
    if (limit == 0) return {StorageErrc::kInvalidArgument, "read limit is 0"};
    auto found = queues_.find(queue);
    if (found == queues_.end()) return Status::Ok();
    for (auto it = found->second.lower_bound(from); it != found->second.end() && limit > 0;
         ++it, --limit) {
      out.push_back({it->first, it->second});
    }
    return Status::Ok();
  }

  Status read_scheduled(TimelineId timeline, std::uint64_t due, std::uint64_t id, std::size_t limit,
                        std::vector<ScheduledEntry>& out) override {
    std::lock_guard lock(mutex_);
    if (limit == 0) return {StorageErrc::kInvalidArgument, "read limit is 0"};
    auto found = timelines_.find(timeline);
    if (found == timelines_.end()) return Status::Ok();
    for (auto it = found->second.lower_bound({due, id}); it != found->second.end() && limit > 0;
         ++it, --limit) {
      out.push_back({it->first.first, it->first.second, it->second});
    }
    return Status::Ok();
  }

  Result<QueueStats> stats(QueueId queue) override {
    std::lock_guard lock(mutex_);
    auto found = queues_.find(queue);
    if (found == queues_.end()) return QueueStats{};
    const auto& messages = found->second;
    return QueueStats{messages.size(), messages.begin()->first, messages.rbegin()->first};
  }

  Result<std::vector<QueueState>> states() override {
    std::lock_guard lock(mutex_);
    std::vector<QueueState> out;
    for (const auto& [queue, bytes] : states_)
      out.push_back({queue, bytes});
    return out;
  }

  Status delete_queue(QueueId queue, Durability /*durability*/) override {
    std::lock_guard lock(mutex_);
    queues_.erase(queue);
    states_.erase(queue);
    timelines_.erase(queue);
    return Status::Ok();
  }

 private:
  void erase_range(QueueId queue, Sequence first, Sequence last) {
    auto found = queues_.find(queue);
    if (found == queues_.end()) return;
    auto& messages = found->second;
    messages.erase(messages.lower_bound(first), messages.upper_bound(last));
    // Keep the invariant that every queue in the map has messages.
    if (messages.empty()) queues_.erase(found);
  }

  std::mutex mutex_;
  std::map<QueueId, std::map<Sequence, std::string>> queues_;
  std::map<QueueId, std::string> states_;
  // timeline -> (due, id) -> entry
  std::map<TimelineId, std::map<std::pair<std::uint64_t, std::uint64_t>, std::string>> timelines_;
};

class MemoryMetadataStore final : public MetadataStore {
 public:
  Status write(const MetadataBatch& batch, Durability /*durability*/) override {
    for (const MetadataOp& op : batch.ops()) {
      if (static_cast<std::size_t>(op.kind) >= kMetadataKindCount) {
        return {StorageErrc::kInvalidArgument, "unknown metadata kind"};
      }
    }
    for (const MetadataOp& op : batch.ops()) {
      auto& records = kinds_[static_cast<std::size_t>(op.kind)];
      if (op.op == MetadataOp::Kind::kPut) {
        records[op.key] = op.value;
      } else {
        records.erase(op.key);
      }
    }
    return Status::Ok();
  }

  Result<std::string> get(MetadataKind kind, const std::string& key) override {
    if (static_cast<std::size_t>(kind) >= kMetadataKindCount) {
      return Status{StorageErrc::kInvalidArgument, "unknown metadata kind"};
    }
    const auto& records = kinds_[static_cast<std::size_t>(kind)];
    auto found = records.find(key);
    if (found == records.end()) return Status{StorageErrc::kNotFound, "no such record"};
    return found->second;
  }

  Result<std::vector<MetadataRecord>> list(MetadataKind kind) override {
    if (static_cast<std::size_t>(kind) >= kMetadataKindCount) {
      return Status{StorageErrc::kInvalidArgument, "unknown metadata kind"};
    }
    std::vector<MetadataRecord> records;
    for (const auto& [key, value] : kinds_[static_cast<std::size_t>(kind)]) {
      records.push_back({key, value});
    }
    return records;
  }

 private:
  // std::string's operator< compares as unsigned chars, i.e. bytewise like RocksDB.
  std::array<std::map<std::string, std::string>, kMetadataKindCount> kinds_;
};

}  // namespace

Stores make_memory_stores() {
  return {std::make_unique<MemoryMessageStore>(), std::make_unique<MemoryMetadataStore>()};
}

}  // namespace warren::storage
