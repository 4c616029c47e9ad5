#pragma once
// The bindings of one exchange as records, shared by every exchange type:
// identity lookup (destination, routing key, arguments) by hash, and the
// bindings of each destination as an intrusive list so unbind_all() costs
// only that destination's bindings. Each type keeps its own routing
// structure beside it, pointing at the records; `Placement` is the type's
// note, in each record, of where the binding sits in that structure.

#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>

#include "field_compare.hpp"
#include "warren/routing/binding_table.hpp"

namespace warren::routing::detail {

struct DestinationHash {
  std::size_t operator()(const Destination& d) const {
    return std::hash<std::uint64_t>{}(d.id * 2 + static_cast<std::uint64_t>(d.kind));
  }
};

template <typename Placement>
class BindingStore {
 public:
  struct Record {
    Binding binding;  // arguments sorted by name, as RabbitMQ stores them
    std::size_t hash = 0;
    Record* prev_for_destination = nullptr;
    Record* next_for_destination = nullptr;
    Placement placement{};
  };

  // A binding as an exchange type's routing structure holds it: the
  // destination beside its record, so routing reads no record.
  struct Entry {
    Destination destination;
    Record* record;
  };

  BindingStore() = default;
  BindingStore(const BindingStore&) = delete;
  BindingStore& operator=(const BindingStore&) = delete;

  // Stores a copy of `binding`; null when an identical binding is stored.
  // Records keep their address until erased.
  Record* insert(const Binding& binding) {
    auto record = std::make_unique<Record>();
    record->binding = binding;
    sort_by_name(record->binding.arguments);
    record->hash = identity_hash(record->binding);
    if (find_sorted(record->binding, record->hash) != nullptr) return nullptr;

    Record* raw = record.get();
    by_identity_.emplace(raw->hash, std::move(record));
    Record*& head = by_destination_[raw->binding.destination];
    raw->next_for_destination = head;
    if (head != nullptr) head->prev_for_destination = raw;
    head = raw;
    return raw;
  }

  // The stored binding identical to `binding` (whose arguments may be in any order), or null.
  Record* find(const Binding& binding) const {
    if (is_sorted_by_name(binding.arguments)) return find_sorted(binding, identity_hash(binding));
    Binding sorted{binding.destination, binding.routing_key, sorted_by_name(binding.arguments)};
    return find_sorted(sorted, identity_hash(sorted));
  }

  void erase(Record* record) {
    Record* prev = record->prev_for_destination;
    Record* next = record->next_for_destination;
    if (next != nullptr) next->prev_for_destination = prev;
    if (prev != nullptr) {
      prev->next_for_destination = next;
    } else if (next != nullptr) {
      by_destination_[record->binding.destination] = next;
    } else {
      by_destination_.erase(record->binding.destination);
    }
    erase_identity(record);
  }

  // Erases every binding to `destination`, handing each to `detach` first so
  // the exchange type can take it out of its routing structure.
  template <typename Detach>
  void erase_destination(const Destination& destination, Detach&& detach) {
    auto it = by_destination_.find(destination);
    if (it == by_destination_.end()) return;
    Record* record = it->second;
    by_destination_.erase(it);
    while (record != nullptr) {
      Record* next = record->next_for_destination;
      detach(*record);
      erase_identity(record);
      record = next;
    }
  }

  std::size_t size() const { return by_identity_.size(); }

  void for_each(const std::function<void(const Binding&)>& visit) const {
    for (const auto& [hash, record] : by_identity_)
      visit(record->binding);
  }

 private:
  Record* find_sorted(const Binding& binding, std::size_t hash) const {
    auto [first, last] = by_identity_.equal_range(hash);
    for (auto it = first; it != last; ++it) {
      if (identical(it->second->binding, binding)) return it->second.get();
    }
    return nullptr;
  }

  void erase_identity(Record* record) {
    auto [first, last] = by_identity_.equal_range(record->hash);
    for (auto it = first; it != last; ++it) {
      if (it->second.get() == record) {
        by_identity_.erase(it);
        return;
      }
    }
  }

  // Keyed by identity_hash(); the records' owner.
  std::unordered_multimap<std::size_t, std::unique_ptr<Record>> by_identity_;
  // Head of each destination's list.
  std::unordered_map<Destination, Record*, DestinationHash> by_destination_;
};

// The part of a BindingTable every exchange type shares: bindings kept in a
// BindingStore, with `Derived` (CRTP, so bind and unbind make no virtual
// calls) supplying route() and two hooks on its routing structure:
//   void attach(Record&): place a newly stored binding (record.binding has
//     its arguments sorted) and set record.placement;
//   void detach(Record&): take a binding out, before its record is erased.
// `Derived` befriends this class when the hooks are private.
template <typename Derived, typename Placement>
class StoredBindingTable : public BindingTable {
 public:
  bool bind(const Binding& binding) final {
    Record* record = store_.insert(binding);
    if (record == nullptr) return false;
    derived().attach(*record);
    return true;
  }

  bool unbind(const Binding& binding) final {
    Record* record = store_.find(binding);
    if (record == nullptr) return false;
    derived().detach(*record);
    store_.erase(record);
    return true;
  }

  void unbind_all(const Destination& destination) final {
    store_.erase_destination(destination, [this](Record& record) { derived().detach(record); });
  }

  std::size_t size() const final { return store_.size(); }

  void for_each(const std::function<void(const Binding&)>& visit) const final {
    store_.for_each(visit);
  }

 protected:
  using Store = BindingStore<Placement>;
  using Record = typename Store::Record;
  using Entry = typename Store::Entry;

  StoredBindingTable() = default;

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }

  Store store_;
};

}  // namespace warren::routing::detail
