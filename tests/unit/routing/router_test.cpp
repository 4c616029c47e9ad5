#include "warren/routing/router.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "routing_test_support.hpp"
#include "warren/routing/exchange_type_registry.hpp"

using namespace warren::routing;
using namespace warren::routing::test;
using warren::protocol::FieldTable;
using Ids = std::vector<std::uint64_t>;

namespace {

std::unique_ptr<BindingTable> make(std::string_view type) {
  auto table = ExchangeTypeRegistry::builtin().create(type);
  REQUIRE(table);
  return table;
}

Ids route(const Router& router, std::uint64_t exchange_id, std::string_view key,
          const FieldTable* headers = nullptr) {
  Ids out{999};  // route() clears it first
  router.route(exchange_id, key, headers, out);
  // Each queue once.
  REQUIRE(std::set<std::uint64_t>(out.begin(), out.end()).size() == out.size());
  return sorted(out);
}

void bind(Router& router, std::uint64_t source, Destination destination, std::string key) {
  REQUIRE(router.table(source)->bind(binding(destination, std::move(key))));
}

}  // namespace

TEST_CASE("router: single exchange, unknown exchange", "[routing][router]") {
  Router router;
  router.add_exchange(1, make("direct"));
  bind(router, 1, queue(10), "k");
  bind(router, 1, queue(11), "k");
  bind(router, 1, queue(12), "other");
  CHECK(route(router, 1, "k") == Ids{10, 11});
  CHECK(route(router, 1, "nope").empty());
  CHECK(route(router, 2, "k").empty());
  CHECK(router.table(2) == nullptr);
  CHECK(router.contains(1));
  CHECK_FALSE(router.contains(2));
  CHECK_THROWS_AS(router.add_exchange(3, nullptr), std::invalid_argument);
  CHECK_FALSE(router.contains(3));
  const Router& const_router = router;
  CHECK(const_router.table(1) == router.table(1));
}

TEST_CASE("router: exchange-to-exchange chains", "[routing][router][e2e]") {
  Router router;
  router.add_exchange(1, make("topic"));
  router.add_exchange(2, make("fanout"));
  router.add_exchange(3, make("direct"));
  router.add_exchange(4, make("headers"));
  bind(router, 1, exchange(2), "logs.#");
  bind(router, 1, queue(10), "logs.error");
  bind(router, 2, exchange(3), "");
  bind(router, 2, queue(20), "");
  bind(router, 3, queue(30), "logs.error");
  bind(router, 3, exchange(4), "logs.info");
  REQUIRE(router.table(4)->bind(binding(queue(40), "", {{"level", str("info")}})));

  CHECK(route(router, 1, "logs.error") == Ids{10, 20, 30});
  CHECK(route(router, 1, "logs.debug") == Ids{20});
  CHECK(route(router, 1, "metrics").empty());
  const FieldTable info{{"level", str("info")}};
  CHECK(route(router, 1, "logs.info", &info) == Ids{20, 40});
  CHECK(route(router, 1, "logs.info") == Ids{20});
  CHECK(route(router, 3, "logs.error") == Ids{30});
}

TEST_CASE("router: cycles and diamonds visit each exchange once, each queue once",
          "[routing][router][e2e]") {
  Router router;
  for (std::uint64_t id = 1; id <= 4; ++id)
    router.add_exchange(id, make("fanout"));
  bind(router, 1, exchange(2), "");
  bind(router, 1, exchange(3), "");
  bind(router, 2, exchange(4), "");
  bind(router, 3, exchange(4), "");
  bind(router, 4, exchange(1), "");  // back to the start
  bind(router, 4, exchange(4), "");  // and to itself
  bind(router, 2, queue(7), "");
  bind(router, 3, queue(7), "");
  bind(router, 4, queue(8), "");
  bind(router, 4, queue(7), "");
  for (std::uint64_t start = 1; start <= 4; ++start) {
    CHECK(route(router, start, "") == Ids{7, 8});
  }
}

