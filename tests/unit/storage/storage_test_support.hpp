#pragma once
// Shared helpers for the storage contract tests: a self-deleting temp dir and
// one "backend" type per implementation, so each contract test is a
// TEMPLATE_TEST_CASE over STORAGE_BACKENDS.

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include "warren/storage/stores.hpp"

namespace warren::storage::test {

// A unique, empty directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<unsigned> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("warren-storage-" + std::to_string(::getpid()) + "-" + std::to_string(stamp) + "-" +
             std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// "<prefix><n>". Not `"m" + std::to_string(n)`: GCC 12 at -O3 reports a false
// -Wrestrict on that (GCC bug 105329).
inline std::string labelled(std::string prefix, std::uint64_t n) {
  prefix += std::to_string(n);
  return prefix;
}

inline Stores open_or_fail(const std::filesystem::path& path) {
  auto opened = open_rocksdb_store(path);
  INFO(opened.status().to_string());
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

struct MemoryBackend {
  static constexpr const char* kName = "memory";
  Stores stores = make_memory_stores();
};

struct RocksDbBackend {
  static constexpr const char* kName = "rocksdb";
  TempDir dir;  // declared first: destroyed after the stores close
  Stores stores = open_or_fail(dir.path() / "db");
};

#define STORAGE_BACKENDS \
  ::warren::storage::test::MemoryBackend, ::warren::storage::test::RocksDbBackend

// REQUIREs an OK Status, printing the error otherwise.
#define REQUIRE_OK(expr)                         \
  do {                                           \
    const ::warren::storage::Status s_ = (expr); \
    INFO(s_.to_string());                        \
    REQUIRE(s_.ok());                            \
  } while (false)

}  // namespace warren::storage::test
