// fanout: every binding's destination, keys and arguments ignored.

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "binding_store.hpp"
#include "warren/routing/exchange_types.hpp"

namespace warren::routing {
namespace {

class FanoutTable final : public BindingTable {
 public:
  bool bind(const Binding& binding) override {
    Record* record = store_.insert(binding);
    if (record == nullptr) return false;
    record->placement.slot = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back(Entry{binding.destination, record});
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

  void route(std::string_view /*routing_key*/, const protocol::FieldTable* /*headers*/,
             std::vector<Destination>& out) const override {
    for (const Entry& entry : entries_)
      out.push_back(entry.destination);
  }

  std::size_t size() const override { return store_.size(); }

  void for_each(const std::function<void(const Binding&)>& visit) const override {
    store_.for_each(visit);
  }

 private:
  struct Placement {
    std::uint32_t slot = 0;  // index in entries_
  };
  using Store = detail::BindingStore<Placement>;
  using Record = Store::Record;
  struct Entry {
    Destination destination;
    Record* record;
  };

  void detach(Record& record) {
    const std::uint32_t slot = record.placement.slot;
    entries_[slot] = entries_.back();
    entries_[slot].record->placement.slot = slot;
    entries_.pop_back();
  }

  Store store_;
  std::vector<Entry> entries_;  // one per binding, for a tight route loop
};

}  // namespace

std::unique_ptr<BindingTable> make_fanout_table() {
  return std::make_unique<FanoutTable>();
}

}  // namespace warren::routing
