#include "queue.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "channel.hpp"
#include "consumer.hpp"
#include "log.hpp"
#include "persister.hpp"
#include "stored_message.hpp"
#include "vhost.hpp"

namespace warren::broker {

namespace {
std::uint64_t g_next_queue_id = 1;
PagingLimits g_paging;

// Messages read from the store per page-in call: bounds the time one read
// holds the broker thread.
constexpr std::size_t kPageInChunk = 4096;

// An integer, floating-point or decimal argument as a double.
std::optional<double> number_of(const protocol::FieldValue& v) {
  if (auto n = v.as_int()) return static_cast<double>(*n);
  if (const auto* f = std::get_if<float>(&v.value)) return *f;
  if (const auto* d = std::get_if<double>(&v.value)) return *d;
  if (const auto* d = std::get_if<protocol::Decimal>(&v.value)) {
    return static_cast<double>(d->value) / std::pow(10.0, d->scale);
  }
  return std::nullopt;
}

// A stored wait as read from the queue's timeline; nullopt when unreadable.
std::optional<Queue::Entry> waiting_entry(const storage::ScheduledEntry& stored) {
  auto waiting = decode_waiting_message(stored.bytes);
  if (!waiting) return std::nullopt;
  Queue::Entry entry;
  entry.message = std::move(waiting->message.message);
  entry.seq = stored.id;
  entry.expires_at = waiting->message.expires_at;
  entry.redelivered = true;
  entry.acquired_count = waiting->counts.acquired_count;
  entry.delivery_count = waiting->counts.delivery_count;
  return entry;
}
}  // namespace

std::uint64_t allocate_queue_id() {
  return g_next_queue_id++;
}

void set_paging_limits(PagingLimits limits) {
  g_paging = limits;
}

const PagingLimits& paging_limits() {
  return g_paging;
}

void reserve_queue_ids(std::uint64_t highest_used) {
  g_next_queue_id = std::max(g_next_queue_id, highest_used + 1);
}

Queue::Queue(VHost& vhost, std::uint64_t id, std::string name, QueueOptions options,
             Connection* exclusive_owner)
    : vhost_(vhost),
      id_(id),
      name_(std::move(name)),
      options_(std::move(options)),
      exclusive_owner_(exclusive_owner),
      // Due time 0 of the queue's timeline holds counts records, and from
      // kExpiryBase on its expiry index: the waits are in between.
      stored_waits_(vhost.persister(), id, g_paging.waiting, TimelineKey{1, 0},
                    TimelineKey{kExpiryBase, 0}) {
  store_ = vhost.persister();
  durable_store_ = store_ != nullptr && options_.durable && !options_.exclusive;
  const auto& args = options_.arguments;
  if (const auto* ttl = protocol::find_field(args, "x-message-ttl")) {
    message_ttl_ = std::chrono::milliseconds(ttl->as_int().value_or(0));
    may_expire_ = true;
  }
  if (const auto* dlx = protocol::find_field(args, "x-dead-letter-exchange")) {
    if (dlx->as_string() != nullptr) dead_letter_exchange_ = *dlx->as_string();
  }
  if (const auto* key = protocol::find_field(args, "x-dead-letter-routing-key")) {
    if (key->as_string() != nullptr) dead_letter_routing_key_ = *key->as_string();
  }
  if (const auto* v = protocol::find_field(args, "x-max-length")) {
    max_length_ = static_cast<std::uint64_t>(v->as_int().value_or(0));
  }
  if (const auto* v = protocol::find_field(args, "x-max-length-bytes")) {
    max_length_bytes_ = static_cast<std::uint64_t>(v->as_int().value_or(0));
  }
  if (const auto* v = protocol::find_field(args, "x-max-priority")) {
    max_priority_ = static_cast<std::uint8_t>(v->as_int().value_or(0));
  }
  if (const auto* v = protocol::find_field(args, "x-delivery-limit")) {
    delivery_limit_ = static_cast<std::uint32_t>(v->as_int().value_or(0));
  }
  if (const auto* v = protocol::find_field(args, "x-expires")) {
    lease_ = std::chrono::milliseconds(v->as_int().value_or(1));
  }
  if (const auto* v = protocol::find_field(args, "x-single-active-consumer")) {
    single_active_consumer_ = v->as_bool().value_or(false);
  }
  if (const auto* v = protocol::find_field(args, "x-overflow"); v && v->as_string()) {
    if (*v->as_string() == "reject-publish") overflow_ = Overflow::kRejectPublish;
    if (*v->as_string() == "reject-publish-dlx") overflow_ = Overflow::kRejectPublishDlx;
  }
  if (const auto* v = protocol::find_field(args, "x-delayed-retry-type"); v && v->as_string()) {
    const std::string& type = *v->as_string();
    if (type == "all") retry_type_ = RetryType::kAll;
    if (type == "failed") retry_type_ = RetryType::kFailed;
    if (type == "returned") retry_type_ = RetryType::kReturned;
  }
  if (const auto* v = protocol::find_field(args, "x-delayed-retry-min")) {
    retry_min_ms_ = v->as_int().value_or(0);
  }
  if (const auto* v = protocol::find_field(args, "x-delayed-retry-max")) {
    retry_max_ms_ = v->as_int().value_or(0);
  }
  if (const auto* v = protocol::find_field(args, "x-delayed-retry-multiplier")) {
    retry_multiplier_ = number_of(*v);
  }
  paging_ = store_ != nullptr;
}

bool Queue::pages() const {
  return paging_;
}

std::uint64_t Queue::sequence_for(std::uint64_t arrival, const Message& message) const {
  if (!max_priority_) return arrival;
  const std::uint64_t priority = std::min<std::uint8_t>(message.priority, *max_priority_);
  return ((*max_priority_ - priority) << kArrivalBits) | arrival;
}

void Queue::store_counts(const Entry& entry) {
  if (entry.acquired_count == 0 || !stores(*entry.message) || deleted_) return;
  store_->schedule(id_, kCountsOnly, entry.seq,
                   encode_waiting(WaitingRecord{entry.acquired_count, entry.delivery_count}));
  counted_.insert(entry.seq);
}

void Queue::forget_counts(std::uint64_t seq) {
  if (!counted_.empty() && counted_.erase(seq) > 0) store_->unschedule(id_, kCountsOnly, seq);
}

void Queue::back_in_ready(std::uint64_t seq) {
  if (out_of_ready_.empty()) return;
  if (auto it = out_of_ready_.find(seq); it != out_of_ready_.end()) out_of_ready_.erase(it);
}

Queue::~Queue() = default;

std::optional<std::string> Queue::validate_arguments(const protocol::FieldTable& args) {
  if (const auto* ttl = protocol::find_field(args, "x-message-ttl")) {
    auto v = ttl->as_int();
    if (!v) return "invalid arg 'x-message-ttl': expected an integer";
    if (*v < 0) return "invalid arg 'x-message-ttl': {value_negative," + std::to_string(*v) + "}";
  }
  for (const char* name : {"x-max-length", "x-max-length-bytes", "x-delivery-limit"}) {
    if (const auto* v = protocol::find_field(args, name)) {
      auto n = v->as_int();
      if (!n) return std::string("invalid arg '") + name + "': expected an integer";
      if (*n < 0) {
        return std::string("invalid arg '") + name + "': {value_negative," + std::to_string(*n) +
               "}";
      }
    }
  }
  if (const auto* v = protocol::find_field(args, "x-max-priority")) {
    auto n = v->as_int();
    if (!n || *n < 0 || *n > 255) {
      return "invalid arg 'x-max-priority': expected an integer from 0 to 255";
    }
  }
  if (const auto* v = protocol::find_field(args, "x-expires")) {
    auto n = v->as_int();
    if (!n) return "invalid arg 'x-expires': expected an integer";
    if (*n <= 0) return "invalid arg 'x-expires': {value_zero_or_less," + std::to_string(*n) + "}";
  }
  if (const auto* v = protocol::find_field(args, "x-single-active-consumer")) {
    if (!v->as_bool()) return "invalid arg 'x-single-active-consumer': expected a boolean";
  }
  if (const auto* v = protocol::find_field(args, "x-overflow")) {
    const std::string* mode = v->as_string();
    if (mode == nullptr ||
        (*mode != "drop-head" && *mode != "reject-publish" && *mode != "reject-publish-dlx")) {
      return "invalid arg 'x-overflow': expected drop-head, reject-publish or "
             "reject-publish-dlx";
    }
  }
  const protocol::FieldValue* retry_type = protocol::find_field(args, "x-delayed-retry-type");
  if (retry_type != nullptr) {
    const std::string* type = retry_type->as_string();
    if (type == nullptr ||
        (*type != "disabled" && *type != "all" && *type != "failed" && *type != "returned")) {
      return "invalid arg 'x-delayed-retry-type': expected disabled, all, failed or returned";
    }
  }
  for (const char* name : {"x-delayed-retry-min", "x-delayed-retry-max"}) {
    if (const auto* v = protocol::find_field(args, name)) {
      auto n = v->as_int();
      if (!n) return std::string("invalid arg '") + name + "': expected an integer";
      if (*n < 0) {
        return std::string("invalid arg '") + name + "': {value_negative," + std::to_string(*n) +
               "}";
      }
    }
  }
  if (retry_type != nullptr && retry_type->as_string() != nullptr &&
      *retry_type->as_string() != "disabled" &&
      protocol::find_field(args, "x-delayed-retry-min") == nullptr) {
    return "invalid arg 'x-delayed-retry-min': required when x-delayed-retry-type is '" +
           *retry_type->as_string() + "'";
  }
  if (const auto* v = protocol::find_field(args, "x-delayed-retry-multiplier")) {
    auto m = number_of(*v);
    if (!m || !std::isfinite(*m) || *m < 1) {
      return "invalid arg 'x-delayed-retry-multiplier': expected a number of at least 1";
    }
  }
  for (const char* name : {"x-dead-letter-exchange", "x-dead-letter-routing-key"}) {
    const auto* v = protocol::find_field(args, name);
    if (v != nullptr && v->as_string() == nullptr) {
      return std::string("invalid arg '") + name + "': expected a string";
    }
  }
  if (protocol::find_field(args, "x-dead-letter-routing-key") != nullptr &&
      protocol::find_field(args, "x-dead-letter-exchange") == nullptr) {
    return "invalid arg 'x-dead-letter-routing-key': x-dead-letter-exchange must be set too";
  }
  return std::nullopt;
}

bool Queue::has_exclusive_consumer() const {
  return std::any_of(consumers_.begin(), consumers_.end(),
                     [](const Consumer* c) { return c->exclusive; });
}

void Queue::write_state() {
  store_->set_state(id_,
                    encode_queue_state(QueueStateRecord{next_seq_, delivered_upto_, stored_count_,
                                                        stored_bytes_, stored_wait_count_}));
}

void Queue::delivered(const Entry& entry) {
  if (max_priority_ && paging_) out_of_ready_.insert(entry.seq);
  if (!durable_store_ || arrival_of(entry.seq) <= delivered_upto_) return;
  delivered_upto_ = arrival_of(entry.seq);
  if (entry.message->persistent) write_state();
}

void Queue::discard_stored(std::uint64_t seq, const Message& message) {
  back_in_ready(seq);  // settled for good: no longer holds the region back
  if (!stores(message) || deleted_) return;
  forget_counts(seq);
  store_->remove(id_, seq);
  --stored_count_;
  stored_bytes_ -= message.body.size();
  write_state();
}

void Queue::restore(std::vector<Entry> entries,
                    const std::map<std::uint64_t, RestoredCounts>& counts,
                    const QueueStateRecord& state, bool clean_stop, PagedRegion beyond) {
  next_seq_ = std::max(next_seq_, state.next_seq);
  delivered_upto_ = state.delivered_upto;
  restored_clean_ = clean_stop;
  if (beyond.count > 0) {
    paged_count_ = beyond.count;
    paged_bytes_ = beyond.bytes;
    page_from_ = beyond.from_seq;
    stored_count_ += beyond.count;
    stored_bytes_ += beyond.bytes;
  }
  for (Entry& entry : entries) {
    next_seq_ = std::max(next_seq_, arrival_of(entry.seq) + 1);
    entry.redelivered = !clean_stop || arrival_of(entry.seq) <= delivered_upto_;
    ++stored_count_;
    stored_bytes_ += entry.message->body.size();
    if (auto c = counts.find(entry.seq); c != counts.end()) {
      entry.redelivered = true;
      entry.acquired_count = c->second.acquired_count;
      entry.delivery_count = c->second.delivery_count;
      counted_.insert(entry.seq);
    }
    if (entry.expires_at != std::chrono::steady_clock::time_point::max()) {
      may_expire_ = true;
      expiry_index_.emplace(entry.expires_at, entry.seq);
    }
    ready_bytes_ += entry.message->body.size();
    ready_.push_back(std::move(entry));
  }
  first_seq_this_run_ = next_seq_;
  // Waits: the state record counts them; the earliest are read now, the
  // rest as these are released.
  stored_wait_count_ = state.waiting_count;
  if (stored_wait_count_ > 0 && store_ != nullptr) {
    stored_waits_.assume_stored();
    refill_waits();
  }
  arm_waiting_timer();
  // Messages of the paged region with their own TTL: their index.
  if (durable_store_) {
    peek_stored_expiry();
    if (next_stored_expiry_) may_expire_ = true;
  }
  if (may_expire_) expire_head();
}

Queue::Entry Queue::pop_ready_front() {
  Entry entry = std::move(ready_.front());
  ready_.pop_front();
  ready_bytes_ -= entry.message->body.size();
  return entry;
}

// Limits count every ready message, paged out or not (as RabbitMQ's, not
// unacked ones).
bool Queue::over_limit() const {
  return (max_length_ && ready_count() > *max_length_) ||
         (max_length_bytes_ && ready_bytes() > *max_length_bytes_);
}

bool Queue::would_overflow(const Message& message) const {
  return (max_length_ && ready_count() + 1 > *max_length_) ||
         (max_length_bytes_ && ready_bytes() + message.body.size() > *max_length_bytes_);
}

void Queue::drop_head_over_limit() {
  while (over_limit()) {
    if (ready_.empty()) {
      if (paged_count_ == 0) break;
      page_in();  // the head is in the paged region
      if (ready_.empty()) break;
    }
    Entry entry = pop_ready_front();
    dead_letter(entry.message, DeathReason::kMaxlen);
    discard_stored(entry.seq, *entry.message);
  }
}

bool Queue::publish(MessagePtr message) {
  const std::uint64_t seq = sequence_for(next_seq_++, *message);
  Entry entry{std::move(message), seq, false};
  if (message_ttl_ || entry.message->ttl_ms >= 0) {
    auto ttl = std::chrono::milliseconds(entry.message->ttl_ms >= 0 ? entry.message->ttl_ms
                                                                    : message_ttl_->count());
    if (message_ttl_ && *message_ttl_ < ttl) ttl = *message_ttl_;
    entry.expires_at = std::chrono::steady_clock::now() + ttl;
    may_expire_ = true;
  }
  index_expiry(entry);
  if (overflow_ != Overflow::kDropHead && would_overflow(*entry.message)) {
    // reject-publish(-dlx): this queue refuses the message; the publisher
    // gets a nack under confirms.
    if (overflow_ == Overflow::kRejectPublishDlx) dead_letter(entry.message, DeathReason::kMaxlen);
    return false;
  }
  // Into the region unless it sorts before it (a higher priority).
  const bool to_region = paged_count_ > 0 && entry.seq >= page_from_;
  if (stores(*entry.message) || to_region) {
    // Behind paged-out messages a transient one waits in the store too,
    // flagged so that a restart drops it.
    store_->append(
        id_, entry.seq,
        encode_stored_message(*entry.message, entry.expires_at, !stores(*entry.message)));
    ++stored_count_;
    stored_bytes_ += entry.message->body.size();
    if (!durable_store_) wrote_transient_pages_ = true;
    write_state();
    index_stored_expiry(entry);
  }
  ++stats_.publish;
  if (to_region) {
    ++paged_count_;
    paged_bytes_ += entry.message->body.size();
    add_unwritten(std::move(entry));
    if (overflow_ == Overflow::kDropHead) drop_head_over_limit();
    if (ready_.empty() && !consumers_.empty()) dispatch();
    if (may_expire_) arm_expiry_timer();  // its own TTL may be the earliest
    return true;
  }
  ready_bytes_ += entry.message->body.size();
  if (max_priority_) {
    // Before the first message of a lower priority.
    auto pos = std::upper_bound(ready_.begin(), ready_.end(), entry.seq,
                                [](std::uint64_t seq, const Entry& e) { return seq < e.seq; });
    ready_.insert(pos, std::move(entry));
  } else {
    ready_.push_back(std::move(entry));
  }
  if (!consumers_.empty()) dispatch();
  if (paging_ && over_window()) page_out_over_window();
  if (overflow_ == Overflow::kDropHead) drop_head_over_limit();
  // A TTL of 0 means "now or never": undelivered, it expires at once.
  if (may_expire_) expire_head();
  return true;
}

void Queue::expire_head() {
  if (!may_expire_ || deleted_) return;
  const auto now = std::chrono::steady_clock::now();
  for (;;) {
    while (!ready_.empty() && ready_.front().expires_at <= now) {
      Entry entry = pop_ready_front();
      dead_letter(entry.message, DeathReason::kExpired);
      discard_stored(entry.seq, *entry.message);
    }
    // Expired through the in-memory part of a paged queue (a wait queue with
    // no consumer): read on, so the paged messages expire on time too.
    if (!ready_.empty() || paged_count_ == 0) break;
    const std::uint64_t before = paged_count_;
    maybe_page_in();
    if (paged_count_ == before) break;
  }
  take_stored_expiries(now);
  expire_indexed(now);
  arm_expiry_timer();
}

void Queue::index_stored_expiry(const Entry& entry) {
  if (!stores(*entry.message) || entry.message->ttl_ms < 0 ||
      entry.expires_at == std::chrono::steady_clock::time_point::max()) {
    return;
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      entry.expires_at - std::chrono::steady_clock::now());
  const auto due =
      static_cast<std::uint64_t>(unix_ms_now() + std::max<std::int64_t>(0, left.count()));
  store_->schedule(id_, kExpiryBase + due, entry.seq, {});
  if (!next_stored_expiry_ || due < *next_stored_expiry_) next_stored_expiry_ = due;
}

void Queue::peek_stored_expiry() {
  std::vector<storage::ScheduledEntry> next;
  if (!store_->messages()
           .read_scheduled(id_, stored_expiry_cursor_.due, stored_expiry_cursor_.id, 1, next)
           .ok() ||
      next.empty()) {
    next_stored_expiry_.reset();
    return;
  }
  next_stored_expiry_ = next.front().due - kExpiryBase;
}

void Queue::take_stored_expiries(std::chrono::steady_clock::time_point now) {
  // Called on every publish to a queue that may expire: no clock read unless
  // an entry is known.
  if (!next_stored_expiry_ || store_ == nullptr) return;
  const auto now_unix = static_cast<std::uint64_t>(unix_ms_now());
  if (*next_stored_expiry_ > now_unix) return;
  // Due index entries: their messages, if still ready, expire now (in memory
  // or in the paged region); the entries go.
  constexpr std::size_t kChunk = 256;
  std::vector<storage::ScheduledEntry> chunk;
  for (;;) {
    chunk.clear();
    if (!store_->messages()
             .read_scheduled(id_, stored_expiry_cursor_.due, stored_expiry_cursor_.id, kChunk,
                             chunk)
             .ok()) {
      return;  // the next expiry check tries again
    }
    for (const auto& e : chunk) {
      if (e.due - kExpiryBase > now_unix) {
        next_stored_expiry_ = e.due - kExpiryBase;
        return;
      }
      expiry_index_.emplace(now, e.id);
      store_->unschedule(id_, e.due, e.id);
      stored_expiry_cursor_ = TimelineKey{e.due, e.id + 1};
    }
    if (chunk.size() < kChunk) {
      // Entries still on their way to the store are read once a later one
      // is indexed (they only clean up: this run indexed them in memory).
      next_stored_expiry_.reset();
      return;
    }
  }
}

void Queue::index_expiry(const Entry& entry) {
  // A queue TTL alone keeps deadlines in queue order (the head expires
  // first); only a message's own TTL can expire before the ones ahead.
  if (entry.message->ttl_ms < 0 ||
      entry.expires_at == std::chrono::steady_clock::time_point::max()) {
    return;
  }
  expiry_index_.emplace(entry.expires_at, entry.seq);
}

void Queue::expire_indexed(std::chrono::steady_clock::time_point now) {
  std::unordered_set<std::uint64_t> due;
  while (!expiry_index_.empty() && expiry_index_.begin()->first <= now) {
    due.insert(expiry_index_.begin()->second);
    expiry_index_.erase(expiry_index_.begin());
  }
  if (due.empty()) return;
  // One pass (rare: only when an indexed deadline passed): the expired ones
  // leave in queue order, the rest keep theirs.
  std::deque<Entry> kept;
  std::vector<Entry> expired;
  for (Entry& entry : ready_) {
    if (due.contains(entry.seq) && entry.expires_at <= now) {
      due.erase(entry.seq);
      ready_bytes_ -= entry.message->body.size();
      expired.push_back(std::move(entry));
    } else {
      kept.push_back(std::move(entry));
    }
  }
  ready_ = std::move(kept);
  // The rest may wait in the paged region: taken out of it one by one (a
  // point read each), in queue order.
  if (paged_count_ > 0) {
    std::vector<std::uint64_t> paged;
    for (std::uint64_t seq : due) {
      if (seq >= page_from_) paged.push_back(seq);
    }
    std::sort(paged.begin(), paged.end());
    for (std::uint64_t seq : paged) {
      // (A stored index entry may outlive its message: then there is none.)
      Entry entry;
      if (remove_ready(seq, &entry)) expired.push_back(std::move(entry));
    }
  }
  for (Entry& entry : expired) {
    dead_letter(entry.message, DeathReason::kExpired);
    discard_stored(entry.seq, *entry.message);
  }
}

void Queue::arm_expiry_timer() {
  if (deleted_) return;
  auto deadline =
      ready_.empty() ? std::chrono::steady_clock::time_point::max() : ready_.front().expires_at;
  if (!expiry_index_.empty()) deadline = std::min(deadline, expiry_index_.begin()->first);
  if (next_stored_expiry_) deadline = std::min(deadline, steady_at_unix_ms(*next_stored_expiry_));
  if (deadline == std::chrono::steady_clock::time_point::max() || deadline == timer_deadline_) {
    return;
  }
  if (!expiry_timer_) expiry_timer_ = std::make_unique<boost::asio::steady_timer>(vhost_.io());
  timer_deadline_ = deadline;
  expiry_timer_->expires_at(deadline);
  expiry_timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->timer_deadline_ = std::chrono::steady_clock::time_point::max();
    self->expire_head();
  });
}

