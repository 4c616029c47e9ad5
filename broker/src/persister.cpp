#include "persister.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>

#include "log.hpp"

namespace warren::broker {

namespace asio = boost::asio;

Persister::Persister(asio::io_context& io, storage::Stores stores, storage::Durability durability)
    : io_(io), stores_(std::move(stores)), durability_(durability) {}

Persister::~Persister() {
  stop();
}

void Persister::start(FailureHandler on_failure) {
  on_failure_ = std::move(on_failure);
  thread_ = std::thread([this] { run(); });
}

bool Persister::stop() {
  if (!thread_.joinable()) return stopped_cleanly_;
  {
    // The thread writes what was handed over, then exits; what is still open
    // is written here, after the join, so there is always one writer.
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // After an abandoned batch, a later one must not be written without it.
  stopped_cleanly_ = !abandoned_;
  if (!abandoned_ && !open_.empty()) {
    const storage::Status status = write(open_);
    if (!status.ok()) {
      log_error("storage: final write failed: {}", status.to_string());
      stopped_cleanly_ = false;
    }
  }
  if (stopped_cleanly_) {
    // The next start then replays no log.
    if (const storage::Status status = stores_.messages->flush(); !status.ok()) {
      log_warning("storage: flush at stop failed: {}", status.to_string());
    }
  }
  return stopped_cleanly_;
}

void Persister::added() {
  ++ops_added_;
  schedule_submit();
}

void Persister::schedule_submit() {
  if (submit_posted_) return;
  submit_posted_ = true;
  asio::post(io_, [this] {
    submit_posted_ = false;
    submit();
  });
}

void Persister::append(QueueId queue, Sequence seq, std::string bytes) {
  open_bytes_ += bytes.size();
  open_appends_[MessageKey{queue, seq}] = open_.message_ops.size();
  open_.message_ops.push_back(
      {storage::MessageOp::Kind::kAppend, queue, seq, seq, std::move(bytes)});
  open_.cancelled.push_back(false);
  ++open_.live_ops;
  added();
}

void Persister::remove(QueueId queue, Sequence seq) {
  // Appended in this same open batch: neither is written.
  if (auto it = open_appends_.find(MessageKey{queue, seq}); it != open_appends_.end()) {
    open_.cancelled[it->second] = true;
    --open_.live_ops;
    open_bytes_ -= std::min(open_bytes_, std::uint64_t{open_.message_ops[it->second].bytes.size()});
    open_.message_ops[it->second].bytes = std::string();
    open_appends_.erase(it);
    return;
  }
  open_.message_ops.push_back({storage::MessageOp::Kind::kRemove, queue, seq, seq, {}});
  open_.cancelled.push_back(false);
  ++open_.live_ops;
  added();
}

void Persister::purge(QueueId queue, Sequence first, Sequence last) {
  open_.message_ops.push_back({storage::MessageOp::Kind::kPurge, queue, first, last, {}});
  open_.cancelled.push_back(false);
  ++open_.live_ops;
  added();
}

void Persister::set_state(QueueId queue, std::string bytes) {
  // Only the last state of a queue in a batch matters: replace it in place.
  if (auto it = open_states_.find(queue); it != open_states_.end()) {
    open_.message_ops[it->second].bytes = std::move(bytes);
    ++ops_added_;
    return;
  }
  open_states_[queue] = open_.message_ops.size();
  open_.message_ops.push_back({storage::MessageOp::Kind::kState, queue, 0, 0, std::move(bytes)});
  open_.cancelled.push_back(false);
  ++open_.live_ops;
  added();
}

void Persister::schedule(storage::TimelineId timeline, std::uint64_t due, std::uint64_t id,
                         std::string bytes) {
  open_schedules_[ScheduleKey{timeline, due, id}] = open_.message_ops.size();
  open_.message_ops.push_back(
      {storage::MessageOp::Kind::kSchedule, timeline, due, id, std::move(bytes)});
  open_.cancelled.push_back(false);
  ++open_.live_ops;
  added();
}

void Persister::unschedule(storage::TimelineId timeline, std::uint64_t due, std::uint64_t id) {
  if (auto it = open_schedules_.find(ScheduleKey{timeline, due, id}); it != open_schedules_.end()) {
    open_.cancelled[it->second] = true;
    --open_.live_ops;
    open_bytes_ -= std::min(open_bytes_, std::uint64_t{open_.message_ops[it->second].bytes.size()});
    open_.message_ops[it->second].bytes = std::string();
    open_schedules_.erase(it);
    return;
  }
  open_.message_ops.push_back({storage::MessageOp::Kind::kUnschedule, timeline, due, id, {}});
  open_.cancelled.push_back(false);
  ++open_.live_ops;
  added();
}

void Persister::delete_queue(QueueId queue) {
  open_.deleted_queues.push_back(queue);
  added();
}

void Persister::put_definition(storage::MetadataKind kind, std::string key, std::string value) {
  open_.metadata.put(kind, std::move(key), std::move(value));
  added();
}

void Persister::remove_definition(storage::MetadataKind kind, std::string key) {
  open_.metadata.remove(kind, std::move(key));
  added();
}

void Persister::after_stored(std::function<void()> done) {
  open_.completions.push_back(std::move(done));
  schedule_submit();
}

void Persister::submit() {
  if (in_flight_ || (open_.empty() && open_.completions.empty())) return;
  if (open_.empty()) {
    // Nothing to write (everything cancelled out) and no earlier batch in
    // flight: complete at once.
    auto completions = std::move(open_.completions);
    open_ = Batch{};
    open_bytes_ = 0;
    open_appends_.clear();
    open_states_.clear();
    open_schedules_.clear();
    ++open_batch_id_;
    for (auto& done : completions)
      done();
    return;
  }
  in_flight_ = true;
  in_flight_bytes_ = open_bytes_;
  open_bytes_ = 0;
  ++open_batch_id_;
  open_appends_.clear();
  open_states_.clear();
  open_schedules_.clear();
  {
    std::lock_guard lock(mutex_);
    handed_over_ = std::move(open_);
  }
  open_ = Batch{};
  wake_.notify_all();
}

void WriteLatency::record(double seconds) {
  ++count;
  sum_seconds += seconds;
  for (std::size_t i = 0; i < kBucketSeconds.size(); ++i) {
    if (seconds <= kBucketSeconds[i]) ++at_most[i];
  }
}

void Persister::completed(std::vector<std::function<void()>> completions, double write_seconds) {
  in_flight_ = false;
  in_flight_bytes_ = 0;
  write_latency_.record(write_seconds);
  for (auto& done : completions)
    done();
  submit();
}

void Persister::report(std::string error) {
  asio::post(io_, [this, error = std::move(error)] {
    failing_ = !error.empty();
    if (on_failure_) on_failure_(error);
  });
}

storage::Status Persister::write(Batch& batch) {
  const bool has_messages = !batch.message_ops.empty() || !batch.deleted_queues.empty();
  // Definitions first: messages never refer to a queue the store lacks. One
  // sync at the end covers every earlier write of the same log.
  if (!batch.metadata.empty()) {
    const storage::Status status = stores_.metadata->write(
        batch.metadata, has_messages ? storage::Durability::kOs : durability_);
    if (!status.ok()) return status;
  }
  if (batch.live_ops > 0) {
    storage::MessageBatch messages;
    auto& ops = messages.ops();
    ops.reserve(batch.message_ops.size());
    for (std::size_t i = 0; i < batch.message_ops.size(); ++i) {
      if (!batch.cancelled[i]) ops.push_back(std::move(batch.message_ops[i]));
    }
    // Keep the ops in the batch so a retry after a failure writes them again.
    const storage::Status status = stores_.messages->write(
        messages, batch.deleted_queues.empty() ? durability_ : storage::Durability::kOs);
    for (std::size_t i = 0, j = 0; i < batch.message_ops.size(); ++i) {
      if (!batch.cancelled[i]) batch.message_ops[i] = std::move(ops[j++]);
    }
    if (!status.ok()) return status;
  }
  for (QueueId queue : batch.deleted_queues) {
    const storage::Status status = stores_.messages->delete_queue(queue, durability_);
    if (!status.ok()) return status;
  }
  return storage::Status::Ok();
}

void Persister::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return handed_over_.has_value() || stopping_; });
    if (!handed_over_) return;  // stopping, nothing left
    Batch batch = std::move(*handed_over_);
    handed_over_.reset();
    lock.unlock();

    bool failed_before = false;
    const auto started = std::chrono::steady_clock::now();
    for (;;) {
      const storage::Status status = write(batch);
      if (status.ok()) break;
      if (!failed_before) report(status.to_string());
      failed_before = true;
      // Retry until the disk has room again; give up only when stopping
      // (nothing in this batch was confirmed, so nothing confirmed is lost).
      lock.lock();
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      const bool give_up = stopping_;
      lock.unlock();
      if (!give_up) {
        const storage::Status resumed = stores_.messages->resume();
        if (!resumed.ok()) log_debug("storage: not resumed yet: {}", resumed.to_string());
      }
      if (give_up) {
        log_error("storage: stopping with an unwritten batch: {}", status.to_string());
        lock.lock();
        abandoned_ = true;
        return;
      }
    }
    if (failed_before) report("");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    asio::post(io_, [this, seconds, completions = std::move(batch.completions)]() mutable {
      completed(std::move(completions), seconds);
    });

    lock.lock();
  }
}

}  // namespace warren::broker
