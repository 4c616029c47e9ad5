// topic: binding patterns compiled into a trie of words at bind time; a route
// walks the trie with the message's words, never parsing a pattern.
//
// Matching follows rabbit_exchange_type_topic's trie_match: from a node at
// word position p, follow the literal child for word p and the "*" child to
// position p + 1, and the "#" child to every position from p to the end. The
// walk is an explicit stack of (node, position) states, and each "#" node
// remembers the lowest position it has been entered at in this route, so a
// state is visited at most once: patterns such as "#.a.#.a.#" stay
// polynomial on long keys (RabbitMQ's walk is exponential there) and yield
// the same set of destinations.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
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

class TopicTable final : public BindingTable {
 public:
  TopicTable() : root_(std::make_unique<Node>()) {}
  TopicTable(const TopicTable&) = delete;
  TopicTable& operator=(const TopicTable&) = delete;

  ~TopicTable() override {
    // Iteratively, so that a very deep trie cannot exhaust the stack.
    std::vector<std::unique_ptr<Node>> doomed;
    doomed.push_back(std::move(root_));
    while (!doomed.empty()) {
      std::unique_ptr<Node> node = std::move(doomed.back());
      doomed.pop_back();
      for (auto& [word, child] : node->literal) doomed.push_back(std::move(child));
      if (node->star) doomed.push_back(std::move(node->star));
      if (node->hash) doomed.push_back(std::move(node->hash));
    }
  }

  bool bind(const Binding& binding) override {
    Record* record = store_.insert(binding);
    if (record == nullptr) return false;
    std::vector<std::string_view> words;
    split_topic_key(record->binding.routing_key, words);
    Node* node = root_.get();
    for (std::string_view word : words) node = child_or_create(*node, word);
    record->placement = Placement{node, static_cast<std::uint32_t>(node->bindings.size())};
    node->bindings.push_back(Entry{binding.destination, record});
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
    // Reused by every route on this thread: no allocation once grown.
    thread_local Walk walk;
    walk.start(routing_key, root_.get());
    const auto end = static_cast<std::uint32_t>(walk.words.size());
    while (!walk.states.empty()) {
      const auto [node, position] = walk.states.back();
      walk.states.pop_back();
      if (position == end) {
        for (const Entry& entry : node->bindings) out.push_back(entry.destination);
        if (node->hash) walk.enter_hash(node->hash.get(), end, end);
        continue;
      }
      if (!node->literal.empty()) {
        auto it = node->literal.find(walk.words[position]);
        if (it != node->literal.end()) walk.states.push_back({it->second.get(), position + 1});
      }
      if (node->star) walk.states.push_back({node->star.get(), position + 1});
      if (node->hash) walk.enter_hash(node->hash.get(), position, end);
    }
  }

  std::size_t size() const override { return store_.size(); }

  void for_each(const std::function<void(const Binding&)>& visit) const override {
    store_.for_each(visit);
  }

 private:
  struct Node;
  struct Placement {
    Node* node = nullptr;    // where the pattern ends
    std::uint32_t slot = 0;  // index in node->bindings
  };
  using Store = detail::BindingStore<Placement>;
  using Record = Store::Record;
  struct Entry {
    Destination destination;
    Record* record;
  };

  struct Node {
    Node* parent = nullptr;
    std::string word;  // label of the edge from the parent: a word, "*" or "#"
    // Keys view the child's `word`, which lives as long as the entry.
    std::unordered_map<std::string_view, std::unique_ptr<Node>> literal;
    std::unique_ptr<Node> star;
    std::unique_ptr<Node> hash;
    std::vector<Entry> bindings;  // bindings whose pattern ends here

    bool unused() const { return bindings.empty() && literal.empty() && !star && !hash; }
  };

  // The state of one route: the key's words and the (node, position) stack.
  struct Walk {
    struct State {
      const Node* node;
      std::uint32_t position;
    };
    std::vector<std::string_view> words;
    std::vector<State> states;
    detail::StampedMap hash_lowest_entry;  // "#" node -> lowest position entered at

    void start(std::string_view routing_key, const Node* root) {
      split_topic_key(routing_key, words);
      states.clear();
      hash_lowest_entry.clear();
      states.push_back({root, 0});
    }

    // "#" consumes zero or more words: enter it at every position from
    // `position` on, skipping those an earlier entry already covered.
    void enter_hash(const Node* hash, std::uint32_t position, std::uint32_t end) {
      auto [lowest, first_time] =
          hash_lowest_entry.try_emplace(reinterpret_cast<std::uintptr_t>(hash), position);
      const std::uint32_t covered_from = first_time ? end + 1 : *lowest;
      if (position >= covered_from) return;
      *lowest = position;
      for (std::uint32_t p = position; p < covered_from; ++p) states.push_back({hash, p});
    }
  };

  static Node* child_or_create(Node& node, std::string_view word) {
    if (word == "*" || word == "#") {
      std::unique_ptr<Node>& child = word == "*" ? node.star : node.hash;
      if (!child) child = new_child(node, word);
      return child.get();
    }
    auto it = node.literal.find(word);
    if (it != node.literal.end()) return it->second.get();
    std::unique_ptr<Node> child = new_child(node, word);
    Node* raw = child.get();
    node.literal.emplace(std::string_view(raw->word), std::move(child));
    return raw;
  }

  static std::unique_ptr<Node> new_child(Node& parent, std::string_view word) {
    auto child = std::make_unique<Node>();
    child->parent = &parent;
    child->word = word;
    return child;
  }

  // Takes the binding out of its node, then prunes nodes left unused.
  void detach(Record& record) {
    Node* node = record.placement.node;
    const std::uint32_t slot = record.placement.slot;
    node->bindings[slot] = node->bindings.back();
    node->bindings[slot].record->placement.slot = slot;
    node->bindings.pop_back();
    while (node != root_.get() && node->unused()) {
      Node* parent = node->parent;
      if (parent->star.get() == node) {
        parent->star.reset();
      } else if (parent->hash.get() == node) {
        parent->hash.reset();
      } else {
        parent->literal.erase(parent->literal.find(node->word));
      }
      node = parent;
    }
  }

  std::unique_ptr<Node> root_;
  Store store_;
};

}  // namespace

std::unique_ptr<BindingTable> make_topic_table() { return std::make_unique<TopicTable>(); }

}  // namespace warren::routing