void QueueStats::add_counters(const QueueStats& other) {
  publish += other.publish;
  deliver += other.deliver;
  deliver_no_ack += other.deliver_no_ack;
  get += other.get;
  get_no_ack += other.get_no_ack;
  get_empty += other.get_empty;
  ack += other.ack;
  redeliver += other.redeliver;
  for (std::size_t i = 0; i < kDeathReasonCount; ++i) {
    dead_lettered[i] += other.dead_lettered[i];
    dropped[i] += other.dropped[i];
  }
}

std::string_view death_reason_name(DeathReason reason) {
  switch (reason) {
    case DeathReason::kRejected:
      return "rejected";
    case DeathReason::kExpired:
      return "expired";
    case DeathReason::kMaxlen:
      return "maxlen";
    case DeathReason::kDeliveryLimit:
      return "delivery_limit";
  }
  return "rejected";
}

void Queue::dead_letter(const MessagePtr& message, DeathReason reason) {
  if (deleted_) return;
  const auto index = static_cast<std::size_t>(reason);
  if (!dead_letter_exchange_) {
    ++stats_.dropped[index];
    return;
  }
  ++stats_.dead_lettered[index];
  vhost_.dead_letter(*this, *message, death_reason_name(reason), *dead_letter_exchange_,
                     dead_letter_routing_key_);
}

