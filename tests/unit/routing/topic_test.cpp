#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "routing_test_support.hpp"
#include "warren/routing/exchange_types.hpp"

using namespace warren::routing;
using namespace warren::routing::test;
using Dests = std::vector<Destination>;

namespace {

// --- A brute-force reference, independent of the trie ----------------------

std::vector<std::string> words_of(const std::string& key) {
  std::vector<std::string> words;
  if (key.empty()) return words;  // RabbitMQ's split_topic_key: "" has no words
  std::string word;
  for (char c : key) {
    if (c == '.') {
      words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  words.push_back(word);
  return words;
}

bool reference_match(const std::vector<std::string>& pattern, std::size_t p,
                     const std::vector<std::string>& key, std::size_t k) {
  if (p == pattern.size()) return k == key.size();
  if (pattern[p] == "#") {
    return reference_match(pattern, p + 1, key, k) ||
           (k < key.size() && reference_match(pattern, p, key, k + 1));
  }
  if (k == key.size()) return false;
  if (pattern[p] != "*" && pattern[p] != key[k]) return false;
  return reference_match(pattern, p + 1, key, k + 1);
}

bool reference_match(const std::string& pattern, const std::string& key) {
  return reference_match(words_of(pattern), 0, words_of(key), 0);
}

bool trie_matches(const std::string& pattern, const std::string& key) {
  auto table = make_topic_table();
  REQUIRE(table->bind(binding(queue(1), pattern)));
  return !routed(*table, key).empty();
}

std::string random_key(std::mt19937_64& rng, const std::vector<std::string>& vocabulary,
                       std::size_t max_words) {
  const std::size_t n = std::uniform_int_distribution<std::size_t>(0, max_words)(rng);
  std::string key;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) key += '.';
    key += vocabulary[std::uniform_int_distribution<std::size_t>(0, vocabulary.size() - 1)(rng)];
  }
  return key;
}

}  // namespace

TEST_CASE("split_topic_key follows RabbitMQ", "[routing][topic]") {
  std::vector<std::string_view> words;
  split_topic_key("", words);
  CHECK(words.empty());
  split_topic_key("a", words);
  CHECK(words == std::vector<std::string_view>{"a"});
  split_topic_key("a..b", words);
  CHECK(words == std::vector<std::string_view>{"a", "", "b"});
  split_topic_key(".", words);
  CHECK(words == std::vector<std::string_view>{"", ""});
  split_topic_key("a.", words);
  CHECK(words == std::vector<std::string_view>{"a", ""});
}

TEST_CASE("topic patterns: '*' is one word, '#' zero or more", "[routing][topic]") {
  struct Case {
    const char* pattern;
    const char* key;
    bool matches;
  };
  const Case cases[] = {
      {"a.b.c", "a.b.c", true},
      {"a.b.c", "a.b", false},
      {"a.b", "a.b.c", false},
      {"*", "a", true},
      {"*", "a.b", false},
      {"*", "", false},
      {"*.*", ".", true},
      {"*", ".", false},
      {"a.*", "a", false},
      {"a.*", "a.", true},
      {"a.*.c", "a..c", true},
      {"a..c", "a..c", true},
      {"a..c", "a.c", false},
      {"#", "", true},
      {"#", "a.b.c", true},
      {"#", ".", true},
      {"#.#", "", true},
      {"#.#", "a", true},
      {"", "", true},
      {"", "a", false},
      {"", ".", false},
      {"*.#", "", false},
      {"#.*", "a", true},
      {"#.*", "", false},
      {"a.#", "a", true},
      {"a.#", "a.b.c", true},
      {"a.#", "b.a", false},
      {"#.c", "a.b.c", true},
      {"#.c", "c", true},
      {"#.c", "c.d", false},
      {"a.#.c", "a.c", true},
      {"a.#.c", "a.b.b.c", true},
      {"a.#.#.c", "a.c", true},
      {"a.*.#", "a", false},
      {"a.*.#", "a.b", true},
      {"#.a.#", "b.a.b", true},
      {"#.a.#", "b.b", false},
      {"a*", "ab", false},
      {"a*", "a*", true},
      {"a#", "a.b", false},
      {"a.*", "a.*", true},
      {"a.#", "a.#", true},
      {"*.*.*", "a.b", false},
      {"#.#.#", "a.b.c.d", true},
      {"*.#.*", "a", false},
      {"*.#.*", "a.b", true},
      {"*.#.*", "a.b.c.d", true},
      {"A", "a", false},
      {"é.*", "é.x", true},
      {"#.", "a.", true},
      {"#.", "a", false},
  };
  for (const Case& c : cases) {
    INFO("pattern '" << c.pattern << "' key '" << c.key << "'");
    CHECK(reference_match(c.pattern, c.key) == c.matches);
    CHECK(trie_matches(c.pattern, c.key) == c.matches);
  }
}

