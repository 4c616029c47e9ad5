#pragma once
// The persister: the one thread that writes to storage, with group commit.
//
// The broker thread adds operations (message appends and removes, queue
// state records, definitions) to the open batch. Once the broker thread has
// finished what it is doing (a posted handler), the open batch is handed to
// the persister thread, which writes it as one atomic RocksDB write with one
// sync, then posts the batch's completions back to the broker thread, in
// batch order. While a batch is being written, the next one fills, so the
// number of syncs falls as the load rises.
//
// A message appended and removed within one open batch (published, delivered
// and acked before the batch left) is not written at all.
//
// When a write fails (disk full, I/O error) the persister keeps the batch and
// retries it every second; meanwhile `failing()` is true (the broker blocks
// publishers) and nothing after it completes, so no confirm is sent for data
// that is not stored. Service resumes by itself when a retry succeeds.

#include <array>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "warren/storage/stores.hpp"

namespace warren::broker {

// How long batch writes took (one RocksDB write and sync each, retries
// included), as a histogram for the metrics. Broker thread only.
struct WriteLatency {
  static constexpr std::array<double, 10> kBucketSeconds{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                         0.025,  0.05,  0.1,    0.25,  1.0};
  std::array<std::uint64_t, kBucketSeconds.size()> at_most{};  // cumulative, as Prometheus
  std::uint64_t count = 0;
  double sum_seconds = 0;
  void record(double seconds);
};

class Persister {
 public:
  using QueueId = storage::QueueId;
  using Sequence = storage::Sequence;

  // Called on the broker thread when the storage condition changes:
  // `error` is empty once writes succeed again.
  using FailureHandler = std::function<void(const std::string& error)>;

  Persister(boost::asio::io_context& io, storage::Stores stores, storage::Durability durability);
  ~Persister();
  Persister(const Persister&) = delete;
  Persister& operator=(const Persister&) = delete;

  // Starts the writer thread (after recovery, which reads synchronously).
  void start(FailureHandler on_failure);
  // Writes what is pending and stops the thread. Called on the broker thread
  // after the io_context has stopped, so no completion runs afterwards.
  // False when something could not be written (the store was failing).
  bool stop();

  // --- broker thread: add to the open batch
  void append(QueueId queue, Sequence seq, std::string bytes);
  void remove(QueueId queue, Sequence seq);
  void purge(QueueId queue, Sequence first, Sequence last);
  void set_state(QueueId queue, std::string bytes);
  // Timelines (see message_store.hpp): an entry scheduled and unscheduled
  // within one open batch is not written, like an append and its remove.
  void schedule(storage::TimelineId timeline, std::uint64_t due, std::uint64_t id,
                std::string bytes);
  void unschedule(storage::TimelineId timeline, std::uint64_t due, std::uint64_t id);
  void delete_queue(QueueId queue);
  void put_definition(storage::MetadataKind kind, std::string key, std::string value);
  void remove_definition(storage::MetadataKind kind, std::string key);

  // Runs `done` on the broker thread once everything added so far is stored.
  void after_stored(std::function<void()> done);
  // A counter that grows with every operation added; comparing it before and
  // after some work tells whether the work wrote anything.
  std::uint64_t ops_added() const { return ops_added_; }
  // Message bytes appended and not yet written (the open batch and the one
  // in flight): copies the memory alarm counts besides the messages.
  std::uint64_t unwritten_bytes() const { return open_bytes_ + in_flight_bytes_; }
  bool failing() const { return failing_; }
  const WriteLatency& write_latency() const { return write_latency_; }
  // Numbers the open batch; it grows by one each time a batch is handed to
  // the writer.
  std::uint64_t open_batch_id() const { return open_batch_id_; }

  // Reads for recovery and paging; safe beside the writer (see
  // message_store.hpp).
  storage::MessageStore& messages() { return *stores_.messages; }
  storage::MetadataStore& metadata() { return *stores_.metadata; }

 private:
  struct MessageKey {
    QueueId queue;
    Sequence seq;
    bool operator==(const MessageKey&) const = default;
  };
  struct MessageKeyHash {
    std::size_t operator()(const MessageKey& k) const noexcept {
      return std::hash<std::uint64_t>()(k.queue * 0x9E3779B97F4A7C15ull ^ k.seq);
    }
  };

  struct ScheduleKey {
    storage::TimelineId timeline;
    std::uint64_t due;
    std::uint64_t id;
    bool operator==(const ScheduleKey&) const = default;
  };
  struct ScheduleKeyHash {
    std::size_t operator()(const ScheduleKey& k) const noexcept {
      return std::hash<std::uint64_t>()(
          (k.timeline * 0x9E3779B97F4A7C15ull ^ k.due) * 0xC2B2AE3D27D4EB4Full ^ k.id);
    }
  };

  struct Batch {
    std::vector<storage::MessageOp> message_ops;
    std::vector<bool> cancelled;  // parallel to message_ops
    std::size_t live_ops = 0;     // message_ops not cancelled
    std::vector<QueueId> deleted_queues;
    storage::MetadataBatch metadata;
    std::vector<std::function<void()>> completions;
    bool empty() const { return live_ops == 0 && deleted_queues.empty() && metadata.empty(); }
  };

  void added();
  void schedule_submit();
  void submit();
  void completed(std::vector<std::function<void()>> completions, double write_seconds);
  void run();
  storage::Status write(Batch& batch);
  void report(std::string error);

  boost::asio::io_context& io_;
  storage::Stores stores_;
  const storage::Durability durability_;
  FailureHandler on_failure_;

  // Broker thread only.
  Batch open_;
  std::unordered_map<MessageKey, std::size_t, MessageKeyHash> open_appends_;
  std::unordered_map<QueueId, std::size_t> open_states_;  // queue -> its kState op
  std::unordered_map<ScheduleKey, std::size_t, ScheduleKeyHash> open_schedules_;
  std::uint64_t ops_added_ = 0;
  std::uint64_t open_batch_id_ = 1;
  bool submit_posted_ = false;
  bool in_flight_ = false;
  std::uint64_t open_bytes_ = 0;
  std::uint64_t in_flight_bytes_ = 0;
  bool failing_ = false;
  WriteLatency write_latency_;

  // Shared with the writer thread.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Batch> handed_over_;
  bool stopping_ = false;
  bool abandoned_ = false;  // the writer gave up a failing batch at stop
  bool stopped_cleanly_ = false;
  std::thread thread_;
};

}  // namespace warren::broker