void Queue::requeue(Entry entry) {
  if (deleted_) return;
  if (delivery_limit_ && entry.delivery_count > *delivery_limit_) {
    dead_letter(entry.message, DeathReason::kDeliveryLimit);
    discard_stored(entry.seq, *entry.message);
    return;
  }
  back_in_ready(entry.seq);
  store_counts(entry);
  entry.redelivered = true;
  // Requeued messages are usually older than everything ready, so the search
  // from the front is short.
  auto pos = std::upper_bound(ready_.begin(), ready_.end(), entry.seq,
                              [](std::uint64_t seq, const Entry& e) { return seq < e.seq; });
  ready_bytes_ += entry.message->body.size();
  index_expiry(entry);
  ready_.insert(pos, std::move(entry));
}

std::optional<std::chrono::milliseconds> Queue::retry_delay(const Entry& entry, bool failed) const {
  switch (retry_type_) {
    case RetryType::kDisabled:
      return std::nullopt;
    case RetryType::kFailed:
      if (!failed) return std::nullopt;
      break;
    case RetryType::kReturned:
      if (failed) return std::nullopt;
      break;
    case RetryType::kAll:
      break;
  }
  // SEMANTICS.md: min * max(1, dc) (RabbitMQ 4.3), or min * m^(max(1, dc) - 1)
  // with Warren's multiplier; capped by max when there is one.
  const double attempts = std::max<double>(1, entry.delivery_count);
  double delay = retry_multiplier_ ? static_cast<double>(retry_min_ms_) *
                                         std::pow(*retry_multiplier_, attempts - 1)
                                   : static_cast<double>(retry_min_ms_) * attempts;
  if (retry_max_ms_) delay = std::min(delay, static_cast<double>(*retry_max_ms_));
  constexpr double kLongest = 100.0 * 365 * 24 * 3600 * 1000;  // keeps the cast defined
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(delay, kLongest)));
}