TEST_CASE("router: alternate exchange takes what an exchange's bindings do not",
          "[routing][router][ae]") {
  Router router;
  router.add_exchange(1, make("direct"), 2);
  router.add_exchange(2, make("fanout"));
  bind(router, 1, queue(10), "known");
  bind(router, 2, queue(20), "");
  CHECK(router.alternate(1) == std::optional<std::uint64_t>(2));
  CHECK(router.alternate(2) == std::nullopt);

  CHECK(route(router, 1, "known") == Ids{10});
  CHECK(route(router, 1, "unknown") == Ids{20});

  SECTION("a missing alternate exchange is ignored") {
    router.remove_exchange(2);
    CHECK(route(router, 1, "unknown").empty());
    CHECK(route(router, 1, "known") == Ids{10});
    // It may appear later (or again) under that id.
    router.add_exchange(2, make("fanout"));
    bind(router, 2, queue(21), "");
    CHECK(route(router, 1, "unknown") == Ids{21});
  }
  SECTION("set_alternate changes and clears it") {
    router.add_exchange(3, make("fanout"));
    bind(router, 3, queue(30), "");
    CHECK(router.set_alternate(1, 3));
    CHECK(route(router, 1, "unknown") == Ids{30});
    CHECK(router.set_alternate(1, std::nullopt));
    CHECK(route(router, 1, "unknown").empty());
    CHECK_FALSE(router.set_alternate(42, 3));
  }
  SECTION("alternate chains and alternate cycles") {
    router.add_exchange(1, make("direct"), 2);  // replaced: no bindings now
    router.add_exchange(2, make("direct"), 3);
    router.add_exchange(3, make("direct"), 1);  // cycle back
    bind(router, 3, queue(30), "k3");
    CHECK(route(router, 1, "k3") == Ids{30});
    CHECK(route(router, 1, "zzz").empty());
    CHECK(route(router, 2, "k3") == Ids{30});
  }
  SECTION("an exchange that routes to itself has matched: no alternate") {
    bind(router, 1, exchange(1), "self");
    CHECK(route(router, 1, "self").empty());
  }
}

TEST_CASE("router: alternates of exchange-bound exchanges", "[routing][router][ae][e2e]") {
  // 1 --k--> 2 (AE 3) ; 1 has AE 4.
  Router router;
  router.add_exchange(1, make("direct"), 4);
  router.add_exchange(2, make("direct"), 3);
  router.add_exchange(3, make("fanout"));
  router.add_exchange(4, make("fanout"));
  bind(router, 1, exchange(2), "k");
  bind(router, 2, queue(20), "only-this");
  bind(router, 3, queue(30), "");
  bind(router, 4, queue(40), "");

  // 1 matched (it reached exchange 2), so its AE is not used; 2 matched
  // nothing, so 2's AE is.
  CHECK(route(router, 1, "k") == Ids{30});
  CHECK(route(router, 1, "other") == Ids{40});
  CHECK(route(router, 2, "only-this") == Ids{20});

  SECTION("reaching an exchange that routes nowhere still counts as a match") {
    router.set_alternate(2, std::nullopt);
    CHECK(route(router, 1, "k").empty());
  }
  SECTION("so does a binding to an unknown exchange") {
    bind(router, 1, exchange(99), "to-nowhere");
    CHECK(route(router, 1, "to-nowhere").empty());
  }
  SECTION("an alternate already visited is not routed through twice") {
    router.set_alternate(2, 1);  // 1 -> 2 -> AE 1 (visited)
    bind(router, 1, queue(10), "k");
    CHECK(route(router, 1, "k") == Ids{10});
    CHECK(route(router, 2, "k") == Ids{10});  // 2 -> AE 1 -> 2 (visited) + q10
  }
  SECTION("a queue reached through both bindings and alternates appears once") {
    bind(router, 2, queue(30), "k");
    bind(router, 1, exchange(3), "k");
    CHECK(route(router, 1, "k") == Ids{30});
  }
}

