// headers: every binding's arguments are matched against the message headers,
// following rabbit_exchange_type_headers:headers_match/2 — a merge of the
// binding's arguments and the headers, both sorted by name. Arguments are
// sorted and filtered once at bind time; the headers once per route.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "binding_store.hpp"
#include "field_compare.hpp"
#include "warren/routing/exchange_types.hpp"

namespace warren::routing {
namespace {

using protocol::FieldEntry;
using protocol::FieldTable;
using protocol::FieldValue;

enum class XMatch { kAll, kAny, kAllWithX, kAnyWithX };

const FieldValue* first_named(const FieldTable& table, std::string_view name) {
  for (const FieldEntry& entry : table) {
    if (entry.name == name) return &entry.value;
  }
  return nullptr;
}

std::optional<XMatch> parse_x_match_name(std::string_view name) {
  if (name == "all") return XMatch::kAll;
  if (name == "any") return XMatch::kAny;
  if (name == "all-with-x") return XMatch::kAllWithX;
  if (name == "any-with-x") return XMatch::kAnyWithX;
  return std::nullopt;
}

// Anything unrecognised means "all" (RabbitMQ: "legacy; we didn't validate").
XMatch parse_x_match(const FieldTable& arguments) {
  const FieldValue* value = first_named(arguments, "x-match");
  if (value == nullptr) return XMatch::kAll;
  const auto* name = std::get_if<std::string>(&value->value);
  if (name == nullptr) return XMatch::kAll;
  return parse_x_match_name(*name).value_or(XMatch::kAll);
}

std::string_view erlang_type_name(char letter) {
  switch (letter) {
    case 'V':
      return "void";
    case 't':
      return "bool";
    case 'b':
      return "byte";
    case 'B':
      return "unsignedbyte";
    case 's':
      return "short";
    case 'u':
      return "unsignedshort";
    case 'I':
      return "signedint";
    case 'i':
      return "unsignedint";
    case 'l':
      return "long";
    case 'f':
      return "float";
    case 'd':
      return "double";
    case 'D':
      return "decimal";
    case 'x':
      return "binary";
    case 'T':
      return "timestamp";
    case 'A':
      return "array";
    case 'F':
      return "table";
    default:
      return "longstr";
  }
}

bool name_less(const FieldEntry* a, const FieldEntry* b) {
  return a->name < b->name;
}

// A binding compiled for matching: the arguments that take part, sorted.
struct Matcher {
  bool require_all = true;
  std::vector<const FieldEntry*> pattern;  // into the record's arguments

  // `sorted_arguments` must outlive the matcher.
  explicit Matcher(const FieldTable& sorted_arguments) {
    const XMatch kind = parse_x_match(sorted_arguments);
    require_all = kind == XMatch::kAll || kind == XMatch::kAllWithX;
    const bool with_x = kind == XMatch::kAllWithX || kind == XMatch::kAnyWithX;
    for (const FieldEntry& entry : sorted_arguments) {
      if (entry.name == "x-match") continue;  // never matched, whatever the kind
      if (!with_x && entry.name.starts_with("x-")) continue;
      pattern.push_back(&entry);
    }
  }

  // `headers` sorted by name (stably: duplicates keep their order).
  bool matches(const std::vector<const FieldEntry*>& headers) const {
    bool all_matched = true;
    bool any_matched = false;
    auto p = pattern.begin();
    auto h = headers.begin();
    while (p != pattern.end()) {
      if (require_all ? !all_matched : any_matched) break;
      if (h == headers.end()) {  // arguments left that no header can match
        all_matched = false;
        break;
      }
      const int order = (*p)->name.compare((*h)->name);
      if (order > 0) {  // header not in the binding
        ++h;
        continue;
      }
      if (order < 0) {  // argument not among the headers
        all_matched = false;
        ++p;
        continue;
      }
      const bool presence_only = std::holds_alternative<protocol::Void>((*p)->value.value);
      if (presence_only || detail::erlang_equal((*p)->value, (*h)->value)) {
        any_matched = true;
      } else {
        all_matched = false;
      }
      ++p;
      ++h;
    }
    return require_all ? all_matched : any_matched;
  }
};

struct HeadersPlacement {
  std::uint32_t slot = 0;  // index in entries_
};

class HeadersTable final : public detail::StoredBindingTable<HeadersTable, HeadersPlacement> {
 public:
  void route(std::string_view /*routing_key*/, const FieldTable* headers,
             std::vector<Destination>& out) const override {
    if (entries_.empty()) return;
    thread_local std::vector<const FieldEntry*> sorted;  // reused: no allocation once grown
    sorted.clear();
    if (headers != nullptr) {
      for (const FieldEntry& entry : *headers)
        sorted.push_back(&entry);
      stable_sort_by_name(sorted);
    }
    for (const Entry& entry : entries_) {
      if (entry.matcher.matches(sorted)) out.push_back(entry.destination);
    }
  }

 private:
  friend StoredBindingTable;
  struct Entry {
    Destination destination;
    Record* record;
    Matcher matcher;
  };

  static void stable_sort_by_name(std::vector<const FieldEntry*>& entries) {
    if (entries.size() > 32) {
      std::stable_sort(entries.begin(), entries.end(), name_less);
      return;
    }
    // Insertion sort: stable, allocation-free, and fastest for a few headers.
    for (std::size_t i = 1; i < entries.size(); ++i) {
      for (std::size_t j = i; j > 0 && name_less(entries[j], entries[j - 1]); --j) {
        std::swap(entries[j], entries[j - 1]);
      }
    }
  }

  void attach(Record& record) {
    record.placement.slot = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back(
        Entry{record.binding.destination, &record, Matcher(record.binding.arguments)});
  }

  void detach(Record& record) {
    const std::uint32_t slot = record.placement.slot;
    if (slot + 1 != entries_.size()) {
      entries_[slot] = std::move(entries_.back());
      entries_[slot].record->placement.slot = slot;
    }
    entries_.pop_back();
  }

  std::vector<Entry> entries_;  // scanned in full by every route, as in RabbitMQ
};

}  // namespace

std::optional<std::string> validate_headers_binding(const FieldTable& arguments) {
  const FieldValue* value = first_named(arguments, "x-match");
  if (value == nullptr) return std::nullopt;  // optional, as in RabbitMQ
  if (const auto* name = std::get_if<std::string>(&value->value)) {
    if (parse_x_match_name(*name)) return std::nullopt;
    return "Invalid x-match field value <<\"" + *name +
           "\">>; expected all, any, all-with-x, or any-with-x";
  }
  return "Invalid x-match field type " +
         std::string(erlang_type_name(detail::type_letter(*value))) + "; expected longstr";
}

std::unique_ptr<BindingTable> make_headers_table() {
  return std::make_unique<HeadersTable>();
}

}  // namespace warren::routing
