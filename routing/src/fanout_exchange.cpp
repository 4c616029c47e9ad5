// fanout: every binding's destination, keys and arguments ignored.

#include <cstdint>
#include <string_view>
#include <vector>

#include "binding_store.hpp"
#include "warren/routing/exchange_types.hpp"

namespace warren::routing {
namespace {

struct FanoutPlacement {
  std::uint32_t slot = 0;  // index in entries_
};

class FanoutTable final : public detail::StoredBindingTable<FanoutTable, FanoutPlacement> {
 public:
  void route(std::string_view /*routing_key*/, const protocol::FieldTable* /*headers*/,
             std::vector<Destination>& out) const override {
    for (const Entry& entry : entries_)
      out.push_back(entry.destination);
  }

 private:
  friend StoredBindingTable;

  void attach(Record& record) {
    record.placement.slot = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back(Entry{record.binding.destination, &record});
  }

  void detach(Record& record) {
    const std::uint32_t slot = record.placement.slot;
    entries_[slot] = entries_.back();
    entries_[slot].record->placement.slot = slot;
    entries_.pop_back();
  }

  std::vector<Entry> entries_;  // one per binding, for a tight route loop
};

}  // namespace

std::unique_ptr<BindingTable> make_fanout_table() {
  return std::make_unique<FanoutTable>();
}

}  // namespace warren::routing