void Queue::return_entry(Entry entry, bool failed) {
  if (auto delay = retry_delay(entry, failed)) {
    requeue_after(std::move(entry), *delay);
  } else {
    requeue(std::move(entry));
  }
}

void Queue::requeue_after(Entry entry, std::chrono::milliseconds delay) {
  if (deleted_) return;
  if (delay.count() <= 0 || (delivery_limit_ && entry.delivery_count > *delivery_limit_)) {
    requeue(std::move(entry));
    return;
  }
  start_wait(std::move(entry), unix_ms_after(delay.count()));
}

void Queue::start_wait(Entry entry, std::uint64_t due_unix_ms) {
  // Out of the range (if it was stored): no longer holds the region back.
  back_in_ready(entry.seq);
  const TimelineKey key{due_unix_ms, entry.seq};
  bool earliest = false;
  if (stores(*entry.message)) {
    // Message and counts move from the range to the timeline in one batch.
    forget_counts(entry.seq);
    store_->remove(id_, entry.seq);
    --stored_count_;
    stored_bytes_ -= entry.message->body.size();
    store_->schedule(
        id_, key.due, key.id,
        encode_waiting_message(WaitingRecord{entry.acquired_count, entry.delivery_count},
                               *entry.message, entry.expires_at));
    ++stored_wait_count_;
    write_state();
    earliest = stored_waits_.add(key, std::move(entry)) &&
               (transient_waits_.empty() || key < transient_waits_.begin()->first);
  } else {
    earliest = (transient_waits_.empty() || key < transient_waits_.begin()->first) &&
               (stored_waits_.held().empty() || key < stored_waits_.held().begin()->first);
    transient_waits_.emplace(key, std::move(entry));
  }
  if (earliest) arm_waiting_timer();
}

