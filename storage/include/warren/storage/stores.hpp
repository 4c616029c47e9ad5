#pragma once
// Opening the stores. Both implementations give a MessageStore and a
// MetadataStore with identical semantics (one contract test suite runs over
// both):
//   - open_rocksdb_store: durable, one RocksDB database in a directory, with a
//     column family per kind of data ("messages", "metadata").
//   - make_memory_stores: in memory, for tests and transient brokers.

#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "warren/storage/message_store.hpp"
#include "warren/storage/metadata_store.hpp"
#include "warren/storage/status.hpp"

namespace warren::storage {

// The two stores over one database. They may be destroyed in any order; the
// database closes when the last one goes. Destroying a store flushes nothing
// extra: writes made with Durability::kOs may be lost on power failure.
struct Stores {
  std::unique_ptr<MessageStore> messages;
  std::unique_ptr<MetadataStore> metadata;
};

struct RocksDbOptions {
  // Create the directory and database when missing; when false, a missing
  // database is kInvalidArgument.
  bool create_if_missing = true;
  // Memtable size per column family; bounds memory used for unflushed writes.
  std::size_t write_buffer_bytes = 16 << 20;
  // Memtables of all column families together (RocksDB's
  // db_write_buffer_size): a flood of writes flushes rather than grows.
  std::size_t total_write_buffer_bytes = 64 << 20;
  // Where RocksDB's own error messages go (from its background threads
  // too, so it must be thread-safe); unset: standard error. RocksDB writes no
  // LOG file of its own in the database directory.
  std::function<void(std::string_view)> log_warning;
};

// Opens (or creates) the database in directory `path`.
// Errors: kIoError when `path` cannot be used as a database directory (it is
// a regular file, permissions) or when another process or Stores object has
// it open (RocksDB's LOCK file); kCorruption; kInvalidArgument (missing and
// !create_if_missing). Never throws for environment failures.
Result<Stores> open_rocksdb_store(const std::filesystem::path& path,
                                  const RocksDbOptions& options = {});

// Fresh, empty in-memory stores. Durability is accepted and ignored.
Stores make_memory_stores();

}  // namespace warren::storage