TEST_CASE("topic trie agrees with a brute-force matcher on random patterns and keys",
          "[routing][topic][random]") {
  std::mt19937_64 rng(20240611);
  const std::vector<std::string> pattern_words{"a", "b", "c", "", "*", "#", "*", "#", "ab"};
  const std::vector<std::string> key_words{"a", "b", "c", "", "ab", "*", "#"};

  auto table = make_topic_table();
  std::vector<std::string> patterns;
  for (std::uint64_t id = 0; id < 2000; ++id) {
    patterns.push_back(random_key(rng, pattern_words, 6));
    REQUIRE(table->bind(binding(queue(id), patterns.back())));
  }
  // A few fixed awkward ones.
  for (const char* p : {"#", "#.#", "#.#.#", "", ".", "*", "#.*.#", "*.#.*"}) {
    patterns.push_back(p);
    REQUIRE(table->bind(binding(queue(patterns.size() - 1), p)));
  }

  std::vector<std::vector<std::string>> pattern_words_of;
  for (const std::string& p : patterns)
    pattern_words_of.push_back(words_of(p));

  auto check_keys = [&](const std::vector<bool>& bound, int rounds) {
    for (int round = 0; round < rounds; ++round) {
      const std::string key = random_key(rng, key_words, 8);
      const std::vector<std::string> words = words_of(key);
      Dests expected;
      for (std::uint64_t id = 0; id < patterns.size(); ++id) {
        if (bound[id] && reference_match(pattern_words_of[id], 0, words, 0)) {
          expected.push_back(queue(id));
        }
      }
      INFO("key '" << key << "'");
      // Exact: each matching binding yielded exactly once.
      REQUIRE(routed(*table, key) == expected);
    }
  };

  std::vector<bool> bound(patterns.size(), true);
  check_keys(bound, 3000);

  // Unbind a random half (pruning the trie), then check again.
  for (std::uint64_t id = 0; id < patterns.size(); ++id) {
    if (rng() % 2 == 0) {
      REQUIRE(table->unbind(binding(queue(id), patterns[id])));
      bound[id] = false;
    }
  }
  check_keys(bound, 2000);

  // Rebind some on the pruned trie.
  for (std::uint64_t id = 0; id < patterns.size(); id += 3) {
    if (!bound[id]) {
      REQUIRE(table->bind(binding(queue(id), patterns[id])));
      bound[id] = true;
    }
  }
  check_keys(bound, 1000);

  for (std::uint64_t id = 0; id < patterns.size(); ++id) {
    if (bound[id]) table->unbind_all(queue(id));
  }
  CHECK(table->size() == 0);
  CHECK(routed(*table, "a.b").empty());
  CHECK(routed(*table, "").empty());
}