void Queue::end_stored_wait(const TimelineKey& key, const Entry& entry) {
  store_->unschedule(id_, key.due, key.id);
  store_->append(id_, entry.seq, encode_stored_message(*entry.message, entry.expires_at, false));
  ++stored_count_;
  stored_bytes_ += entry.message->body.size();
  --stored_wait_count_;
  write_state();
  // Back at its place: inside the paged region it is in memory and in the
  // store, so reads of the region skip it.
  if (paged_count_ > 0 && entry.seq >= page_from_) held_in_region_.insert(entry.seq);
}

void Queue::maybe_refill_waits() {
  if (store_ == nullptr || deleted_ || !stored_waits_.wants_refill()) return;
  // Waits past the frontier may still be in the persister's open batch:
  // read once everything added so far is written.
  stored_waits_.refill_requested();
  store_->after_stored([weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->deleted_) return;
    self->refill_waits();
    self->arm_waiting_timer();
  });
}

void Queue::refill_waits() {
  const storage::Status status =
      stored_waits_.refill(waiting_entry, [this](const storage::ScheduledEntry& stored) {
        log_error("queue '{}': unreadable waiting message {} dropped", name_, stored.id);
        store_->unschedule(id_, stored.due, stored.id);
        if (stored_wait_count_ > 0) --stored_wait_count_;
        write_state();
      });
  if (status.ok()) return;
  log_error("queue '{}': reading waiting messages failed: {}; retrying in 1 s", name_,
            status.to_string());
  if (!refill_retry_timer_) {
    refill_retry_timer_ = std::make_unique<boost::asio::steady_timer>(vhost_.io());
  }
  refill_retry_timer_->expires_after(std::chrono::seconds(1));
  refill_retry_timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self) self->maybe_refill_waits();
  });
}

void Queue::arm_waiting_timer() {
  if (deleted_) return;
  std::optional<std::uint64_t> due;
  if (!transient_waits_.empty()) due = transient_waits_.begin()->first.due;
  if (!stored_waits_.held().empty()) {
    const std::uint64_t stored_due = stored_waits_.held().begin()->first.due;
    due = due ? std::min(*due, stored_due) : stored_due;
  }
  if (!due) return;
  if (!waiting_timer_) waiting_timer_ = std::make_unique<boost::asio::steady_timer>(vhost_.io());
  waiting_timer_->expires_at(steady_at_unix_ms(*due));  // cancels an earlier wait
  waiting_timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->release_due();
  });
}

void Queue::release_due() {
  if (deleted_) return;
  const auto now = static_cast<std::uint64_t>(unix_ms_now());
  const auto& stored = stored_waits_.held();
  for (;;) {
    const bool transient_due =
        !transient_waits_.empty() && transient_waits_.begin()->first.due <= now;
    const bool stored_due = !stored.empty() && stored.begin()->first.due <= now;
    if (!transient_due && !stored_due) break;
    if (stored_due && (!transient_due || stored.begin()->first < transient_waits_.begin()->first)) {
      auto [key, entry] = stored_waits_.take_earliest();
      end_stored_wait(key, entry);
      requeue(std::move(entry));
    } else {
      requeue(std::move(transient_waits_.extract(transient_waits_.begin()).mapped()));
    }
  }
  maybe_refill_waits();
  arm_waiting_timer();
  dispatch();
}

Consumer* Queue::pick_consumer() {
  const std::size_t n = consumers_.size();
  if (n == 0) return nullptr;
  if (single_active_consumer_) {
    Consumer* active = consumers_.front();
    return active->channel->can_accept(*active) ? active : nullptr;
  }
  if (!has_priorities_) {
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t idx = (next_consumer_ + i) % n;
      Consumer* c = consumers_[idx];
      if (c->channel->can_accept(*c)) {
        next_consumer_ = idx + 1;
        return c;
      }
    }
    return nullptr;
  }
  // Only the highest priority with capacity receives; equal ones take turns.
  bool found = false;
  std::int64_t best = 0;
  for (Consumer* c : consumers_) {
    if ((!found || c->priority > best) && c->channel->can_accept(*c)) {
      best = c->priority;
      found = true;
    }
  }
  if (!found) return nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t idx = (next_consumer_ + i) % n;
    Consumer* c = consumers_[idx];
    if (c->priority == best && c->channel->can_accept(*c)) {
      next_consumer_ = idx + 1;
      return c;
    }
  }
  return nullptr;
}

void Queue::dispatch() {
  // A delivery can trigger work that dispatches again (e.g. an auto-ack
  // consumer); the outer loop picks it up.
  if (dispatching_ || deleted_) return;
  dispatching_ = true;
  if (may_expire_) expire_head();
  for (;;) {
    if (ready_.empty()) maybe_page_in();
    if (ready_.empty()) break;
    Consumer* consumer = pick_consumer();
    if (consumer == nullptr) break;
    Entry entry = pop_ready_front();
    delivered(entry);
    consumer->channel->deliver(*consumer, *this, std::move(entry));
  }
  dispatching_ = false;
  // Keeps the window filled for the next consumers (and basic.get).
  maybe_page_in();
}

