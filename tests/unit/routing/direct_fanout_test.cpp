#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "routing_test_support.hpp"
#include "warren/routing/exchange_types.hpp"

using namespace warren::routing;
using namespace warren::routing::test;
using warren::protocol::FieldTable;
using Dests = std::vector<Destination>;

TEST_CASE("direct routes on exact key equality", "[routing][direct]") {
  auto table = make_direct_table();
  REQUIRE(table->bind(binding(queue(1), "orders")));
  REQUIRE(table->bind(binding(queue(2), "orders")));
  REQUIRE(table->bind(binding(queue(2), "audit")));
  REQUIRE(table->bind(binding(exchange(7), "")));

  CHECK(routed(*table, "orders") == Dests{queue(1), queue(2)});
  CHECK(routed(*table, "audit") == Dests{queue(2)});
  CHECK(routed(*table, "") == Dests{exchange(7)});
  CHECK(routed(*table, "Orders").empty());
  CHECK(routed(*table, "orders.eu").empty());
  CHECK(routed(*table, "order").empty());
  CHECK(table->size() == 4);
}

TEST_CASE("direct ignores headers and treats '*' and '#' literally", "[routing][direct]") {
  auto table = make_direct_table();
  REQUIRE(table->bind(binding(queue(1), "#")));
  REQUIRE(table->bind(binding(queue(2), "a.*")));
  FieldTable headers{{"x-match", str("any")}};
  CHECK(routed(*table, "#", &headers) == Dests{queue(1)});
  CHECK(routed(*table, "a.b").empty());
  CHECK(routed(*table, "a.*") == Dests{queue(2)});
}

TEST_CASE("direct unbind removes one binding and the empty key bucket", "[routing][direct]") {
  auto table = make_direct_table();
  REQUIRE(table->bind(binding(queue(1), "k")));
  REQUIRE(table->bind(binding(queue(2), "k")));
  REQUIRE(table->bind(binding(queue(3), "k")));
  REQUIRE(table->unbind(binding(queue(1), "k")));
  CHECK(routed(*table, "k") == Dests{queue(2), queue(3)});
  REQUIRE(table->unbind(binding(queue(3), "k")));
  REQUIRE(table->unbind(binding(queue(2), "k")));
  CHECK(routed(*table, "k").empty());
  CHECK(table->size() == 0);
  REQUIRE(table->bind(binding(queue(2), "k")));
  CHECK(routed(*table, "k") == Dests{queue(2)});
}

TEST_CASE("direct: one destination bound with two argument sets is yielded twice",
          "[routing][direct]") {
  auto table = make_direct_table();
  REQUIRE(table->bind(binding(queue(1), "k")));
  REQUIRE(table->bind(binding(queue(1), "k", {{"a", std::int32_t{1}}})));
  CHECK(routed(*table, "k") == Dests{queue(1), queue(1)});
}

TEST_CASE("fanout routes every binding whatever the key", "[routing][fanout]") {
  auto table = make_fanout_table();
  CHECK(routed(*table, "any").empty());
  REQUIRE(table->bind(binding(queue(1), "")));
  REQUIRE(table->bind(binding(queue(2), "ignored")));
  REQUIRE(table->bind(binding(exchange(3), "#")));
  CHECK(routed(*table, "whatever") == Dests{queue(1), queue(2), exchange(3)});
  CHECK(routed(*table, "") == Dests{queue(1), queue(2), exchange(3)});
  REQUIRE(table->unbind(binding(queue(2), "ignored")));
  CHECK_FALSE(table->unbind(binding(queue(2), "ignored")));
  CHECK_FALSE(table->unbind(binding(queue(1), "other-key")));
  CHECK(routed(*table, "x") == Dests{queue(1), exchange(3)});
}

TEST_CASE("fanout unbind_all keeps the other destinations' slots right", "[routing][fanout]") {
  auto table = make_fanout_table();
  for (std::uint64_t id = 0; id < 50; ++id) {
    REQUIRE(table->bind(binding(queue(id % 5), "k" + std::to_string(id))));
  }
  table->unbind_all(queue(0));
  table->unbind_all(queue(3));
  CHECK(table->size() == 30);
  CHECK(routed_set(*table, "") == Dests{queue(1), queue(2), queue(4)});
  // Every remaining binding can still be removed individually.
  for (std::uint64_t id = 0; id < 50; ++id) {
    const bool present = id % 5 != 0 && id % 5 != 3;
    CHECK(table->unbind(binding(queue(id % 5), "k" + std::to_string(id))) == present);
  }
  CHECK(table->size() == 0);
  CHECK(routed(*table, "").empty());
}