TEST_CASE("topic: interleaved binds, unbinds and unbind_all agree with a model",
          "[routing][topic][random]") {
  std::mt19937_64 rng(99);
  const std::vector<std::string> pattern_words{"a", "b", "", "*", "#"};
  const std::vector<std::string> key_words{"a", "b", ""};
  auto table = make_topic_table();
  std::set<std::pair<std::uint64_t, std::string>> model;  // (queue, pattern)
  for (int op = 0; op < 20000; ++op) {
    const std::uint64_t q = rng() % 8;
    const std::string pattern = random_key(rng, pattern_words, 4);
    const auto roll = rng() % 100;
    if (roll < 55) {
      REQUIRE(table->bind(binding(queue(q), pattern)) == model.emplace(q, pattern).second);
    } else if (roll < 99) {
      REQUIRE(table->unbind(binding(queue(q), pattern)) == (model.erase({q, pattern}) == 1));
    } else {
      table->unbind_all(queue(q));
      std::erase_if(model, [q](const auto& entry) { return entry.first == q; });
    }
    REQUIRE(table->size() == model.size());
    if (op % 20 == 0) {
      const std::string key = random_key(rng, key_words, 5);
      Dests expected;
      for (const auto& [id, p] : model) {
        if (reference_match(p, key)) expected.push_back(queue(id));
      }
      std::sort(expected.begin(), expected.end());
      INFO("op " << op << " key '" << key << "'");
      REQUIRE(routed(*table, key) == expected);
    }
  }
}

TEST_CASE("topic: many bindings per pattern, shared prefixes, unbind prunes", "[routing][topic]") {
  auto table = make_topic_table();
  REQUIRE(table->bind(binding(queue(1), "a.b.c")));
  REQUIRE(table->bind(binding(queue(2), "a.b.c")));
  REQUIRE(table->bind(binding(queue(3), "a.b")));
  REQUIRE(table->bind(binding(queue(4), "a.#")));
  REQUIRE(table->bind(binding(exchange(1), "a.*.c")));
  CHECK(routed(*table, "a.b.c") == Dests{queue(1), queue(2), queue(4), exchange(1)});
  CHECK(routed(*table, "a.b") == Dests{queue(3), queue(4)});

  REQUIRE(table->unbind(binding(queue(1), "a.b.c")));
  REQUIRE(table->unbind(binding(queue(2), "a.b.c")));
  CHECK(routed(*table, "a.b.c") == Dests{queue(4), exchange(1)});
  CHECK(routed(*table, "a.b") == Dests{queue(3), queue(4)});  // the shared prefix survives
  REQUIRE(table->unbind(binding(queue(3), "a.b")));
  REQUIRE(table->unbind(binding(queue(4), "a.#")));
  table->unbind_all(exchange(1));
  CHECK(table->size() == 0);
  CHECK(routed(*table, "a.b.c").empty());
  REQUIRE(table->bind(binding(queue(5), "a.b.c")));
  CHECK(routed(*table, "a.b.c") == Dests{queue(5)});
}

TEST_CASE("topic: repeated '#' on long keys stays fast", "[routing][topic]") {
  auto table = make_topic_table();
  REQUIRE(table->bind(binding(queue(1), "#.a.#.a.#.a.#.a.#.a.#.b")));
  REQUIRE(table->bind(binding(queue(2), "#.#.#.#.#.#.#.#.#.#.#.#")));
  std::string key = "a";
  for (int i = 0; i < 120; ++i)
    key += ".a";
  // Exponential without memoisation; immediate with it.
  CHECK(routed(*table, key) == Dests{queue(2)});
  CHECK(routed(*table, key + ".b") == Dests{queue(1), queue(2)});
}

TEST_CASE("topic: very deep patterns", "[routing][topic]") {
  auto table = make_topic_table();
  std::string pattern = "w";
  for (int i = 0; i < 5000; ++i)
    pattern += i % 3 == 0 ? ".*" : ".w";
  REQUIRE(table->bind(binding(queue(1), pattern)));
  std::string key = "w";
  for (int i = 0; i < 5000; ++i)
    key += ".w";
  CHECK(routed(*table, key) == Dests{queue(1)});
  // Destroying the table must not recurse 5000 levels deep either.
  table.reset();
}