bool Queue::over_window() const {
  return ready_.size() > g_paging.messages || ready_bytes_ > g_paging.bytes;
}

void Queue::page_out_over_window() {
  // The newest never-delivered messages leave memory: stored ones as they
  // are; under memory pressure the others too, written now, flagged
  // transient. Anything else at the back (redelivered, with its own TTL)
  // stops it: their records would not say so.
  const bool transient_too = message_bytes_in_use() >= g_paging.transient_above;
  bool wrote = false;
  while (over_window() && !ready_.empty()) {
    const Entry& back = ready_.back();
    if (back.redelivered || back.acquired_count > 0 || back.delivery_count > 0 ||
        back.message->ttl_ms >= 0) {
      break;
    }
    if (!out_of_ready_.empty() && back.seq < *out_of_ready_.rbegin()) break;
    const std::uint64_t size = back.message->body.size();
    if (!stores(*back.message)) {
      if (!transient_too) break;
      store_->append(id_, back.seq, encode_stored_message(*back.message, back.expires_at, true));
      ++stored_count_;
      stored_bytes_ += size;
      wrote = true;
      if (!durable_store_) wrote_transient_pages_ = true;
    }
    page_from_ = back.seq;
    ++paged_count_;
    paged_bytes_ += size;
    ready_bytes_ -= size;
    add_unwritten(std::move(ready_.back()));
    ready_.pop_back();
  }
  if (wrote) write_state();
}

void Queue::add_unwritten(Entry entry) {
  // Mostly at either end: appended to the region, or paged out before it.
  auto pos = unwritten_region_.end();
  if (!unwritten_region_.empty() && entry.seq < unwritten_region_.back().entry.seq) {
    pos = std::upper_bound(unwritten_region_.begin(), unwritten_region_.end(), entry.seq,
                           [](std::uint64_t seq, const Unwritten& u) { return seq < u.entry.seq; });
  }
  unwritten_region_.insert(pos, Unwritten{std::move(entry), store_->open_batch_id()});
  schedule_trim();
}

void Queue::schedule_trim() {
  if (trim_scheduled_) return;
  trim_scheduled_ = true;
  store_->after_stored([weak = weak_from_this(), batch = store_->open_batch_id()] {
    auto self = weak.lock();
    if (!self) return;
    self->trim_scheduled_ = false;
    // Everything added up to that batch is stored: readable from now on.
    auto& region = self->unwritten_region_;
    std::erase_if(region, [batch](const Unwritten& u) { return u.batch <= batch; });
    if (!region.empty()) self->schedule_trim();
  });
}

void Queue::maybe_page_in() {
  while (paged_count_ > 0 && !deleted_ && ready_.size() * 2 <= g_paging.messages &&
         ready_bytes_ * 2 <= g_paging.bytes) {
    const std::uint64_t before = paged_count_, from_before = page_from_;
    page_in();
    if (paged_count_ == before && page_from_ == from_before) {
      if (page_in_waited_) {
        // Still nothing once every write was done: the count is wrong, and
        // waiting again would spin. Believe the store.
        log_error("queue '{}': {} paged messages are not in the store; forgotten", name_,
                  paged_count_);
        paged_count_ = 0;
        paged_bytes_ = 0;
        page_in_waited_ = false;
        return;
      }
      // Nothing found: the count disagrees with the store. Try again once
      // the writes under way are done, rather than spin.
      if (!page_in_requested_) {
        page_in_requested_ = true;
        store_->after_stored([weak = weak_from_this()] {
          auto self = weak.lock();
          if (!self) return;
          self->page_in_requested_ = false;
          self->page_in_waited_ = true;
          self->dispatch();
        });
      }
      return;
    }
    page_in_waited_ = false;
  }
}

void Queue::read_counts(std::uint64_t first, std::uint64_t last,
                        std::map<std::uint64_t, WaitingRecord>& out) const {
  if (!durable_store_) return;
  std::vector<storage::ScheduledEntry> found;
  for (std::uint64_t from = first;;) {
    found.clear();
    constexpr std::size_t kChunk = 256;
    if (!store_->messages().read_scheduled(id_, kCountsOnly, from, kChunk, found).ok()) return;
    for (const auto& f : found) {
      if (f.due != kCountsOnly || f.id > last) return;
      if (auto record = decode_waiting(f.bytes)) out[f.id] = *record;
    }
    if (found.size() < kChunk) return;
    from = found.back().id + 1;
  }
}

