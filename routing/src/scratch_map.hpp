#pragma once
// Small containers for per-route scratch state that is reused from one route
// to the next, so that routing allocates nothing once they have grown.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace warren::routing::detail {

inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// An open-addressing map from 64-bit keys to 32-bit values with an O(1)
// clear(): every slot carries the number of the round it was written in, and
// slots from earlier rounds count as empty. Capacity is kept across rounds.
class StampedMap {
 public:
  void clear() {
    size_ = 0;
    if (++round_ == 0) {  // wrapped: old stamps could look current again
      for (Slot& slot : slots_)
        slot.round = 0;
      round_ = 1;
    }
  }

  std::size_t size() const { return size_; }

  // The value for `key`, inserting `initial` when absent; .second is true
  // when inserted. The pointer is valid until the next insertion.
  std::pair<std::uint32_t*, bool> try_emplace(std::uint64_t key, std::uint32_t initial) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.round != round_) {
        slot = Slot{key, round_, initial};
        ++size_;
        return {&slot.value, true};
      }
      if (slot.key == key) return {&slot.value, false};
    }
  }

  // True when `key` was not there before.
  bool insert(std::uint64_t key) { return try_emplace(key, 0).second; }

 private:
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t round = 0;
    std::uint32_t value = 0;
  };

  void grow() {
    std::vector<Slot> old =
        std::exchange(slots_, std::vector<Slot>(std::max<std::size_t>(16, slots_.size() * 2)));
    const std::uint32_t current = round_;
    size_ = 0;
    for (const Slot& slot : old) {
      if (slot.round == current) *try_emplace(slot.key, 0).first = slot.value;
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
  std::uint32_t round_ = 1;
};

// Appends ids to a caller's vector unless already there: a linear scan while
// the vector is short (the common case: a handful of queues), a StampedMap
// once it is not.
class IdDeduper {
 public:
  void reset() {
    spilled_ = false;
    seen_.clear();
  }

  bool add(std::vector<std::uint64_t>& ids, std::uint64_t id) {
    if (!spilled_) {
      if (std::find(ids.begin(), ids.end(), id) != ids.end()) return false;
      ids.push_back(id);
      if (ids.size() > kLinearLimit) {
        spilled_ = true;
        for (std::uint64_t known : ids)
          seen_.insert(known);
      }
      return true;
    }
    if (!seen_.insert(id)) return false;
    ids.push_back(id);
    return true;
  }

 private:
  static constexpr std::size_t kLinearLimit = 16;
  bool spilled_ = false;
  StampedMap seen_;
};

}  // namespace warren::routing::detail
