// RocksDB implementation of MessageStore and MetadataStore over one database.
//
// Layout (column families):
//   "messages": key = queue id (8 bytes big-endian) + sequence (8 bytes
//               big-endian), value = message bytes. Big-endian keeps each
//               queue contiguous and its messages in numeric order under the
//               default bytewise comparator.
//   "metadata": key = kind (1 byte) + record key, value = record bytes.
//   "queue_state": key = queue id (8 bytes big-endian), value = the queue's
//               state record.
//   "scheduled": key = timeline (8) + due time (8) + id (8), all big-endian,
//               so each timeline is contiguous and ordered by due time.
//
// Tombstones: a busy queue deletes at its head as fast as it appends at its
// tail, so reads start at the head with iterate_lower_bound (the iterator
// never walks the deleted prefix) and the messages family compacts any file
// dense with deletions (RocksDB's CompactOnDeletionCollector), the two
// measures RocksDB's wiki gives for queue services.

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "rocksdb_logger.hpp"
#include "warren/storage/stores.hpp"

namespace warren::storage {
namespace {

constexpr char kMessagesFamily[] = "messages";
constexpr char kMetadataFamily[] = "metadata";
constexpr char kQueueStateFamily[] = "queue_state";
constexpr char kScheduledFamily[] = "scheduled";

Status from_rocksdb(const rocksdb::Status& status) {
  if (status.ok()) return Status::Ok();
  StorageErrc code = StorageErrc::kIoError;  // Busy, TimedOut, Aborted...: environment trouble
  if (status.IsNotFound()) {
    code = StorageErrc::kNotFound;
  } else if (status.IsNoSpace()) {
    code = StorageErrc::kNoSpace;
  } else if (status.IsCorruption()) {
    code = StorageErrc::kCorruption;
  } else if (status.IsInvalidArgument() || status.IsNotSupported()) {
    code = StorageErrc::kInvalidArgument;
  }
  return {code, status.ToString()};
}

rocksdb::WriteOptions write_options(Durability durability) {
  rocksdb::WriteOptions options;
  options.sync = durability == Durability::kFsync;
  return options;
}

void put_big_endian(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

std::uint64_t get_big_endian(const char* bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i)
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

constexpr std::size_t kMessageKeySize = 16;

std::string message_key(QueueId queue, Sequence seq) {
  std::string key;
  key.reserve(kMessageKeySize + 1);
  put_big_endian(key, queue);
  put_big_endian(key, seq);
  return key;
}

// Smallest key greater than every message key of `queue` with seq <= last:
// appending a 0 byte sorts right after the 16-byte key (shorter prefix sorts
// first), and before the next 16-byte key. Works for last == UINT64_MAX too.
std::string message_key_after(QueueId queue, Sequence last) {
  std::string key = message_key(queue, last);
  key.push_back('\0');
  return key;
}

constexpr std::size_t kScheduledKeySize = 24;

std::string scheduled_key(TimelineId timeline, std::uint64_t due, std::uint64_t id) {
  std::string key;
  key.reserve(kScheduledKeySize);
  put_big_endian(key, timeline);
  put_big_endian(key, due);
  put_big_endian(key, id);
  return key;
}

// Smallest key after every entry of `timeline`: the next timeline's first
// possible key or, for the last timeline, the largest full key plus a byte.
std::string timeline_end(TimelineId timeline) {
  if (timeline == std::numeric_limits<TimelineId>::max()) {
    return std::string(kScheduledKeySize, '\xff') + '\0';
  }
  std::string key;
  put_big_endian(key, timeline + 1);
  return key;
}

std::string queue_key(QueueId queue) {
  std::string key;
  put_big_endian(key, queue);
  return key;
}

class Database {
 public:
  Database(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : db_(std::move(db)), handles_(std::move(handles)) {}
  ~Database() {
    // Handles must go before the DB; errors on close cannot be reported here.
    for (auto* handle : handles_)
      db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  rocksdb::DB& db() { return *db_; }
  // Index order matches the descriptors passed to DB::Open.
  rocksdb::ColumnFamilyHandle* messages() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* metadata() { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* queue_state() { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* scheduled() { return handles_[4]; }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

class RocksDbMessageStore final : public MessageStore {
 public:
  explicit RocksDbMessageStore(std::shared_ptr<Database> database)
      : database_(std::move(database)) {}

  Status write(const MessageBatch& batch, Durability durability) override {
    if (batch.empty()) return Status::Ok();
    rocksdb::WriteBatch write_batch;
    auto* family = database_->messages();
    for (const MessageOp& op : batch.ops()) {
      rocksdb::Status status;
      switch (op.kind) {
        case MessageOp::Kind::kAppend:
          status = write_batch.Put(family, message_key(op.queue, op.first), op.bytes);
          break;
        case MessageOp::Kind::kRemove:
          status = write_batch.Delete(family, message_key(op.queue, op.first));
          break;
        case MessageOp::Kind::kPurge:
          if (op.first > op.last) {
            return {StorageErrc::kInvalidArgument, "purge range first > last"};
          }
          status = write_batch.DeleteRange(family, message_key(op.queue, op.first),
                                           message_key_after(op.queue, op.last));
          break;
        case MessageOp::Kind::kState:
          status = write_batch.Put(database_->queue_state(), queue_key(op.queue), op.bytes);
          break;
        case MessageOp::Kind::kSchedule:
          status = write_batch.Put(database_->scheduled(),
                                   scheduled_key(op.queue, op.first, op.last), op.bytes);
          break;
        case MessageOp::Kind::kUnschedule:
          status = write_batch.Delete(database_->scheduled(),
                                      scheduled_key(op.queue, op.first, op.last));
          break;
      }
      if (!status.ok()) return from_rocksdb(status);
    }
    return from_rocksdb(database_->db().Write(write_options(durability), &write_batch));
  }

  Status read(QueueId queue, Sequence from, std::size_t limit,
              std::vector<StoredMessage>& out) override {
    if (limit == 0) return {StorageErrc::kInvalidArgument, "read limit is 0"};
    const std::string upper = message_key_after(queue, std::numeric_limits<Sequence>::max());
    const std::string lower = message_key(queue, from);
    const rocksdb::Slice upper_bound(upper);
    const rocksdb::Slice lower_bound(lower);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_bound;  // stops at the queue's end
    options.iterate_lower_bound = &lower_bound;  // skips the tombstones before the head
    std::unique_ptr<rocksdb::Iterator> it(
        database_->db().NewIterator(options, database_->messages()));
    for (it->Seek(lower); it->Valid() && limit > 0; it->Next(), --limit) {
      const rocksdb::Slice key = it->key();
      if (key.size() != kMessageKeySize) {
        return {StorageErrc::kCorruption, "message key of unexpected size"};
      }
      out.push_back({get_big_endian(key.data() + 8), it->value().ToString()});
    }
    return from_rocksdb(it->status());
  }

  Status read_scheduled(TimelineId timeline, std::uint64_t due, std::uint64_t id, std::size_t limit,
                        std::vector<ScheduledEntry>& out) override {
    if (limit == 0) return {StorageErrc::kInvalidArgument, "read limit is 0"};
    const std::string upper = timeline_end(timeline);
    const std::string lower = scheduled_key(timeline, due, id);
    const rocksdb::Slice upper_bound(upper);
    const rocksdb::Slice lower_bound(lower);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_bound;
    options.iterate_lower_bound = &lower_bound;  // skips what was released before
    std::unique_ptr<rocksdb::Iterator> it(
        database_->db().NewIterator(options, database_->scheduled()));
    for (it->Seek(lower); it->Valid() && limit > 0; it->Next(), --limit) {
      const rocksdb::Slice key = it->key();
      if (key.size() != kScheduledKeySize) {
        return {StorageErrc::kCorruption, "scheduled key of unexpected size"};
      }
      out.push_back({get_big_endian(key.data() + 8), get_big_endian(key.data() + 16),
                     it->value().ToString()});
    }
    return from_rocksdb(it->status());
  }

  Result<QueueStats> stats(QueueId queue) override {
    const std::string upper = message_key_after(queue, std::numeric_limits<Sequence>::max());
    const rocksdb::Slice upper_bound(upper);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_bound;
    std::unique_ptr<rocksdb::Iterator> it(
        database_->db().NewIterator(options, database_->messages()));
    QueueStats stats;
    for (it->Seek(message_key(queue, 0)); it->Valid(); it->Next()) {
      const rocksdb::Slice key = it->key();
      if (key.size() != kMessageKeySize) {
        return Status{StorageErrc::kCorruption, "message key of unexpected size"};
      }
      const Sequence seq = get_big_endian(key.data() + 8);
      if (stats.count == 0) stats.first = seq;
      stats.last = seq;
      ++stats.count;
    }
    if (!it->status().ok()) return from_rocksdb(it->status());
    return stats;
  }

  Status flush() override {
    std::vector<rocksdb::ColumnFamilyHandle*> families = {
        database_->messages(), database_->metadata(), database_->queue_state(),
        database_->scheduled()};
    return from_rocksdb(database_->db().Flush(rocksdb::FlushOptions(), families));
  }

  Status resume() override {
    // RocksDB stops accepting writes after a failed WAL write (a "background
    // error") until it is resumed.
    return from_rocksdb(database_->db().Resume());
  }

  Result<std::vector<QueueState>> states() override {
    std::unique_ptr<rocksdb::Iterator> it(
        database_->db().NewIterator(rocksdb::ReadOptions(), database_->queue_state()));
    std::vector<QueueState> out;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8) return Status{StorageErrc::kCorruption, "bad queue state key"};
      out.push_back({get_big_endian(it->key().data()), it->value().ToString()});
    }
    if (!it->status().ok()) return from_rocksdb(it->status());
    return out;
  }

  Status delete_queue(QueueId queue, Durability durability) override {
    rocksdb::WriteBatch write_batch;
    rocksdb::Status status =
        write_batch.DeleteRange(database_->messages(), message_key(queue, 0),
                                message_key_after(queue, std::numeric_limits<Sequence>::max()));
    if (status.ok()) {
      status =
          write_batch.DeleteRange(database_->scheduled(), queue_key(queue), timeline_end(queue));
    }
    if (status.ok()) status = write_batch.Delete(database_->queue_state(), queue_key(queue));
    if (!status.ok()) return from_rocksdb(status);
    return from_rocksdb(database_->db().Write(write_options(durability), &write_batch));
  }

 private:
  std::shared_ptr<Database> database_;
};

class RocksDbMetadataStore final : public MetadataStore {
 public:
  explicit RocksDbMetadataStore(std::shared_ptr<Database> database)
      : database_(std::move(database)) {}

  Status write(const MetadataBatch& batch, Durability durability) override {
    if (batch.empty()) return Status::Ok();
    rocksdb::WriteBatch write_batch;
    auto* family = database_->metadata();
    for (const MetadataOp& op : batch.ops()) {
      if (!valid(op.kind)) return {StorageErrc::kInvalidArgument, "unknown metadata kind"};
      const std::string key = record_key(op.kind, op.key);
      const rocksdb::Status status = op.op == MetadataOp::Kind::kPut
                                         ? write_batch.Put(family, key, op.value)
                                         : write_batch.Delete(family, key);
      if (!status.ok()) return from_rocksdb(status);
    }
    return from_rocksdb(database_->db().Write(write_options(durability), &write_batch));
  }

  Result<std::string> get(MetadataKind kind, const std::string& key) override {
    if (!valid(kind)) return Status{StorageErrc::kInvalidArgument, "unknown metadata kind"};
    std::string value;
    const rocksdb::Status status = database_->db().Get(
        rocksdb::ReadOptions(), database_->metadata(), record_key(kind, key), &value);
    if (!status.ok()) return from_rocksdb(status);
    return value;
  }

  Result<std::vector<MetadataRecord>> list(MetadataKind kind) override {
    if (!valid(kind)) return Status{StorageErrc::kInvalidArgument, "unknown metadata kind"};
    const char prefix = static_cast<char>(kind);
    // Kinds are < 255, so prefix + 1 is a valid exclusive upper bound.
    const std::string upper(1, static_cast<char>(static_cast<std::uint8_t>(kind) + 1));
    const rocksdb::Slice upper_bound(upper);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_bound;
    std::unique_ptr<rocksdb::Iterator> it(
        database_->db().NewIterator(options, database_->metadata()));
    std::vector<MetadataRecord> records;
    for (it->Seek(rocksdb::Slice(&prefix, 1)); it->Valid(); it->Next()) {
      rocksdb::Slice key = it->key();
      key.remove_prefix(1);
      records.push_back({key.ToString(), it->value().ToString()});
    }
    if (!it->status().ok()) return from_rocksdb(it->status());
    return records;
  }

 private:
  static bool valid(MetadataKind kind) {
    return static_cast<std::size_t>(kind) < kMetadataKindCount;
  }
  static std::string record_key(MetadataKind kind, const std::string& key) {
    std::string out;
    out.reserve(key.size() + 1);
    out.push_back(static_cast<char>(kind));
    out += key;
    return out;
  }

  std::shared_ptr<Database> database_;
};

}  // namespace

Result<Stores> open_rocksdb_store(const std::filesystem::path& path,
                                  const RocksDbOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.info_log = make_forwarding_logger(options.log_warning);
  db_options.db_write_buffer_size = options.total_write_buffer_bytes;
  // Past this much log, the families holding its oldest part are flushed:
  // the log a crash leaves to replay at the next start stays short.
  db_options.max_total_wal_size = 2 * options.total_write_buffer_bytes;

  rocksdb::ColumnFamilyOptions family_options;
  family_options.write_buffer_size = options.write_buffer_bytes;
  rocksdb::ColumnFamilyOptions message_options = family_options;
  // Compact a file when 1/4 of any 1,000 consecutive entries are deletions.
  message_options.table_properties_collector_factories.emplace_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(1000, 250));
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, family_options},
      {kMessagesFamily, message_options},
      {kMetadataFamily, family_options},
      {kQueueStateFamily, family_options},
      {kScheduledFamily, message_options},  // released from the front, like a queue
  };

  rocksdb::DB* raw_db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  const rocksdb::Status status =
      rocksdb::DB::Open(db_options, path.string(), families, &handles, &raw_db);
  if (!status.ok()) return from_rocksdb(status);

  auto database =
      std::make_shared<Database>(std::unique_ptr<rocksdb::DB>(raw_db), std::move(handles));
  return Stores{std::make_unique<RocksDbMessageStore>(database),
                std::make_unique<RocksDbMetadataStore>(database)};
}

}  // namespace warren::storage