void Queue::page_in() {
  std::vector<storage::StoredMessage> chunk;
  const storage::Status status = store_->messages().read(id_, page_from_, kPageInChunk, chunk);
  if (!status.ok()) {
    log_error("queue '{}': reading paged messages failed: {}", name_, status.to_string());
    return;
  }
  // Delivery counts of returned messages read back (a counts record each).
  std::map<std::uint64_t, WaitingRecord> counts;
  if (!chunk.empty()) read_counts(chunk.front().seq, chunk.back().seq, counts);
  bool removed = false;
  const std::size_t in_memory_before = ready_.size();
  // Takes the region's lowest message still on its way to the store.
  auto take_unwritten = [&] {
    Entry entry = std::move(unwritten_region_.front().entry);
    unwritten_region_.pop_front();
    const std::uint64_t size = entry.message->body.size();
    page_from_ = entry.seq + 1;
    paged_count_ = paged_count_ > 0 ? paged_count_ - 1 : 0;
    paged_bytes_ = paged_bytes_ > size ? paged_bytes_ - size : 0;
    if (!stores(*entry.message)) {
      store_->remove(id_, entry.seq);  // written only while it was paged out
      --stored_count_;
      stored_bytes_ -= size;
      removed = true;
    }
    ready_bytes_ += size;
    ready_.push_back(std::move(entry));
  };
  for (auto& stored : chunk) {
    // A page-out under memory pressure writes transient messages after
    // higher, stored ones: merge what is still on its way, in order.
    while (!unwritten_region_.empty() && unwritten_region_.front().entry.seq < stored.seq)
      take_unwritten();
    if (!unwritten_region_.empty() && unwritten_region_.front().entry.seq == stored.seq) {
      unwritten_region_.pop_front();  // written meanwhile: the stored copy is the same
    }
    page_from_ = stored.seq + 1;
    if (held_in_region_.erase(stored.seq) > 0) continue;  // already in memory
    if (removed_from_region_.erase(stored.seq) > 0) continue;
    auto decoded = decode_stored_message(stored.bytes);
    const std::uint64_t size = decoded ? decoded->message->body.size() : 0;
    paged_count_ = paged_count_ > 0 ? paged_count_ - 1 : 0;
    paged_bytes_ = paged_bytes_ > size ? paged_bytes_ - size : 0;
    if (!decoded) {
      log_error("queue '{}': unreadable paged message {} skipped", name_, stored.seq);
      continue;
    }
    if (decoded->transient) {
      // In memory from here on; from before a restart it is gone.
      store_->remove(id_, stored.seq);
      --stored_count_;
      stored_bytes_ -= size;
      removed = true;
      if (arrival_of(stored.seq) < first_seq_this_run_) continue;
    }
    Entry entry;
    entry.message = std::move(decoded->message);
    entry.seq = stored.seq;
    entry.expires_at = decoded->expires_at;
    entry.redelivered = redelivered_after_restart(stored.seq);
    if (auto c = counts.find(stored.seq); c != counts.end()) {
      entry.redelivered = true;
      entry.acquired_count = c->second.acquired_count;
      entry.delivery_count = c->second.delivery_count;
      counted_.insert(stored.seq);
    }
    if (entry.expires_at != std::chrono::steady_clock::time_point::max()) may_expire_ = true;
    ready_bytes_ += size;
    ready_.push_back(std::move(entry));
  }
  // Past what the store holds, the messages still on their way are in memory.
  while (!unwritten_region_.empty() && unwritten_region_.front().entry.seq < page_from_)
    unwritten_region_.pop_front();
  std::erase_if(removed_from_region_, [this](std::uint64_t seq) { return seq < page_from_; });
  std::erase_if(held_in_region_, [this](std::uint64_t seq) { return seq < page_from_; });
  if (chunk.empty()) {
    for (std::size_t n = 0; n < kPageInChunk && !unwritten_region_.empty(); ++n)
      take_unwritten();
  }
  if (paged_count_ == 0) paged_bytes_ = 0;
  if (removed) write_state();
  // A retry released inside the region is in memory ahead of its turn: what
  // was read goes before it.
  const auto read_from = ready_.begin() + static_cast<std::ptrdiff_t>(in_memory_before);
  if (in_memory_before > 0 && read_from != ready_.end() && read_from->seq < (read_from - 1)->seq) {
    std::inplace_merge(ready_.begin(), read_from, ready_.end(),
                       [](const Entry& a, const Entry& b) { return a.seq < b.seq; });
  }
}

bool Queue::take(Entry& out) {
  touch();
  maybe_page_in();  // keeps the window filled, as dispatch() does
  expire_head();
  if (ready_.empty()) return false;
  out = pop_ready_front();
  delivered(out);
  return true;
}

void Queue::browse(std::size_t offset, const std::function<bool(const Entry&)>& visit) const {
  for (std::size_t i = offset; i < ready_.size(); ++i) {
    if (!visit(ready_[i])) return;
  }
  if (paged_count_ == 0) return;
  offset -= std::min(offset, ready_.size());
  auto visit_from = [&](const Entry& e) {
    if (offset > 0) {
      --offset;
      return true;
    }
    return visit(e);
  };
  // What is still being written is in memory: merged with what the store
  // holds, in sequence order (a copy in both is visited once).
  auto unwritten = unwritten_region_.begin();
  constexpr std::size_t kBrowseChunk = 256;  // browsing stops early; page_in reads more
  std::uint64_t from = page_from_;
  std::vector<storage::StoredMessage> chunk;
  for (;;) {
    chunk.clear();
    const storage::Status status = store_->messages().read(id_, from, kBrowseChunk, chunk);
    if (!status.ok()) {
      log_error("queue '{}': browsing paged messages failed: {}", name_, status.to_string());
      return;
    }
    for (const auto& stored : chunk) {
      from = stored.seq + 1;
      for (; unwritten != unwritten_region_.end() && unwritten->entry.seq <= stored.seq;
           ++unwritten) {
        if (unwritten->entry.seq < stored.seq && !visit_from(unwritten->entry)) return;
      }
      if (auto entry = region_entry(stored.seq, stored.bytes); entry && !visit_from(*entry)) return;
    }
    if (chunk.size() < kBrowseChunk) break;
  }
  for (; unwritten != unwritten_region_.end(); ++unwritten) {
    if (!visit_from(unwritten->entry)) return;
  }
}

std::optional<Queue::Entry> Queue::region_entry(std::uint64_t seq, std::string_view bytes) const {
  if (held_in_region_.contains(seq) || removed_from_region_.contains(seq)) return std::nullopt;
  auto decoded = decode_stored_message(bytes);
  if (!decoded || (decoded->transient && arrival_of(seq) < first_seq_this_run_)) {
    return std::nullopt;
  }
  Entry entry;
  entry.message = std::move(decoded->message);
  entry.seq = seq;
  entry.expires_at = decoded->expires_at;
  entry.redelivered = redelivered_after_restart(seq);
  return entry;
}

void Queue::browse_waiting(
    std::size_t offset,
    const std::function<bool(const Entry&, std::uint64_t due_unix_ms)>& visit) const {
  // Two sources in key order: the transient waits, and the stored ones
  // (those held, then the store's).
  auto transient = transient_waits_.begin();
  auto visit_at = [&](const TimelineKey& key, const Entry& entry) {
    if (offset > 0) {
      --offset;
      return true;
    }
    return visit(entry, key.due);
  };
  // Visits the transient waits before `key`; false when told to stop.
  auto transient_before = [&](const std::optional<TimelineKey>& key) {
    for (; transient != transient_waits_.end() && (!key || transient->first < *key); ++transient) {
      if (!visit_at(transient->first, transient->second)) return false;
    }
    return true;
  };
  for (const auto& [key, entry] : stored_waits_.held()) {
    if (!transient_before(key) || !visit_at(key, entry)) return;
  }
  bool stopped = false;
  if (store_ != nullptr) {
    const storage::Status status =
        stored_waits_.visit_store(waiting_entry, [&](const TimelineKey& key, const Entry& entry) {
          stopped = !transient_before(key) || !visit_at(key, entry);
          return !stopped;
        });
    if (!status.ok()) {
      log_error("queue '{}': reading waiting messages failed: {}", name_, status.to_string());
    }
  }
  if (!stopped) transient_before(std::nullopt);
}

