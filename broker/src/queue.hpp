#pragma once
// A queue: ready messages in FIFO order and the consumers competing for them.
// Owned by its VHost (shared with channels that hold unacked deliveries from
// it, so a deleted queue outlives its last reference safely). Lives on the
// broker thread; never touched from another thread.
//
// Messages carry a per-queue sequence number, which is also their key in the
// store: the arrival counter, and in a priority queue the priority band above
// it (higher priorities first), so that sequence order is delivery order. The
// ready list is kept sorted by it, so a message that is requeued (nack,
// reject, a closed channel) goes back to its original position, as in
// RabbitMQ.
//
// Paging (transient messages only under memory pressure): the ready messages
// past a memory window live in the store only, as a contiguous range of the
// highest sequences (the "paged region"); they are read back a window at a
// time as consumers catch up. A message published into the region joins it
// (a transient one is stored too, flagged transient, and dropped at the next
// start). See docs/ARCHITECTURE.md.

#include <algorithm>
#include <array>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "message.hpp"
#include "timeline_window.hpp"
#include "warren/protocol/field_table.hpp"

namespace warren::broker {

class Connection;
class VHost;
class Persister;
struct Consumer;
struct QueueStateRecord;
struct WaitingRecord;

// Queue ids are unique across vhosts (the message store keys by them) and
// never reused within a run; recovery reserves the recorded ones.
std::uint64_t allocate_queue_id();
void reserve_queue_ids(std::uint64_t highest_used);

// Why a message left its queue unacked: the x-death "reason".
enum class DeathReason : std::uint8_t { kRejected, kExpired, kMaxlen, kDeliveryLimit };
inline constexpr std::size_t kDeathReasonCount = 4;
std::string_view death_reason_name(DeathReason reason);

// Cumulative message counters, for the admin API's message_stats and metrics.
// Plain increments on the broker thread.
struct QueueStats {
  std::uint64_t publish = 0;         // messages enqueued
  std::uint64_t deliver = 0;         // to consumers that ack
  std::uint64_t deliver_no_ack = 0;  // to no-ack consumers
  std::uint64_t get = 0;             // basic.get that acks
  std::uint64_t get_no_ack = 0;
  std::uint64_t get_empty = 0;
  std::uint64_t ack = 0;
  std::uint64_t redeliver = 0;  // deliveries and gets with redelivered set
  // Messages that died here (DeathReason order): sent to the queue's
  // dead-letter exchange, or dropped for want of one.
  std::array<std::uint64_t, kDeathReasonCount> dead_lettered{};
  std::array<std::uint64_t, kDeathReasonCount> dropped{};
  // Adds `other`'s counters (not its samples): totals over queues.
  void add_counters(const QueueStats& other);
  std::uint64_t dead_lettered_total() const {
    std::uint64_t total = 0;
    for (std::uint64_t n : dead_lettered)
      total += n;
    return total;
  }
  // The last rate sample the admin API took (it computes rates from two).
  struct Sample {
    std::uint64_t publish = 0, deliver_get = 0, ack = 0, redeliver = 0, dead_lettered = 0;
    std::int64_t at_ms = 0;  // steady clock; 0: none yet
  };
  Sample sample, previous;
};

struct QueueOptions {
  bool durable = false;
  bool exclusive = false;
  bool auto_delete = false;
  protocol::FieldTable arguments;
};

// How much of a queue's ready list stays in memory. Stored
// (persistent, durable) messages past it always leave memory; the others
// only under memory pressure: once messages hold `transient_above` bytes
// (RabbitMQ pages at half its memory watermark), they are written to the
// store flagged transient (a restart drops them) and leave memory too.
struct PagingLimits {
  std::size_t messages = 50'000;
  std::uint64_t bytes = 64ull << 20;
  // Stored messages waiting to be retried held in memory (the earliest due).
  std::size_t waiting = 10'000;
  std::uint64_t transient_above = std::numeric_limits<std::uint64_t>::max();
};
void set_paging_limits(PagingLimits limits);
const PagingLimits& paging_limits();

class Queue : public std::enable_shared_from_this<Queue> {
 public:
  struct Entry {
    MessagePtr message;
    std::uint64_t seq = 0;
    bool redelivered = false;
    // Steady-clock deadline; time_point::max() when the message never expires.
    std::chrono::steady_clock::time_point expires_at = std::chrono::steady_clock::time_point::max();
    // Returns to the queue (RabbitMQ 4.3's rules, see SEMANTICS.md): every
    // return counts as acquired; a failed one (reject, lost channel) also as
    // a delivery attempt. Sent as x-acquired-count / x-delivery-count.
    std::uint32_t acquired_count = 0;
    std::uint32_t delivery_count = 0;
  };

