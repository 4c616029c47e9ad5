// The persister without sockets: group commit, completion order, cancelled
// append/remove pairs, and retries while the store fails. Over the in-memory
// stores, wrapped to count writes and to fail on demand. Runs under TSan too
// (the persister is the broker's one other thread).

#include "persister.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace warren::broker {
namespace {

using storage::Durability;
using storage::MessageBatch;
using storage::Status;

// Delegates to an in-memory store; counts writes and fails while told to.
class FlakyMessageStore final : public storage::MessageStore {
 public:
  explicit FlakyMessageStore(std::unique_ptr<storage::MessageStore> inner)
      : inner_(std::move(inner)) {}

  std::atomic<int> writes{0};
  std::atomic<int> failures_left{0};
  std::atomic<int> resumes{0};
  std::atomic<std::size_t> last_batch_ops{0};

  Status write(const MessageBatch& batch, Durability durability) override {
    if (failures_left > 0) {
      --failures_left;
      return {storage::StorageErrc::kNoSpace, "injected: no space left on device"};
    }
    ++writes;
    last_batch_ops = batch.size();
    return inner_->write(batch, durability);
  }
  Status read(storage::QueueId queue, storage::Sequence from, std::size_t limit,
              std::vector<storage::StoredMessage>& out) override {
    return inner_->read(queue, from, limit, out);
  }
  Status read_scheduled(storage::TimelineId timeline, std::uint64_t due, std::uint64_t id,
                        std::size_t limit, std::vector<storage::ScheduledEntry>& out) override {
    return inner_->read_scheduled(timeline, due, id, limit, out);
  }
  storage::Result<storage::QueueStats> stats(storage::QueueId queue) override {
    return inner_->stats(queue);
  }
  Status resume() override {
    ++resumes;
    return Status::Ok();
  }
  storage::Result<std::vector<storage::QueueState>> states() override { return inner_->states(); }
  Status delete_queue(storage::QueueId queue, Durability durability) override {
    return inner_->delete_queue(queue, durability);
  }

 private:
  std::unique_ptr<storage::MessageStore> inner_;
};

struct Fixture {
  boost::asio::io_context io;
  FlakyMessageStore* store = nullptr;
  std::unique_ptr<Persister> persister;
  std::vector<std::string> failures;  // what the failure handler was told

  Fixture() {
    storage::Stores stores = storage::make_memory_stores();
    auto flaky = std::make_unique<FlakyMessageStore>(std::move(stores.messages));
    store = flaky.get();
    stores.messages = std::move(flaky);
    persister = std::make_unique<Persister>(io, std::move(stores), Durability::kFsync);
    persister->start([this](const std::string& error) { failures.push_back(error); });
  }

  // Runs the io_context until `done` holds (or a generous deadline passes).
  template <typename Pred>
  bool run_until(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }

  std::vector<storage::StoredMessage> read(storage::QueueId queue) {
    std::vector<storage::StoredMessage> out;
    REQUIRE(persister->messages().read(queue, 0, 1000, out).ok());
    return out;
  }
};

TEST_CASE("persister: completions run in order once their batch is stored", "[broker][persister]") {
  Fixture f;
  std::vector<int> order;
  f.persister->append(1, 1, "a");
  f.persister->after_stored([&] {
    order.push_back(1);
    // Stored by now: readable from the store.
    CHECK(f.read(1).size() == 1);
  });
  // While the first batch is on its way, the next one fills.
  boost::asio::post(f.io, [&] {
    f.persister->append(1, 2, "b");
    f.persister->after_stored([&] { order.push_back(2); });
    f.persister->append(1, 3, "c");
    f.persister->after_stored([&] { order.push_back(3); });
  });
  REQUIRE(f.run_until([&] { return order.size() == 3; }));
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(f.read(1).size() == 3);
  // Group commit: the two later appends share a write.
  CHECK(f.store->writes <= 2);
}

TEST_CASE("persister: an append removed in the same open batch is never written",
          "[broker][persister]") {
  Fixture f;
  bool done = false;
  f.persister->append(4, 1, "kept");
  f.persister->append(4, 2, "published and acked at once");
  f.persister->remove(4, 2);
  f.persister->after_stored([&] { done = true; });
  REQUIRE(f.run_until([&] { return done; }));
  CHECK(f.read(4) == std::vector<storage::StoredMessage>{{1, "kept"}});
  CHECK(f.store->last_batch_ops == 1);  // only the kept append went to the store

  // A remove of something already stored is written.
  done = false;
  f.persister->remove(4, 1);
  f.persister->after_stored([&] { done = true; });
  REQUIRE(f.run_until([&] { return done; }));
  CHECK(f.read(4).empty());
}

TEST_CASE("persister: a timeline entry unscheduled in the same open batch is never written",
          "[broker][persister]") {
  Fixture f;
  auto scheduled = [&](storage::TimelineId timeline) {
    std::vector<storage::ScheduledEntry> out;
    REQUIRE(f.persister->messages().read_scheduled(timeline, 0, 0, 100, out).ok());
    return out;
  };
  bool done = false;
  f.persister->schedule(6, 100, 1, "waits");
  f.persister->schedule(6, 50, 2, "released at once");
  f.persister->unschedule(6, 50, 2);
  f.persister->after_stored([&] { done = true; });
  REQUIRE(f.run_until([&] { return done; }));
  CHECK(scheduled(6) == std::vector<storage::ScheduledEntry>{{100, 1, "waits"}});
  CHECK(f.store->last_batch_ops == 1);

  // An unschedule of a stored entry is written.
  done = false;
  f.persister->unschedule(6, 100, 1);
  f.persister->after_stored([&] { done = true; });
  REQUIRE(f.run_until([&] { return done; }));
  CHECK(scheduled(6).empty());
}

TEST_CASE("persister: a batch that cancels out completes without a write", "[broker][persister]") {
  Fixture f;
  bool done = false;
  f.persister->append(5, 1, "x");
  f.persister->remove(5, 1);
  f.persister->after_stored([&] { done = true; });
  REQUIRE(f.run_until([&] { return done; }));
  CHECK(f.store->writes == 0);
}

TEST_CASE(
    "persister: failing writes are retried, nothing completes meanwhile, and the failure "
    "is reported and cleared",
    "[broker][persister]") {
  Fixture f;
  f.store->failures_left = 2;
  bool done = false;
  f.persister->append(6, 1, "survives the outage");
  f.persister->after_stored([&] { done = true; });
  REQUIRE(f.run_until([&] { return !f.failures.empty(); }));
  CHECK(f.failures.front().find("no space") != std::string::npos);
  CHECK(f.persister->failing());
  CHECK_FALSE(done);
  REQUIRE(f.run_until([&] { return done; }));
  REQUIRE(f.run_until([&] { return f.failures.size() == 2; }));
  CHECK(f.failures.back().empty());  // cleared
  CHECK_FALSE(f.persister->failing());
  CHECK(f.store->resumes >= 1);
  CHECK(f.read(6) == std::vector<storage::StoredMessage>{{6 - 5, "survives the outage"}});
}

TEST_CASE("persister: stop writes what is still open", "[broker][persister]") {
  Fixture f;
  f.persister->append(7, 1, "written at stop");
  f.persister->put_definition(storage::MetadataKind::kQueue, "q", "record");
  CHECK(f.persister->stop());
  CHECK(f.read(7).size() == 1);
  auto record = f.persister->metadata().get(storage::MetadataKind::kQueue, "q");
  REQUIRE(record.ok());
  CHECK(record.value() == "record");
}

}  // namespace
}  // namespace warren::broker
