// The Broker's durable state: opening the store, recovery at start-up, and
// the records of vhosts, users and permissions. Exchanges, queues and
// bindings are recorded by VHost (vhost.cpp), messages by Queue.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>

#include "broker.hpp"
#include "connection.hpp"
#include "definition_records.hpp"
#include "delayed_messages.hpp"
#include "log.hpp"
#include "password.hpp"
#include "persister.hpp"
#include "stored_message.hpp"
#include "wait_migration.hpp"

namespace warren::broker {

using nlohmann::json;
using storage::MetadataKind;

namespace {

// In the data directory while no broker runs on it after a clean stop.
constexpr char kCleanMarker[] = "clean-shutdown";

// Messages read per call at start-up.
constexpr std::size_t kRecoveryReadChunk = 4096;

template <typename T>
T value_or_throw(storage::Result<T> result, const char* what) {
  if (!result.ok()) {
    throw std::runtime_error(fmt::format("{}: {}", what, result.status().to_string()));
  }
  return std::move(result).value();
}

}  // namespace

void Broker::open_storage() {
  const auto t0 = std::chrono::steady_clock::now();
  const std::filesystem::path dir = std::filesystem::path(config_.data_dir) / "rocksdb";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  storage::RocksDbOptions options;
  // From RocksDB's background threads too: one fmt::print per line.
  options.log_warning = [](std::string_view line) { log_error("rocksdb: {}", line); };
  auto stores = storage::open_rocksdb_store(dir, options);
  if (!stores.ok()) {
    throw std::runtime_error(
        fmt::format("cannot open the store in {}: {}", dir.string(), stores.status().to_string()));
  }
  // The marker says the last run stopped cleanly (its final write is done),
  // so the recorded delivery marks are exact. After a crash every recovered
  // message may have been delivered, so all come back redelivered.
  const std::filesystem::path marker = std::filesystem::path(config_.data_dir) / kCleanMarker;
  clean_start_ = std::filesystem::exists(marker, ec);
  std::filesystem::remove(marker, ec);
  persister_ = std::make_unique<Persister>(
      io_, std::move(stores).value(),
      config_.durability == "os" ? storage::Durability::kOs : storage::Durability::kFsync);
  delayed_ = std::make_unique<DelayedMessages>(
      io_, persister_.get(), [this](const std::string& name) { return find_vhost(name); },
      config_.delayed_memory_window);
  const bool recovered = recover();
  if (!recovered) {
    // First start: the defaults RabbitMQ creates, recorded like any change.
    add_vhost("/", VHostMetadata{"Default virtual host", {}, {}});
    User guest;
    guest.name = config_.default_user;
    guest.password_hash = hash_password(config_.default_pass);
    guest.tags = {"administrator"};
    guest.loopback_only = config_.default_user_loopback_only;
    put_user(std::move(guest));
    set_permissions("/", config_.default_user, Permission{});
  }
  persister_->start([this](const std::string& error) { storage_condition(error); });
  recovery_ms_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
}

bool Broker::recover() {
  storage::MetadataStore& metadata = persister_->metadata();
  storage::MessageStore& messages = persister_->messages();
  restoring_ = true;
  const auto vhost_records = value_or_throw(metadata.list(MetadataKind::kVhost), "reading vhosts");
  for (const auto& record : vhost_records) {
    VHostMetadata meta;
    const json j = json::parse(record.value, nullptr, false);
    if (j.is_object()) {
      meta.description = j.value("description", "");
      meta.tags = j.value("tags", std::vector<std::string>{});
      meta.default_queue_type = j.value("default_queue_type", "");
    }
    add_vhost(record.key, std::move(meta));
  }
  for (const auto& record : value_or_throw(metadata.list(MetadataKind::kUser), "reading users")) {
    const json j = json::parse(record.value, nullptr, false);
    if (!j.is_object()) continue;
    User user;
    user.name = record.key;
    user.password_hash = j.value("password_hash", "");
    user.hashing_algorithm = j.value("hashing_algorithm", user.hashing_algorithm);
    user.tags = j.value("tags", std::vector<std::string>{});
    user.loopback_only = j.value("loopback_only", false);
    put_user(std::move(user));
  }
  for (const auto& record :
       value_or_throw(metadata.list(MetadataKind::kPermission), "reading permissions")) {
    const json j = json::parse(record.value, nullptr, false);
    if (!j.is_object()) continue;
    const std::string vhost = j.value("vhost", ""), user = j.value("user", "");
    if (!vhosts_.contains(vhost) || !users_.contains(user)) continue;
    set_permissions(
        vhost, user,
        Permission{j.value("configure", ""), j.value("write", ""), j.value("read", "")});
  }
  restoring_ = false;

  // Topology: exchanges, then queues, then the bindings between them.
  for (const auto& record :
       value_or_throw(metadata.list(MetadataKind::kExchange), "reading exchanges")) {
    auto x = decode_exchange(record.key, record.value);
    VHost* vhost = x ? find_vhost(x->vhost) : nullptr;
    if (vhost == nullptr) continue;
    vhost->restore_exchange(
        ExchangeDeclare{x->name, x->type, false, true, x->auto_delete, x->internal, x->arguments});
  }
  std::unordered_map<std::uint64_t, std::shared_ptr<Queue>> queues;
  std::uint64_t highest_id = 0;
  for (const auto& record : value_or_throw(metadata.list(MetadataKind::kQueue), "reading queues")) {
    auto q = decode_queue(record.key, record.value);
    VHost* vhost = q ? find_vhost(q->vhost) : nullptr;
    if (vhost == nullptr) continue;
    QueueOptions options;
    options.auto_delete = q->auto_delete;
    options.arguments = q->arguments;
    queues[q->id] = vhost->restore_queue(q->name, q->id, std::move(options));
    highest_id = std::max(highest_id, q->id);
  }
  std::size_t stale_bindings = 0;
  for (const auto& record :
       value_or_throw(metadata.list(MetadataKind::kBinding), "reading bindings")) {
    auto b = decode_binding(record.key);
    VHost* vhost = b ? find_vhost(b->vhost) : nullptr;
    if (vhost == nullptr || !vhost->restore_binding(*b)) {
      persister_->remove_definition(MetadataKind::kBinding, record.key);
      ++stale_bindings;
    }
  }

  // Messages: each queue's state record says what the store holds; a state
  // without a queue is left over from a deletion cut short by a crash.
  std::uint64_t message_count = 0;
  std::optional<std::string> delayed_state;
  for (const auto& state : value_or_throw(messages.states(), "reading queue states")) {
    if (state.queue == DelayedMessages::kTimeline) {
      delayed_state = state.bytes;
      continue;
    }
    highest_id = std::max(highest_id, state.queue);
    auto it = queues.find(state.queue);
    auto decoded_state = decode_queue_state(state.bytes);
    if (it == queues.end() || !decoded_state) {
      persister_->delete_queue(state.queue);
      continue;
    }
    if (!decoded_state->waits_with_messages) migrate_waits(messages, state.queue, *decoded_state);
    std::vector<Queue::Entry> entries;
    std::vector<storage::StoredMessage> chunk;
    storage::Sequence from = 0;
    // A paging queue loads its head only (its memory window); the rest is
    // its paged region, read as consumers catch up.
    const bool pages = it->second->pages();
    const PagingLimits& window = paging_limits();
    std::uint64_t records_read = 0, bytes_read = 0, ready_loaded = 0, ready_bytes_loaded = 0;
    bool stopped_early = false;
    for (;;) {
      if (pages && (ready_loaded >= window.messages || ready_bytes_loaded >= window.bytes)) {
        stopped_early = true;
        break;
      }
      chunk.clear();
      const storage::Status status = messages.read(state.queue, from, kRecoveryReadChunk, chunk);
      if (!status.ok()) {
        throw std::runtime_error("reading messages: " + status.to_string());
      }
      for (auto& stored : chunk) {
        ++records_read;
        auto message = decode_stored_message(stored.bytes);
        if (message) bytes_read += message->message->body.size();
        if (!message) {
          log_error("recovery: queue '{}': unreadable message {} skipped", it->second->name(),
                    stored.seq);
          continue;
        }
        if (message->transient) {
          persister_->remove(state.queue, stored.seq);
          continue;
        }
        ++ready_loaded;
        ready_bytes_loaded += message->message->body.size();
        Queue::Entry entry;
        entry.message = std::move(message->message);
        entry.seq = stored.seq;
        entry.expires_at = message->expires_at;
        entries.push_back(std::move(entry));
      }
      if (chunk.size() < kRecoveryReadChunk) break;
      from = chunk.back().seq + 1;
    }
    Queue::PagedRegion beyond;
    if (stopped_early) {
      // Everything from `from` on is the paged region.
      beyond.from_seq = from;
      beyond.count = decoded_state->stored_count > records_read
                         ? decoded_state->stored_count - records_read
                         : 0;
      beyond.bytes =
          decoded_state->stored_bytes > bytes_read ? decoded_state->stored_bytes - bytes_read : 0;
      message_count += beyond.count;
    }
    message_count += entries.size();
    // Delivery counts of the loaded messages (due time 0 of the timeline, by
    // sequence); the region's are read as it is paged in. A record whose
    // message is gone is dropped.
    std::map<std::uint64_t, Queue::RestoredCounts> counts;
    std::vector<storage::ScheduledEntry> scheduled;
    for (std::uint64_t id = 0;;) {
      scheduled.clear();
      const storage::Status status =
          messages.read_scheduled(state.queue, 0, id, kRecoveryReadChunk, scheduled);
      if (!status.ok()) throw std::runtime_error("reading delivery counts: " + status.to_string());
      bool done = scheduled.size() < kRecoveryReadChunk;
      for (const auto& s : scheduled) {
        if (s.due != 0 || (stopped_early && s.id >= from)) {
          done = true;
          break;
        }
        auto record = decode_waiting(s.bytes);
        if (record && std::ranges::binary_search(entries, s.id, {}, &Queue::Entry::seq)) {
          counts[s.id] = Queue::RestoredCounts{record->acquired_count, record->delivery_count};
        } else {
          persister_->unschedule(state.queue, s.due, s.id);
        }
      }
      if (done) break;
      id = scheduled.back().id + 1;
    }
    message_count += decoded_state->waiting_count;
    it->second->restore(std::move(entries), counts, *decoded_state, clean_start_, beyond);
  }
  reserve_queue_ids(highest_id);
  delayed_->recover(delayed_state ? &*delayed_state : nullptr);
  if (stale_bindings > 0) log_info("recovery: dropped {} stale binding records", stale_bindings);
  const bool recovered = !vhost_records.empty();
  if (recovered) {
    log_info(
        "recovered {} vhosts, {} users, {} durable queues, {} messages, {} delayed messages "
        "(after a {})",
        vhosts_.size(), users_.size(), queues.size(), message_count, delayed_->pending(),
        clean_start_ ? "clean stop" : "crash");
  }
  return recovered;
}

void Broker::close_storage() {
  if (!persister_) return;
  if (persister_->stop()) {
    std::ofstream(std::filesystem::path(config_.data_dir) / kCleanMarker) << "clean\n";
  }
}

void Broker::check_disk() {
  // Block publishers before the disk is full, as RabbitMQ's disk_free_limit:
  // a write that fails for lack of space is the case to avoid, not to handle.
  std::error_code ec;
  const auto space = std::filesystem::space(config_.data_dir, ec);
  if (ec) return;
  const bool low = space.available < config_.disk_free_limit;
  if (low == disk_low_) return;
  const bool was_blocked = publishers_blocked();
  disk_low_ = low;
  storage_alarm_ = disk_low_ || write_failing_;
  if (low) {
    log_warning(
        "storage alarm: {} bytes free on the data dir's disk, under disk-free-limit {}; "
        "publishers are blocked",
        space.available, config_.disk_free_limit);
  } else {
    log_info("storage alarm cleared: {} bytes free on the data dir's disk", space.available);
  }
  alarms_changed(was_blocked);
}

void Broker::alarms_changed(bool was_blocked) {
  if (publishers_blocked() == was_blocked) return;
  std::vector<Connection*> live(connections_.begin(), connections_.end());
  for (Connection* c : live)
    c->memory_alarm_changed(publishers_blocked());
}

void Broker::storage_condition(const std::string& error) {
  const bool was_blocked = publishers_blocked();
  write_failing_ = !error.empty();
  storage_alarm_ = disk_low_ || write_failing_;
  if (write_failing_) {
    log_error("storage alarm: writes fail ({}); publishers are blocked until they succeed", error);
  } else {
    log_info("storage alarm cleared: writes succeed again");
  }
  alarms_changed(was_blocked);
}

void Broker::record_vhost(const std::string& name, const VHostMetadata& metadata) {
  if (persister_ == nullptr || restoring_) return;
  const json j = {{"description", metadata.description},
                  {"tags", metadata.tags},
                  {"default_queue_type", metadata.default_queue_type}};
  persister_->put_definition(MetadataKind::kVhost, name, j.dump());
}

void Broker::forget_vhost(const std::string& name) {
  if (persister_ == nullptr) return;
  persister_->remove_definition(MetadataKind::kVhost, name);
}

void Broker::record_user(const User& user) {
  if (persister_ == nullptr || restoring_) return;
  const json j = {{"password_hash", user.password_hash},
                  {"hashing_algorithm", user.hashing_algorithm},
                  {"tags", user.tags},
                  {"loopback_only", user.loopback_only}};
  persister_->put_definition(MetadataKind::kUser, user.name, j.dump());
}

void Broker::forget_user(const std::string& name) {
  if (persister_ == nullptr) return;
  persister_->remove_definition(MetadataKind::kUser, name);
}

void Broker::record_permissions(const std::string& vhost, const std::string& user,
                                const Permission& permission) {
  if (persister_ == nullptr || restoring_) return;
  const json j = {{"vhost", vhost},
                  {"user", user},
                  {"configure", permission.configure},
                  {"write", permission.write},
                  {"read", permission.read}};
  persister_->put_definition(MetadataKind::kPermission, name_key(vhost, user), j.dump());
}

void Broker::forget_permissions(const std::string& vhost, const std::string& user) {
  if (persister_ == nullptr) return;
  persister_->remove_definition(MetadataKind::kPermission, name_key(vhost, user));
}

}  // namespace warren::broker