  Queue(VHost& vhost, std::uint64_t id, std::string name, QueueOptions options,
        Connection* exclusive_owner);
  ~Queue();

  // Checks the x-arguments this queue understands; the error's text names the
  // argument, as RabbitMQ's does.
  static std::optional<std::string> validate_arguments(const protocol::FieldTable& arguments);

  std::uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  const QueueOptions& options() const { return options_; }
  VHost& vhost() const { return vhost_; }
  // The connection that declared an exclusive queue; null otherwise.
  Connection* exclusive_owner() const { return exclusive_owner_; }
  bool deleted() const { return deleted_; }

  std::size_t ready_count() const { return ready_.size() + paged_count_; }
  // Ready messages held in memory (the rest are paged out to the store).
  std::size_t ready_in_memory() const { return ready_.size(); }
  // Whether this queue pages (it has a store).
  bool pages() const;
  std::size_t consumer_count() const { return consumers_.size(); }
  std::uint64_t unacked_count() const { return unacked_; }
  bool has_exclusive_consumer() const;
  std::uint64_t ready_bytes() const { return ready_bytes_ + paged_bytes_; }
  QueueStats& stats() { return stats_; }
  const QueueStats& stats() const { return stats_; }

  // --- storage (see docs/ARCHITECTURE.md): durable queues keep their
  // persistent messages; any queue may page the others out under memory
  // pressure (flagged transient).
  // Whether this queue keeps `message` in the store (across restarts).
  bool stores(const Message& message) const { return durable_store_ && message.persistent; }
  // Whether a queue that is not durable wrote paged-out messages (its
  // deletion then clears them from the store).
  bool wrote_transient_pages() const { return wrote_transient_pages_; }
  // The message with sequence `seq` left the queue for good (acked,
  // dead-lettered, dropped): removes it from the store.
  void discard_stored(std::uint64_t seq, const Message& message);
  // Start-up: the recovered messages of the queue's range, in sequence
  // order, and the state record. After a crash (`clean_stop` false) every
  // one comes back redelivered; those with a counts record (`counts`, by
  // sequence) come back redelivered with their counts. When recovery loaded
  // only a prefix (a queue that pages), `beyond` says where the rest starts
  // in the store: the paged region. The messages waiting to be retried stay
  // on the queue's timeline: restore() reads the earliest of them.
  struct PagedRegion {
    std::uint64_t from_seq = 0;
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
  };
  struct RestoredCounts {
    std::uint32_t acquired_count = 0;
    std::uint32_t delivery_count = 0;
  };
  void restore(std::vector<Entry> entries, const std::map<std::uint64_t, RestoredCounts>& counts,
               const QueueStateRecord& state, bool clean_stop, PagedRegion beyond);