TEST_CASE("router: several routing keys (CC/BCC) decide the alternate together",
          "[routing][router][ae]") {
  Router router;
  router.add_exchange(1, make("direct"), 2);
  router.add_exchange(2, make("fanout"));
  router.add_exchange(3, make("direct"));
  bind(router, 1, queue(10), "a");
  bind(router, 1, exchange(3), "c");
  bind(router, 2, queue(20), "");
  bind(router, 3, queue(30), "c");
  bind(router, 3, queue(31), "b");

  std::vector<std::uint64_t> out;
  const std::string_view a_and_b[] = {"a", "b"};
  router.route(1, a_and_b, nullptr, out);
  CHECK(sorted(out) == Ids{10});
  const std::string_view b_only[] = {"b"};
  router.route(1, b_only, nullptr, out);
  CHECK(sorted(out) == Ids{20});
  // Downstream exchanges see every key.
  const std::string_view c_and_b[] = {"c", "b"};
  router.route(1, c_and_b, nullptr, out);
  CHECK(sorted(out) == Ids{30, 31});
  router.route(1, std::span<const std::string_view>(), nullptr, out);
  CHECK(out.empty());
}

TEST_CASE("router: removing queues and exchanges removes bindings to them", "[routing][router]") {
  Router router;
  router.add_exchange(1, make("topic"));
  router.add_exchange(2, make("fanout"));
  bind(router, 1, queue(10), "#");
  bind(router, 1, exchange(2), "#");
  bind(router, 2, queue(10), "");
  bind(router, 2, queue(20), "");
  CHECK(route(router, 1, "x") == Ids{10, 20});

  router.remove_queue(10);
  CHECK(router.table(1)->size() == 1);
  CHECK(router.table(2)->size() == 1);
  CHECK(route(router, 1, "x") == Ids{20});

  router.remove_exchange(2);
  CHECK(router.table(2) == nullptr);
  CHECK(router.table(1)->size() == 0);
  CHECK(route(router, 1, "x").empty());
  router.remove_exchange(2);  // twice: harmless
  router.remove_queue(12345);
}

namespace {

// RabbitMQ's rabbit_exchange:route1/3, transcribed directly: a work list,
// a seen set, and AlternateDests ++ ExchangeDests folded in.
struct ReferenceGraph {
  struct Exchange {
    std::multimap<std::string, Destination> bindings;  // direct
    std::optional<std::uint64_t> alternate;
  };
  std::map<std::uint64_t, Exchange> exchanges;

  Ids route(std::uint64_t start, const std::string& key) const {
    std::set<std::uint64_t> queues;
    if (!exchanges.count(start)) return {};
    std::vector<std::uint64_t> work{start};
    std::set<std::uint64_t> seen{start};
    while (!work.empty()) {
      const std::uint64_t x = work.back();
      work.pop_back();
      const Exchange& e = exchanges.at(x);
      std::vector<Destination> dests;
      auto [lo, hi] = e.bindings.equal_range(key);
      for (auto it = lo; it != hi; ++it)
        dests.push_back(it->second);
      if (dests.empty() && e.alternate) dests.push_back(exchange(*e.alternate));
      for (const Destination& d : dests) {
        if (d.kind == DestinationKind::kQueue) {
          queues.insert(d.id);
        } else if (seen.insert(d.id).second && exchanges.count(d.id)) {
          work.push_back(d.id);
        }
      }
    }
    return Ids(queues.begin(), queues.end());
  }
};

}  // namespace

