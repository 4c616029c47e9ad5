#pragma once
// RocksDB's info log, sent to a callback instead of a LOG file in the
// database directory. A full disk fails the LOG file's writes too, and
// RocksDB 7.8 (Debian 12) asserts when it appends to a file whose earlier
// append failed: with a LOG file, the first ENOSPC took the process down.

#include <rocksdb/env.h>

#include <functional>
#include <memory>
#include <string_view>

namespace warren::storage {

// Errors go to `sink` (standard error when empty); the rest is dropped. Thread-safe as far as `sink` is.
std::shared_ptr<rocksdb::Logger> make_forwarding_logger(std::function<void(std::string_view)> sink);

}  // namespace warren::storage