bool Queue::release_waiting(std::uint64_t seq) {
  if (deleted_) return false;
  auto by_seq = [seq](const auto& w) { return w.first.id == seq; };
  if (auto it = std::find_if(transient_waits_.begin(), transient_waits_.end(), by_seq);
      it != transient_waits_.end()) {
    requeue(std::move(transient_waits_.extract(it).mapped()));
  } else {
    // Held, or found by walking the store part of the timeline.
    std::optional<TimelineKey> key;
    const auto& held = stored_waits_.held();
    if (auto it = std::find_if(held.begin(), held.end(), by_seq); it != held.end()) {
      key = it->first;
    } else if (store_ != nullptr) {
      (void)stored_waits_.visit_store(waiting_entry, [&](const TimelineKey& k, const Entry& entry) {
        if (entry.seq == seq) key = k;
        return !key;
      });
    }
    std::optional<Entry> entry;
    if (key) entry = stored_waits_.take(*key, waiting_entry);
    if (!entry) return false;
    end_stored_wait(*key, *entry);
    requeue(std::move(*entry));
  }
  maybe_refill_waits();
  arm_waiting_timer();
  dispatch();
  return true;
}

std::optional<Queue::Entry> Queue::find_ready(std::uint64_t seq) const {
  auto it =
      std::find_if(ready_.begin(), ready_.end(), [seq](const Entry& e) { return e.seq == seq; });
  if (it != ready_.end()) return *it;
  if (paged_count_ == 0 || seq < page_from_ || deleted_) return std::nullopt;
  auto unwritten =
      std::lower_bound(unwritten_region_.begin(), unwritten_region_.end(), seq,
                       [](const Unwritten& u, std::uint64_t s) { return u.entry.seq < s; });
  if (unwritten != unwritten_region_.end() && unwritten->entry.seq == seq) {
    return unwritten->entry;
  }
  std::vector<storage::StoredMessage> found;
  if (!store_->messages().read(id_, seq, 1, found).ok() || found.empty() ||
      found.front().seq != seq) {
    return std::nullopt;
  }
  return region_entry(seq, found.front().bytes);
}

bool Queue::remove_ready(std::uint64_t seq, Entry* out) {
  auto it =
      std::find_if(ready_.begin(), ready_.end(), [seq](const Entry& e) { return e.seq == seq; });
  if (it != ready_.end()) {
    ready_bytes_ -= it->message->body.size();
    *out = std::move(*it);
    ready_.erase(it);
    return true;
  }
  auto found = find_ready(seq);
  if (!found) return false;
  *out = std::move(*found);
  auto unwritten =
      std::lower_bound(unwritten_region_.begin(), unwritten_region_.end(), seq,
                       [](const Unwritten& u, std::uint64_t s) { return u.entry.seq < s; });
  if (unwritten != unwritten_region_.end() && unwritten->entry.seq == seq) {
    unwritten_region_.erase(unwritten);
  }
  removed_from_region_.insert(seq);
  const std::uint64_t size = out->message->body.size();
  paged_count_ = paged_count_ > 0 ? paged_count_ - 1 : 0;
  paged_bytes_ = paged_bytes_ > size ? paged_bytes_ - size : 0;
  if (!stores(*out->message)) {
    // A transient message stored only to keep its place: the caller's
    // discard_stored() would leave it there.
    store_->remove(id_, seq);
    --stored_count_;
    stored_bytes_ -= size;
    write_state();
  }
  return true;
}

std::size_t Queue::purge() {
  std::size_t n = ready_.size() + paged_count_;
  if (store_ != nullptr && stored_count_ > 0) {
    if (unacked_ == 0) {
      // Everything in the range is ready (waits are on the timeline): one
      // range delete.
      store_->purge(id_, 0, std::numeric_limits<std::uint64_t>::max());
      for (std::uint64_t seq : counted_)
        store_->unschedule(id_, kCountsOnly, seq);
      counted_.clear();
      stored_count_ = 0;
      stored_bytes_ = 0;
      write_state();
    } else {
      for (const Entry& e : ready_)
        discard_stored(e.seq, *e.message);
      if (paged_count_ > 0) {
        // The paged region: every stored sequence from page_from_ on.
        store_->purge(id_, page_from_, std::numeric_limits<std::uint64_t>::max());
        stored_count_ -= std::min(stored_count_, paged_count_);
        stored_bytes_ -= std::min(stored_bytes_, paged_bytes_);
        write_state();
      }
    }
  }
  paged_count_ = 0;
  paged_bytes_ = 0;
  unwritten_region_.clear();
  removed_from_region_.clear();
  held_in_region_.clear();
  ready_.clear();
  ready_bytes_ = 0;
  expiry_index_.clear();
  return n;
}

void Queue::add_consumer(Consumer* consumer) {
  ever_had_consumers_ = true;
  if (lease_timer_) lease_timer_->cancel();  // the lease runs only while unused
  if (single_active_consumer_) {
    // Registration order decides who is active; the rest wait their turn.
    consumers_.push_back(consumer);
    return;
  }
  if (consumer->priority != 0) has_priorities_ = true;
  // Stable: a new consumer goes after the others of its priority.
  auto pos = std::find_if(consumers_.begin(), consumers_.end(),
                          [&](const Consumer* c) { return c->priority < consumer->priority; });
  consumers_.insert(pos, consumer);
}

void Queue::remove_consumer(Consumer* consumer) {
  auto it = std::find(consumers_.begin(), consumers_.end(), consumer);
  if (it == consumers_.end()) return;
  std::size_t idx = static_cast<std::size_t>(it - consumers_.begin());
  consumers_.erase(it);
  if (idx < next_consumer_) --next_consumer_;
  has_priorities_ = std::any_of(consumers_.begin(), consumers_.end(),
                                [](const Consumer* c) { return c->priority != 0; });
  if (consumers_.empty()) touch();
  // With a single active consumer, the next in line takes over.
  if (single_active_consumer_ && idx == 0 && !consumers_.empty()) dispatch();
}

void Queue::touch() {
  if (!lease_ || deleted_ || !consumers_.empty()) return;
  if (!lease_timer_) lease_timer_ = std::make_unique<boost::asio::steady_timer>(vhost_.io());
  lease_timer_->expires_after(*lease_);
  lease_timer_->async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->deleted_ || !self->consumers_.empty()) return;
    self->vhost_.delete_queue(self);
  });
}

void Queue::mark_deleted() {
  deleted_ = true;
  ready_bytes_ = 0;
  paged_count_ = 0;
  paged_bytes_ = 0;
  unwritten_region_.clear();
  counted_.clear();
  out_of_ready_.clear();
  if (expiry_timer_) expiry_timer_->cancel();
  if (lease_timer_) lease_timer_->cancel();
  if (waiting_timer_) waiting_timer_->cancel();
  if (refill_retry_timer_) refill_retry_timer_->cancel();
  transient_waits_.clear();
  stored_waits_.clear();
  stored_wait_count_ = 0;
  ready_.clear();
  expiry_index_.clear();
  consumers_.clear();
}

}  // namespace warren::broker