  // Appends a message and hands it to a consumer if one can take it.
  // Returns false when the queue refused it (x-overflow reject-publish*).
  bool publish(MessagePtr message);
  // A delivered message came back (nack/reject with requeue, a closed
  // channel, basic.recover); `failed` when the return raised its delivery
  // count. The queue's delayed-retry policy decides whether it waits first
  // (see SEMANTICS.md); otherwise it is requeued.
  void return_entry(Entry entry, bool failed);
  // Puts delivered-but-unacked messages back at their original positions,
  // marked redelivered. Does not dispatch (the caller calls dispatch() once).
  // A message whose delivery count passed x-delivery-limit is dead-lettered
  // (reason delivery_limit) instead.
  void requeue(Entry entry);
  // Warren's nack with delay: the message waits `delay`, then is requeued
  // (its delivery count already raised; past x-delivery-limit it is
  // dead-lettered instead of waiting). It counts in the depth, not as ready.
  void requeue_after(Entry entry, std::chrono::milliseconds delay);
  // Messages waiting to be retried: all of them, and those held in memory
  // (the rest are on the queue's timeline in the store only).
  std::uint64_t waiting_count() const { return transient_waits_.size() + stored_wait_count_; }
  std::size_t waiting_in_memory() const {
    return transient_waits_.size() + stored_waits_.held().size();
  }
  // Everything the queue holds: ready, delivered-but-unacked and waiting to
  // be retried (the admin API's `messages`).
  std::uint64_t depth() const { return ready_count() + unacked_ + waiting_count(); }

  // Delivers ready messages to consumers while any has capacity.
  void dispatch();
  // basic.get: takes the head, if any.
  bool take(Entry& out);
  // --- inspection for the admin API's DLQ tooling (a narrow window on the
  // ready list, so its representation can change behind it).
  // Visits ready messages in delivery order from position `offset` until
  // `visit` returns false, reading the paged region from the store as it
  // goes. Changes nothing (no redelivered flag, no counts, no reordering).
  void browse(std::size_t offset, const std::function<bool(const Entry&)>& visit) const;
  // Takes the ready message with sequence `seq` out of the queue (from the
  // paged region too); false when there is none. The caller settles it:
  // discard_stored, or publish elsewhere and discard_stored (never requeue:
  // one from the paged region is still in the store).
  bool remove_ready(std::uint64_t seq, Entry* out);
  // The ready message with sequence `seq` (a copy), without taking it.
  std::optional<Entry> find_ready(std::uint64_t seq) const;
  // Whether publish() would refuse `message` (x-overflow reject-publish*).
  bool refuses(const Message& message) const {
    return overflow_ != Overflow::kDropHead && would_overflow(message);
  }
  // Visits messages waiting to be retried in due-time order (with their
  // Unix due time in ms) from position `offset` until `visit` returns false,
  // reading the store past the ones held in memory. Changes nothing.
  void browse_waiting(
      std::size_t offset,
      const std::function<bool(const Entry&, std::uint64_t due_unix_ms)>& visit) const;
  // Cancels the wait of message `seq`: it becomes ready at once (its counts
  // kept). False when no message with that sequence is waiting.
  bool release_waiting(std::uint64_t seq);
  // Removes all ready messages; returns how many.
  std::size_t purge();
  // A message left the queue for good (rejected, expired): it goes to the
  // dead-letter exchange if the queue has one, else it is dropped.
  void dead_letter(const MessagePtr& message, DeathReason reason);
  // Drops (dead-letters) expired messages at the head.
  void expire_head();
  // The queue was used (declared, basic.get): restarts its x-expires lease.
  void touch();

  // An unacked delivery from this queue was settled (acked, requeued, dropped).
  void settled(std::uint64_t n = 1) { unacked_ -= n; }
  void add_unacked(std::uint64_t n = 1) { unacked_ += n; }

  void add_consumer(Consumer* consumer);
  void remove_consumer(Consumer* consumer);
  const std::vector<Consumer*>& consumers() const { return consumers_; }
  bool ever_had_consumers() const { return ever_had_consumers_; }

  // Called by the vhost on deletion: drops messages; consumers are already gone.
  void mark_deleted();

