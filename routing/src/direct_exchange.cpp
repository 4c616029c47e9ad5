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

class DirectTable final : public BindingTable {
 public:
  bool bind(const Binding& binding) override {
    Record* record = store_.insert(binding);
    if (record == nullptr) return false;
    std::vector<Entry>& bucket = buckets_[binding.routing_key];
    record->placement.slot = static_cast<std::uint32_t>(bucket.size());
    bucket.push_back(Entry{binding.destination, record});
    return true;
  }

  bool unbind(const Binding& binding) override {
    Record* record = store_.find(binding);
    if (record == nullptr) return false;
    detach(*record);
    store_.erase(record);
    return true;
  }

  void unbind_all(const Destination& destination) override {
    store_.erase_destination(destination, [this](Record& record) { detach(record); });
  }

  void route(std::string_view routing_key, const protocol::FieldTable* /*headers*/,
             std::vector<Destination>& out) const override {
    auto it = buckets_.find(routing_key);
    if (it == buckets_.end()) return;
    for (const Entry& entry : it->second)
      out.push_back(entry.destination);
  }

  std::size_t size() const override { return store_.size(); }

  void for_each(const std::function<void(const Binding&)>& visit) const override {
    store_.for_each(visit);
  }

 private:
  struct Placement {
    std::uint32_t slot = 0;  // index in its key's bucket
  };
  using Store = detail::BindingStore<Placement>;
  using Record = Store::Record;
  struct Entry {
    Destination destination;
    Record* record;
  };

  void detach(Record& record) {
    auto it = buckets_.find(record.binding.routing_key);
    std::vector<Entry>& bucket = it->second;
    const std::uint32_t slot = record.placement.slot;
    bucket[slot] = bucket.back();
    bucket[slot].record->placement.slot = slot;
    bucket.pop_back();
    if (bucket.empty()) buckets_.erase(it);
  }

  Store store_;
  std::unordered_map<std::string, std::vector<Entry>, KeyHash, std::equal_to<>> buckets_;
};

}  // namespace

std::unique_ptr<BindingTable> make_direct_table() {
  return std::make_unique<DirectTable>();
}

}  // namespace warren::routing
