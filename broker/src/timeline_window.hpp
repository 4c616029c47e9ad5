#pragma once
// The earliest entries of one timeline of the store, held in memory; the
// rest live in the store only and are read back, a chunk at a time, as the
// window drains. What makes a timeline of millions cost a bounded amount of
// memory and no scan at start-up.
//
// Invariant: every stored entry of the timeline up to `frontier` is held
// here; past it, when `beyond`, the store has more. The owner schedules and
// unschedules entries in the store itself (in its own batches) and tells the
// window. Writes are not instant, so reads of the store part must not trust
// the store alone:
// - a refill reads once everything added before it was asked for is
//   written (Persister::after_stored); entries added meanwhile are held
//   whatever their key, and the refill drops the ones past its new frontier;
// - entries that went to the store part, and removals from it, are
//   remembered until their batch is written (`unwritten_`), so listings and
//   lookups see them at once, and no read brings back a removed entry.
//
// Broker thread only.

#include <algorithm>
#include <compare>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "persister.hpp"
#include "warren/storage/message_store.hpp"

namespace warren::broker {

struct TimelineKey {
  std::uint64_t due = 0;  // Unix ms
  std::uint64_t id = 0;
  auto operator<=>(const TimelineKey&) const = default;
};

template <class Held>
class TimelineWindow {
 public:
  using Key = TimelineKey;

  // `store` null: nothing is stored, everything is held. The window covers
  // the timeline's keys from `start` up to (not including) `end`.
  TimelineWindow(Persister* store, storage::TimelineId timeline, std::size_t limit, Key start,
                 Key end = Key{std::numeric_limits<std::uint64_t>::max(),
                               std::numeric_limits<std::uint64_t>::max()})
      : store_(store),
        timeline_(timeline),
        limit_(store != nullptr ? std::max<std::size_t>(limit, 2)
                                : std::numeric_limits<std::size_t>::max()),
        start_(start),
        end_(end) {}
  TimelineWindow(const TimelineWindow&) = delete;  // persister completions hold `this`
  TimelineWindow& operator=(const TimelineWindow&) = delete;

  const std::map<Key, Held>& held() const { return held_; }
  bool beyond() const { return beyond_; }

  // Start-up: the store may hold entries; read them with refill().
  void assume_stored() {
    beyond_ = true;
    frontier_.reset();
    refilling_ = true;
  }

  // An entry just scheduled in the store. Held when it falls inside the
  // window; returns whether it is now the earliest held.
  bool add(const Key& key, Held held) {
    if (beyond_ && !refilling_ && (!frontier_ || key > *frontier_)) {
      to_store(key, std::move(held));
      return false;
    }
    const bool earliest = held_.empty() || key < held_.begin()->first;
    held_.emplace(key, std::move(held));
    evict();
    return earliest;
  }

  // Takes the earliest held entry (the owner unschedules it).
  std::pair<Key, Held> take_earliest() {
    auto node = held_.extract(held_.begin());
    // Below every other held key: no read of the store part can reach it.
    return {node.key(), std::move(node.mapped())};
  }

  // Takes the entry `key`, held or in the store part (the owner unschedules
  // it); nullopt when there is none.
  template <class Decode>
  std::optional<Held> take(const Key& key, Decode&& decode) {
    std::optional<Held> taken;
    if (auto node = held_.extract(key)) {
      taken = std::move(node.mapped());
    } else {
      taken = find_in_store(key, decode);
    }
    if (taken && store_ != nullptr) remember(key, std::nullopt);
    return taken;
  }

  // Whether to ask for a refill: under half full and the store has more.
  bool wants_refill() const { return beyond_ && !refilling_ && held_.size() < limit_ / 2; }
  // The refill is asked for: Persister::after_stored will run refill().
  void refill_requested() { refilling_ = true; }

  // Reads past the frontier until the window is full again. `decode(entry)`
  // returns the Held or nullopt for an unreadable entry, which
  // `unreadable(entry)` then deals with. On an error nothing changes but the
  // request: a later wants_refill() asks again.
  template <class Decode, class Unreadable>
  storage::Status refill(Decode&& decode, Unreadable&& unreadable) {
    const std::size_t want = limit_ - std::min(held_.size(), limit_ / 2);
    const Key from = frontier_ ? Key{frontier_->due, frontier_->id + 1} : start_;
    std::vector<storage::ScheduledEntry> chunk;
    const storage::Status status =
        store_->messages().read_scheduled(timeline_, from.due, from.id, want, chunk);
    refilling_ = false;
    if (!status.ok()) return status;
    // Past the end: another part of the timeline, not this window's.
    const bool reached_end = std::erase_if(chunk, [this](const storage::ScheduledEntry& e) {
                               return Key{e.due, e.id} >= end_;
                             }) > 0;
    for (auto& entry : chunk) {
      const Key key{entry.due, entry.id};
      // Removed in a batch after the one this read waited for.
      if (auto u = unwritten_.find(key); u != unwritten_.end() && !u->second.held) continue;
      if (held_.contains(key)) continue;
      std::optional<Held> held = decode(entry);
      if (!held) {
        unreadable(entry);
        continue;
      }
      held_.emplace(key, std::move(*held));
    }
    if (chunk.size() == want && !reached_end) {
      frontier_ = Key{chunk.back().due, chunk.back().id};
      beyond_ = true;
      // Added while the read was pending and past it: to the store part.
      while (!held_.empty() && held_.rbegin()->first > *frontier_) {
        auto node = held_.extract(std::prev(held_.end()));
        to_store(node.key(), std::move(node.mapped()));
      }
    } else {
      beyond_ = false;
      frontier_.reset();
    }
    return status;
  }

