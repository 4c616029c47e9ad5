// direct: a hash map from routing key to the destinations bound with it.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "binding_store.hpp"
#include "warren/routing/exchange_types.hpp"

namespace warren::routing {
namespace {

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};

struct DirectPlacement {
  std::uint32_t slot = 0;  // index in its key's bucket
};

class DirectTable final : public detail::StoredBindingTable<DirectTable, DirectPlacement> {
 public:
  void route(std::string_view routing_key, const protocol::FieldTable* /*headers*/,
             std::vector<Destination>& out) const override {
    auto it = buckets_.find(routing_key);
    if (it == buckets_.end()) return;
    for (const Entry& entry : it->second)
      out.push_back(entry.destination);
  }

 private:
  friend StoredBindingTable;

  void attach(Record& record) {
    std::vector<Entry>& bucket = buckets_[record.binding.routing_key];
    record.placement.slot = static_cast<std::uint32_t>(bucket.size());
    bucket.push_back(Entry{record.binding.destination, &record});
  }

  void detach(Record& record) {
    auto it = buckets_.find(record.binding.routing_key);
    std::vector<Entry>& bucket = it->second;
    const std::uint32_t slot = record.placement.slot;
    bucket[slot] = bucket.back();
    bucket[slot].record->placement.slot = slot;
    bucket.pop_back();
    if (bucket.empty()) buckets_.erase(it);
  }

  std::unordered_map<std::string, std::vector<Entry>, KeyHash, std::equal_to<>> buckets_;
};

}  // namespace

std::unique_ptr<BindingTable> make_direct_table() {
  return std::make_unique<DirectTable>();
}

}  // namespace warren::routing