 private:
  Consumer* pick_consumer();
  void arm_waiting_timer();
  void release_due();
  // Records head/tail/count for the next storage batch.
  void write_state();
  // Paging: moves the newest ready messages to the store-only region when
  // over the window; reads the region back when the window runs low.
  void page_out_over_window();
  void maybe_page_in();
  void page_in();
  bool over_window() const;
  void delivered(const Entry& entry);
  void arm_expiry_timer();
  // Per-message TTLs make messages expire out of order: those behind the
  // head are found through expiry_index_.
  void index_expiry(const Entry& entry);
  void expire_indexed(std::chrono::steady_clock::time_point now);
  std::optional<std::chrono::milliseconds> retry_delay(const Entry& entry, bool failed) const;
  Entry pop_ready_front();
  bool over_limit() const;
  bool would_overflow(const Message& message) const;
  // A message of the paged region as read from the store (browse,
  // remove_ready): nullopt for what page_in() skips.
  std::optional<Entry> region_entry(std::uint64_t seq, std::string_view bytes) const;
  bool redelivered_after_restart(std::uint64_t seq) const {
    return seq < first_seq_this_run_ && (!restored_clean_ || seq <= delivered_upto_);
  }
  // drop-head: dead-letters (reason maxlen) from the head until within limits.
  void drop_head_over_limit();

  VHost& vhost_;
  const std::uint64_t id_;
  const std::string name_;
  const QueueOptions options_;
  Connection* const exclusive_owner_;
  std::deque<Entry> ready_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t unacked_ = 0;
  // Sorted by priority, highest first; equal priorities take turns.
  std::vector<Consumer*> consumers_;
  std::size_t next_consumer_ = 0;
  bool has_priorities_ = false;
  bool ever_had_consumers_ = false;
  bool dispatching_ = false;
  bool deleted_ = false;