  // Visits the entries of the store part in key order until
  // `visit(key, held)` returns false; `decode` as for refill() (unreadable
  // entries are skipped). Reads `chunk_size` at a time.
  template <class Decode, class Visit>
  storage::Status visit_store(Decode&& decode, Visit&& visit, std::size_t chunk_size = 1000) const {
    if (store_ == nullptr || (!beyond_ && unwritten_.empty())) return storage::Status::Ok();
    // Entries on their way to the store, merged in.
    auto pending = unwritten_.begin();
    auto visit_pending_before = [&](const std::optional<Key>& key) {
      for (; pending != unwritten_.end() && (!key || pending->first < *key); ++pending) {
        if (pending->second.held && store_part(pending->first) &&
            !visit(pending->first, *pending->second.held)) {
          return false;
        }
      }
      return true;
    };
    if (beyond_) {
      Key from = frontier_ ? Key{frontier_->due, frontier_->id + 1} : start_;
      std::vector<storage::ScheduledEntry> chunk;
      for (;;) {
        chunk.clear();
        const storage::Status status =
            store_->messages().read_scheduled(timeline_, from.due, from.id, chunk_size, chunk);
        if (!status.ok()) return status;
        for (const auto& entry : chunk) {
          const Key key{entry.due, entry.id};
          if (key >= end_) {
            chunk.clear();  // the rest of the timeline is not this window's
            break;
          }
          if (!visit_pending_before(key)) return status;
          if (pending != unwritten_.end() && pending->first == key) {
            // Written meanwhile, or removed: what is remembered holds.
            const bool removed = !pending->second.held;
            const bool go_on = removed || !store_part(key) || visit(key, *pending->second.held);
            ++pending;
            if (!go_on) return status;
            continue;
          }
          if (held_.contains(key)) continue;  // added while a refill is pending
          std::optional<Held> held = decode(entry);
          if (held && !visit(key, *held)) return status;
        }
        if (chunk.size() < chunk_size) break;
        from = Key{chunk.back().due, chunk.back().id + 1};
        if (from >= end_) break;
      }
    }
    visit_pending_before(std::nullopt);
    return storage::Status::Ok();
  }

  // The entry `key` when held or in the store part.
  template <class Decode>
  std::optional<Held> find(const Key& key, Decode&& decode) const {
    if (auto it = held_.find(key); it != held_.end()) return it->second;
    return find_in_store(key, decode);
  }

  void clear() {
    held_.clear();
    unwritten_.clear();
    beyond_ = false;
    frontier_.reset();
  }

 private:
  bool store_part(const Key& key) const {
    return !held_.contains(key) && (!frontier_ || key > *frontier_ || !beyond_);
  }

  template <class Decode>
  std::optional<Held> find_in_store(const Key& key, Decode& decode) const {
    if (store_ == nullptr) return std::nullopt;
    if (auto u = unwritten_.find(key); u != unwritten_.end()) return u->second.held;
    if (!beyond_ || (frontier_ && key <= *frontier_) || key >= end_) return std::nullopt;
    std::vector<storage::ScheduledEntry> found;
    if (!store_->messages().read_scheduled(timeline_, key.due, key.id, 1, found).ok() ||
        found.empty() || found.front().due != key.due || found.front().id != key.id) {
      return std::nullopt;
    }
    return decode(found.front());
  }

  void evict() {
    if (refilling_) return;
    while (held_.size() > limit_) {
      auto node = held_.extract(std::prev(held_.end()));
      beyond_ = true;
      frontier_ = held_.rbegin()->first;
      to_store(node.key(), std::move(node.mapped()));
    }
  }

  // `held` leaves memory for the store part; its schedule may not be
  // written yet.
  void to_store(const Key& key, Held held) { remember(key, std::move(held)); }

  // What reads of the store part must see until the open batch is written:
  // an entry (`held`) or its removal (nullopt).
  void remember(const Key& key, std::optional<Held> held) {
    unwritten_.insert_or_assign(key, Unwritten{std::move(held), store_->open_batch_id()});
    schedule_trim();
  }

  void schedule_trim() {
    if (trim_scheduled_) return;
    trim_scheduled_ = true;
    const std::uint64_t batch = store_->open_batch_id();
    store_->after_stored([alive = std::weak_ptr<int>(alive_), this, batch] {
      if (alive.expired()) return;
      trim_scheduled_ = false;
      std::erase_if(unwritten_, [batch](const auto& u) { return u.second.batch <= batch; });
      if (!unwritten_.empty()) schedule_trim();
    });
  }

  struct Unwritten {
    std::optional<Held> held;  // nullopt: removed
    std::uint64_t batch = 0;
  };

  Persister* const store_;
  const storage::TimelineId timeline_;
  const std::size_t limit_;
  const Key start_;
  const Key end_;
  std::map<Key, Held> held_;
  std::optional<Key> frontier_;  // nullopt with beyond_: nothing read yet
  bool beyond_ = false;
  bool refilling_ = false;
  std::map<Key, Unwritten> unwritten_;
  bool trim_scheduled_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for persister completions
};

}  // namespace warren::broker
