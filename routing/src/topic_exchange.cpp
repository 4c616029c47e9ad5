// topic: binding patterns compiled into a trie of words at bind time; a route
// walks the trie with the message's words, never parsing a pattern.
//
// Matching follows rabbit_exchange_type_topic's trie_match: from a node at
// word position p, follow the literal child for word p and the "*" child to
// position p + 1, and the "#" child to every position from p to the end. The
// walk is an explicit stack of (node, position) states, and each "#" node
// remembers the lowest position it has been entered at in this route, so a
// state is visited at most once: each binding is yielded at most once per
// route, and patterns such as "#.a.#.a.#" stay polynomial on long keys
// (RabbitMQ's walk is exponential there) while matching the same bindings.
//
// The trie's literal edges all live in one open-addressing table keyed by
// (parent node, word): a step is one probe, with each of the message's word
// hashes computed once per route.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "binding_store.hpp"
#include "scratch_map.hpp"
#include "warren/routing/exchange_types.hpp"

namespace warren::routing {

void split_topic_key(std::string_view key, std::vector<std::string_view>& words) {
  words.clear();
  if (key.empty()) return;  // RabbitMQ: "" has no words, not one empty word
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = key.find('.', start);
    if (dot == std::string_view::npos) {
      words.push_back(key.substr(start));
      return;
    }
    words.push_back(key.substr(start, dot - start));
    start = dot + 1;
  }
}

namespace {

std::uint64_t hash_word(std::string_view word) {
  return std::hash<std::string_view>{}(word);
}

bool is_wildcard(std::string_view word) {
  return word == "*" || word == "#";
}

struct Node;
struct Placement {
  Node* node = nullptr;    // where the binding's pattern ends
  std::uint32_t slot = 0;  // index in node->bindings
};
using Record = detail::BindingStore<Placement>::Record;
using Entry = detail::BindingStore<Placement>::Entry;

struct Node {
  Node* parent = nullptr;
  std::uint64_t id = 0;  // unique in its table; part of its edge's hash
  std::string word;      // label of the edge from the parent: a word, "*" or "#"
  Node* star = nullptr;  // the "*" and "#" children, if any
  Node* hash = nullptr;
  std::uint32_t literal_children = 0;
  std::vector<Entry> bindings;  // bindings whose pattern ends here

  bool unused() const {
    return bindings.empty() && literal_children == 0 && star == nullptr && hash == nullptr;
  }
};

// Every non-root node, keyed by (parent id, word): linear probing over a
// power-of-two array kept at most half full; erasure shifts back instead of
// leaving tombstones. Owns the nodes.
class EdgeTable {
 public:
  EdgeTable() = default;
  EdgeTable(const EdgeTable&) = delete;
  EdgeTable& operator=(const EdgeTable&) = delete;
  ~EdgeTable() {
    for (Slot& slot : slots_)
      delete slot.child;
  }