  // From the arguments.
  std::optional<std::chrono::milliseconds> message_ttl_;
  std::optional<std::string> dead_letter_exchange_;
  std::optional<std::string> dead_letter_routing_key_;
  // x-max-length / x-max-length-bytes count ready messages, as RabbitMQ.
  enum class Overflow { kDropHead, kRejectPublish, kRejectPublishDlx };
  std::optional<std::uint64_t> max_length_;
  std::optional<std::uint64_t> max_length_bytes_;
  Overflow overflow_ = Overflow::kDropHead;
  // x-expires: the queue is deleted after this long unused (no consumers,
  // no basic.get, no redeclare).
  std::optional<std::chrono::milliseconds> lease_;
  std::unique_ptr<boost::asio::steady_timer> lease_timer_;
  std::optional<std::uint32_t> delivery_limit_;
  // x-max-priority: a message's sequence carries its priority band above
  // the arrival counter, so ready_ (sorted by sequence) has the oldest
  // message of the highest priority at its head.
  std::optional<std::uint8_t> max_priority_;
  // 2^45 arrivals per queue; with 8 bits of band a sequence stays below 2^53
  // (exact in JSON numbers).
  static constexpr int kArrivalBits = 45;
  static std::uint64_t arrival_of(std::uint64_t seq) {
    return seq & ((std::uint64_t{1} << kArrivalBits) - 1);
  }
  std::uint64_t sequence_for(std::uint64_t arrival, const Message& message) const;
  // Priority queues: sequences of delivered messages not yet settled (acked,
  // requeued, dropped, gone to wait). A page-out must not move the
  // region's start below any of them (the store may still hold them, and a
  // page-in would read them as ready). FIFO queues hand out from the head, so
  // theirs are always below the region.
  std::multiset<std::uint64_t> out_of_ready_;
  void back_in_ready(std::uint64_t seq);
  // x-single-active-consumer: only the first registered consumer receives.
  bool single_active_consumer_ = false;
  std::uint64_t ready_bytes_ = 0;  // of ready_ (in memory)
  // The paged region: sequences >= page_from_ in the store are ready
  // messages not in ready_ (and nothing else is stored at or above it).
  bool paging_ = false;  // the queue has a store
  std::uint64_t paged_count_ = 0;
  std::uint64_t paged_bytes_ = 0;
  std::uint64_t page_from_ = 0;
  bool page_in_requested_ = false;
  bool page_in_waited_ = false;  // a page-in found nothing even after the writes
  // Paged-region messages whose append may still be on its way to the
  // store (a read would not find them yet), in sequence order; dropped from
  // memory once their batch is stored.
  // `batch`: the store's open batch when it was added.
  struct Unwritten {
    Entry entry;
    std::uint64_t batch = 0;
  };
  std::deque<Unwritten> unwritten_region_;
  void add_unwritten(Entry entry);
  bool trim_scheduled_ = false;
  void schedule_trim();
  // Recovery: what decides `redelivered` for messages stored before this
  // run.
  std::uint64_t first_seq_this_run_ = 0;
  bool restored_clean_ = true;
  // Released retries held in memory whose sequence is inside the paged
  // region (back in the store too): reads of the region skip them.
  std::unordered_set<std::uint64_t> held_in_region_;
  // Taken out of the paged region by remove_ready(): the store may still
  // hold them until the removal is written, so reads skip them.
  std::unordered_set<std::uint64_t> removed_from_region_;
  // x-delayed-retry-*: which returns wait, and for how long.
  enum class RetryType { kDisabled, kAll, kFailed, kReturned };
  RetryType retry_type_ = RetryType::kDisabled;
  std::int64_t retry_min_ms_ = 0;
  std::optional<std::int64_t> retry_max_ms_;
  std::optional<double> retry_multiplier_;
  // Messages waiting to be retried (nack with delay, the retry policy),
  // keyed by Unix due time and sequence. A stored one leaves the queue's
  // range for its timeline (message and counts), so it waits again after a
  // restart; only the earliest of those are held in memory. The others wait
  // in memory.
  TimelineWindow<Entry> stored_waits_;
  std::uint64_t stored_wait_count_ = 0;  // in memory and in the store
  std::map<TimelineKey, Entry> transient_waits_;
  void start_wait(Entry entry, std::uint64_t due_unix_ms);
  // A stored wait ends: the message goes back to the queue's range.
  void end_stored_wait(const TimelineKey& key, const Entry& entry);
  void maybe_refill_waits();
  void refill_waits();
  std::unique_ptr<boost::asio::steady_timer> refill_retry_timer_;
  // Delivery counts survive restarts: a stored message returned with counts
  // has them on the queue's timeline at due time 0 (a wait's own record
  // carries them while it waits). `counted_`: the sequences that have one.
  static constexpr std::uint64_t kCountsOnly = 0;
  std::unordered_set<std::uint64_t> counted_;
  void store_counts(const Entry& entry);
  // The counts records of sequences first..last (paged-in messages).
  void read_counts(std::uint64_t first, std::uint64_t last,
                   std::map<std::uint64_t, WaitingRecord>& out) const;
  void forget_counts(std::uint64_t seq);
  std::unique_ptr<boost::asio::steady_timer> waiting_timer_;
  // Storage: set for every queue of a broker with a store; durable_store_
  // for a durable, non-exclusive one (its definition and persistent
  // messages survive restarts).
  Persister* store_ = nullptr;
  bool durable_store_ = false;
  bool wrote_transient_pages_ = false;
  std::uint64_t stored_count_ = 0;
  std::uint64_t stored_bytes_ = 0;
  std::uint64_t delivered_upto_ = 0;  // highest sequence ever handed out
  QueueStats stats_;
  bool may_expire_ = false;  // queue TTL, or a message with its own TTL arrived
  std::unique_ptr<boost::asio::steady_timer> expiry_timer_;
  // Deadline -> sequence of ready messages with their own TTL (entries may be
  // stale: a message delivered or gone meanwhile is skipped).
  std::multimap<std::chrono::steady_clock::time_point, std::uint64_t> expiry_index_;
  // Stored messages with their own TTL are also indexed on the queue's
  // timeline (due kExpiryBase + Unix expiry ms, id: the sequence; no bytes),
  // so that after a restart those of the paged region still expire on time.
  // Entries are dropped when they come due (whether or not the message is
  // still there): one write at publish, one at expiry.
  static constexpr std::uint64_t kExpiryBase = std::uint64_t{1} << 62;
  TimelineKey stored_expiry_cursor_{kExpiryBase, 0};
  std::optional<std::uint64_t> next_stored_expiry_;  // Unix ms; nullopt: none known
  void index_stored_expiry(const Entry& entry);
  void take_stored_expiries(std::chrono::steady_clock::time_point now);
  void peek_stored_expiry();
  std::chrono::steady_clock::time_point timer_deadline_ =
      std::chrono::steady_clock::time_point::max();
};

}  // namespace warren::broker
