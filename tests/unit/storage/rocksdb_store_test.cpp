// RocksDB-only behaviour: durability across close/open and environment
// failures surfacing as Status values.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storage_test_support.hpp"

namespace warren::storage::test {

TEST_CASE("rocksdb: a flush leaves no log to replay and loses nothing", "[storage][rocksdb]") {
  TempDir dir;
  const auto db_path = dir.path() / "db";
  auto log_bytes = [&] {
    std::uintmax_t total = 0;
    for (const auto& entry : std::filesystem::directory_iterator(db_path)) {
      if (entry.path().extension() == ".log") total += entry.file_size();
    }
    return total;
  };
  {
    Stores stores = open_or_fail(db_path);
    MessageBatch batch;
    for (Sequence seq = 0; seq < 1000; ++seq)
      batch.append(1, seq, labelled("m", seq));
    batch.schedule(1, 1000, 3, "waiting");
    batch.set_state(1, "state");
    REQUIRE_OK(stores.messages->write(batch, Durability::kFsync));
    CHECK(log_bytes() > 0);
    REQUIRE_OK(stores.messages->flush());
  }
  // What is left of the log after the close is empty: nothing to replay.
  CHECK(log_bytes() == 0);
  Stores stores = open_or_fail(db_path);
  std::vector<StoredMessage> out;
  REQUIRE_OK(stores.messages->read(1, 0, 2000, out));
  CHECK(out.size() == 1000);
  std::vector<ScheduledEntry> scheduled;
  REQUIRE_OK(stores.messages->read_scheduled(1, 0, 0, 10, scheduled));
  CHECK(scheduled == std::vector<ScheduledEntry>{{1000, 3, "waiting"}});
}

TEST_CASE("rocksdb: everything written is found after reopening", "[storage][rocksdb]") {
  TempDir dir;
  const auto db_path = dir.path() / "db";
  {
    Stores stores = open_or_fail(db_path);
    MessageBatch batch;
    for (Sequence seq = 0; seq < 100; ++seq)
      batch.append(1, seq, labelled("m", seq));
    batch.append(2, 5, "other");
    batch.set_state(1, "state one");
    batch.set_state(2, "state two");
    batch.schedule(1, 1000, 3, "waiting");
    batch.schedule(0, 20, 1, "delayed");
    REQUIRE_OK(stores.messages->write(batch, Durability::kFsync));
    batch.clear();
    batch.purge(1, 10, 19);
    batch.remove(1, 0);
    REQUIRE_OK(stores.messages->write(batch, Durability::kOs));
    REQUIRE_OK(stores.messages->delete_queue(2, Durability::kFsync));

    MetadataBatch metadata;
    metadata.put(MetadataKind::kVhost, "/", "vhost");
    metadata.put(MetadataKind::kQueue, "//q", "queue");
    metadata.put(MetadataKind::kUser, "gone", "user");
    REQUIRE_OK(stores.metadata->write(metadata, Durability::kFsync));
    REQUIRE_OK(stores.metadata->remove(MetadataKind::kUser, "gone", Durability::kFsync));
    // Destroy in the other order than declared: the database outlives both.
    stores.metadata.reset();
  }
  for (int round = 0; round < 2; ++round) {
    INFO("reopen round " << round);
    Stores stores = open_or_fail(db_path);
    std::vector<StoredMessage> out;
    REQUIRE_OK(stores.messages->read(1, 0, 1000, out));
    REQUIRE(out.size() == 89);
    std::vector<ScheduledEntry> scheduled;
    REQUIRE_OK(stores.messages->read_scheduled(1, 0, 0, 10, scheduled));
    CHECK(scheduled == std::vector<ScheduledEntry>{{1000, 3, "waiting"}});
    scheduled.clear();
    REQUIRE_OK(stores.messages->read_scheduled(0, 0, 0, 10, scheduled));
    CHECK(scheduled == std::vector<ScheduledEntry>{{20, 1, "delayed"}});
    CHECK(out.front() == StoredMessage{1, "m1"});
    CHECK(out[9] == StoredMessage{20, "m20"});
    CHECK(out.back() == StoredMessage{99, "m99"});
    out.clear();
    REQUIRE_OK(stores.messages->read(2, 0, 1000, out));
    CHECK(out.empty());
    auto states = stores.messages->states();
    REQUIRE(states.ok());
    CHECK(states.value() == std::vector<QueueState>{{1, "state one"}});

    auto vhosts = stores.metadata->list(MetadataKind::kVhost);
    REQUIRE(vhosts.ok());
    CHECK(vhosts.value() == std::vector<MetadataRecord>{{"/", "vhost"}});
    auto queue = stores.metadata->get(MetadataKind::kQueue, "//q");
    REQUIRE(queue.ok());
    CHECK(queue.value() == "queue");
    auto users = stores.metadata->list(MetadataKind::kUser);
    REQUIRE(users.ok());
    CHECK(users.value().empty());
  }
}

TEST_CASE("rocksdb: a path that is a regular file is an I/O error", "[storage][rocksdb]") {
  TempDir dir;
  const auto file_path = dir.path() / "not-a-directory";
  std::ofstream(file_path) << "plain file";
  auto opened = open_rocksdb_store(file_path);
  REQUIRE(!opened.ok());
  INFO(opened.status().to_string());
  CHECK(opened.status().code() == StorageErrc::kIoError);
  CHECK(!opened.status().message().empty());

  // A directory below a regular file fails the same way, for root too.
  auto nested = open_rocksdb_store(file_path / "db");
  REQUIRE(!nested.ok());
  CHECK(nested.status().code() == StorageErrc::kIoError);
}

TEST_CASE("rocksdb: a database already open is an I/O error", "[storage][rocksdb]") {
  TempDir dir;
  Stores first = open_or_fail(dir.path() / "db");
  auto second = open_rocksdb_store(dir.path() / "db");
  REQUIRE(!second.ok());
  INFO(second.status().to_string());
  CHECK(second.status().code() == StorageErrc::kIoError);
}

TEST_CASE("rocksdb: a missing database without create_if_missing fails", "[storage][rocksdb]") {
  TempDir dir;
  RocksDbOptions options;
  options.create_if_missing = false;
  auto opened = open_rocksdb_store(dir.path() / "absent", options);
  REQUIRE(!opened.ok());
  INFO(opened.status().to_string());
  CHECK(opened.status().code() == StorageErrc::kInvalidArgument);
}

}  // namespace warren::storage::test