  Node* find(const Node& parent, std::string_view word, std::uint64_t word_hash) const {
    if (size_ == 0) return nullptr;
    const std::uint64_t hash = edge_hash(parent.id, word_hash);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.child == nullptr) return nullptr;
      if (slot.hash == hash && slot.child->parent == &parent && slot.child->word == word) {
        return slot.child;
      }
    }
  }

  // Takes ownership of `child`, whose parent and word are set.
  Node* insert(std::unique_ptr<Node> child) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    Node* raw = child.release();
    place(Slot{edge_hash(raw->parent->id, hash_word(raw->word)), raw});
    ++size_;
    return raw;
  }

  // Deletes `child`; its parent must still exist.
  void erase(Node* child) {
    const std::uint64_t hash = edge_hash(child->parent->id, hash_word(child->word));
    const std::size_t mask = slots_.size() - 1;
    std::size_t hole = hash & mask;
    while (slots_[hole].child != child)
      hole = (hole + 1) & mask;
    delete child;
    slots_[hole] = Slot{};
    --size_;
    // Shift later members of the probe run back into the hole.
    for (std::size_t i = (hole + 1) & mask; slots_[i].child != nullptr; i = (i + 1) & mask) {
      const std::size_t home = slots_[i].hash & mask;
      const bool reachable_from_home =
          hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
      if (reachable_from_home) continue;
      slots_[hole] = slots_[i];
      slots_[i] = Slot{};
      hole = i;
    }
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    Node* child = nullptr;  // null: empty
  };

  static std::uint64_t edge_hash(std::uint64_t parent_id, std::uint64_t word_hash) {
    return detail::mix64(word_hash ^ (parent_id * 0x9e3779b97f4a7c15ULL));
  }

  void place(Slot slot) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = slot.hash & mask;
    while (slots_[i].child != nullptr)
      i = (i + 1) & mask;
    slots_[i] = slot;
  }

  void grow() {
    std::vector<Slot> old =
        std::exchange(slots_, std::vector<Slot>(slots_.empty() ? 64 : slots_.size() * 2));
    for (const Slot& slot : old) {
      if (slot.child != nullptr) place(slot);
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

class TopicTable final : public detail::StoredBindingTable<TopicTable, Placement> {
 public:
  void route(std::string_view routing_key, const protocol::FieldTable* /*headers*/,
             std::vector<Destination>& out) const override {
    // Reused by every route on this thread: no allocation once grown.
    thread_local Walk walk;
    walk.start(routing_key, &root_);
    const auto end = static_cast<std::uint32_t>(walk.words.size());
    while (!walk.states.empty()) {
      const auto [node, position] = walk.states.back();
      walk.states.pop_back();
      if (position == end) {
        for (const Entry& entry : node->bindings)
          out.push_back(entry.destination);
        if (node->hash != nullptr) walk.enter_hash(node->hash, end, end);
        continue;
      }
      // A literal "*" or "#" in the key would only repeat the wildcard steps.
      if (node->literal_children != 0 && !walk.wildcard[position]) {
        const Node* child = edges_.find(*node, walk.words[position], walk.hashes[position]);
        if (child != nullptr) walk.states.push_back({child, position + 1});
      }
      if (node->star != nullptr) walk.states.push_back({node->star, position + 1});
      if (node->hash != nullptr) walk.enter_hash(node->hash, position, end);
    }
  }

 private:
  friend StoredBindingTable;

  // The state of one route: the key's words and the (node, position) stack.
  struct Walk {
    struct State {
      const Node* node;
      std::uint32_t position;
    };
    std::vector<std::string_view> words;
    std::vector<std::uint64_t> hashes;
    std::vector<bool> wildcard;
    std::vector<State> states;
    detail::StampedMap hash_lowest_entry;  // "#" node -> lowest position entered at

    void start(std::string_view routing_key, const Node* root) {
      split_topic_key(routing_key, words);
      hashes.clear();
      wildcard.clear();
      for (std::string_view word : words) {
        hashes.push_back(hash_word(word));
        wildcard.push_back(is_wildcard(word));
      }
      states.clear();
      hash_lowest_entry.clear();
      states.push_back({root, 0});
    }

    // "#" consumes zero or more words: enter it at every position from
    // `position` on, skipping those an earlier entry already covered.
    void enter_hash(const Node* hash, std::uint32_t position, std::uint32_t end) {
      auto [lowest, first_time] = hash_lowest_entry.try_emplace(hash->id, position);
      const std::uint32_t covered_from = first_time ? end + 1 : *lowest;
      if (position >= covered_from) return;
      *lowest = position;
      for (std::uint32_t p = position; p < covered_from; ++p)
        states.push_back({hash, p});
    }
  };

  Node* child_or_create(Node& node, std::string_view word) {
    Node** wildcard_child = word == "*" ? &node.star : word == "#" ? &node.hash : nullptr;
    if (wildcard_child != nullptr && *wildcard_child != nullptr) return *wildcard_child;
    if (wildcard_child == nullptr) {
      if (Node* child = edges_.find(node, word, hash_word(word))) return child;
    }
    auto child = std::make_unique<Node>();
    child->parent = &node;
    child->id = next_node_id_++;
    child->word = word;
    Node* raw = edges_.insert(std::move(child));
    if (wildcard_child != nullptr) {
      *wildcard_child = raw;
    } else {
      ++node.literal_children;
    }
    return raw;
  }

  void attach(Record& record) {
    std::vector<std::string_view> words;
    split_topic_key(record.binding.routing_key, words);
    Node* node = &root_;
    for (std::string_view word : words)
      node = child_or_create(*node, word);
    record.placement = Placement{node, static_cast<std::uint32_t>(node->bindings.size())};
    node->bindings.push_back(Entry{record.binding.destination, &record});
  }

  // Takes the binding out of its node, then prunes nodes left unused.
  void detach(Record& record) {
    Node* node = record.placement.node;
    const std::uint32_t slot = record.placement.slot;
    node->bindings[slot] = node->bindings.back();
    node->bindings[slot].record->placement.slot = slot;
    node->bindings.pop_back();
    while (node != &root_ && node->unused()) {
      Node* parent = node->parent;
      if (parent->star == node) {
        parent->star = nullptr;
      } else if (parent->hash == node) {
        parent->hash = nullptr;
      } else {
        --parent->literal_children;
      }
      edges_.erase(node);
      node = parent;
    }
  }

  Node root_;
  std::uint64_t next_node_id_ = 1;  // the root is 0
  EdgeTable edges_;                 // owns every node but the root
};

}  // namespace

std::unique_ptr<BindingTable> make_topic_table() {
  return std::make_unique<TopicTable>();
}

}  // namespace warren::routing