TEST_CASE("router agrees with a transcription of RabbitMQ's route on random graphs",
          "[routing][router][random]") {
  std::mt19937_64 rng(7);
  const std::vector<std::string> keys{"a", "b", "c"};
  for (int graph = 0; graph < 200; ++graph) {
    ReferenceGraph reference;
    Router router;
    const std::uint64_t exchange_count = 2 + rng() % 12;
    for (std::uint64_t x = 0; x < exchange_count; ++x) {
      std::optional<std::uint64_t> alternate;
      // Sometimes an id that does not exist.
      if (rng() % 3 == 0) alternate = rng() % (exchange_count + 2);
      reference.exchanges[x].alternate = alternate;
      router.add_exchange(x, make("direct"), alternate);
    }
    const int binding_count = static_cast<int>(rng() % (3 * exchange_count));
    for (int i = 0; i < binding_count; ++i) {
      const std::uint64_t source = rng() % exchange_count;
      const Destination d = rng() % 2 ? queue(rng() % 6) : exchange(rng() % (exchange_count + 1));
      const std::string& key = keys[rng() % keys.size()];
      if (router.table(source)->bind(binding(d, key))) {
        reference.exchanges[source].bindings.emplace(key, d);
      }
    }
    for (std::uint64_t x = 0; x < exchange_count; ++x) {
      for (const std::string& key : keys) {
        INFO("graph " << graph << " exchange " << x << " key " << key);
        CHECK(route(router, x, key) == reference.route(x, key));
      }
    }
  }
}

TEST_CASE("router: routers route concurrently on distinct threads", "[routing][router][threads]") {
  auto build = [](Router& router) {
    router.add_exchange(1, make("topic"), 2);
    router.add_exchange(2, make("fanout"));
    for (std::uint64_t q = 0; q < 100; ++q) {
      REQUIRE(router.table(1)->bind(binding(queue(q), "k." + std::to_string(q % 10) + ".#")));
    }
    REQUIRE(router.table(2)->bind(binding(queue(1000), "")));
  };
  Router first;
  Router second;
  build(first);
  build(second);
  auto work = [](const Router& router, int* mismatches) {
    std::vector<std::uint64_t> out;
    for (int i = 0; i < 20000; ++i) {
      const std::string key = i % 11 == 10 ? "none" : "k." + std::to_string(i % 10) + ".x";
      router.route(1, key, nullptr, out);
      const std::size_t expected = i % 11 == 10 ? 1 : 10;
      if (out.size() != expected) ++*mismatches;
    }
  };
  int mismatches_first = 0;
  int mismatches_second = 0;
  std::thread t1(work, std::cref(first), &mismatches_first);
  std::thread t2(work, std::cref(second), &mismatches_second);
  t1.join();
  t2.join();
  CHECK(mismatches_first == 0);
  CHECK(mismatches_second == 0);

  // Readers only: both threads on one router.
  std::thread t3(work, std::cref(first), &mismatches_first);
  std::thread t4(work, std::cref(first), &mismatches_second);
  t3.join();
  t4.join();
  CHECK(mismatches_first == 0);
  CHECK(mismatches_second == 0);
}

TEST_CASE("router: holding exchanges are reported, not routed through, when asked",
          "[routing][router][e2e]") {
  Router router;
  router.add_exchange(1, make("direct"));
  router.add_exchange(2, make("fanout"));  // holds (a delayed exchange)
  router.add_exchange(3, make("fanout"));  // the alternate of 4, holds
  router.add_exchange(4, make("direct"), 3);
  bind(router, 1, exchange(2), "k");
  bind(router, 1, queue(10), "k");
  bind(router, 2, queue(20), "");
  bind(router, 3, queue(30), "");
  CHECK(router.set_holding(2, true));
  CHECK(router.set_holding(3, true));
  CHECK_FALSE(router.set_holding(99, true));

  Ids queues, held{999};
  router.route(1, "k", nullptr, queues, &held);
  CHECK(sorted(queues) == Ids{10});
  CHECK(held == Ids{2});
  // Without `held_out` the holding flag changes nothing.
  CHECK(route(router, 1, "k") == Ids{10, 20});
  // The origin is always routed through, and alternates can hold too.
  router.route(2, "any", nullptr, queues, &held);
  CHECK(queues == Ids{20});
  CHECK(held.empty());
  router.route(4, "unbound", nullptr, queues, &held);
  CHECK(queues.empty());
  CHECK(held == Ids{3});
  CHECK(router.set_holding(2, false));
  router.route(1, "k", nullptr, queues, &held);
  CHECK(sorted(queues) == Ids{10, 20});
  CHECK(held.empty());
}
