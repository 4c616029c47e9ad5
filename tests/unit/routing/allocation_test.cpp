// route() must not allocate once its scratch space has grown. This file
// replaces the global operator new of the test binary to count allocations.

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string_view>
#include <vector>

#include "routing_test_support.hpp"
#include "warren/routing/exchange_type_registry.hpp"
#include "warren/routing/router.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

// Every replaceable non-aligned form, so that all of them pair malloc with free.
void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

using namespace warren::routing;
using namespace warren::routing::test;
using warren::protocol::FieldTable;

TEST_CASE("route allocates nothing in the steady state", "[routing][router][alloc]") {
  const ExchangeTypeRegistry& types = ExchangeTypeRegistry::builtin();
  Router router;
  router.add_exchange(1, types.create("topic"), 5);
  router.add_exchange(2, types.create("direct"));
  router.add_exchange(3, types.create("fanout"));
  router.add_exchange(4, types.create("headers"));
  router.add_exchange(5, types.create("fanout"));
  for (std::uint64_t q = 0; q < 200; ++q) {
    REQUIRE(router.table(1)->bind(binding(queue(q), "a." + std::to_string(q % 20) + ".#")));
    REQUIRE(router.table(2)->bind(binding(queue(q), "k" + std::to_string(q % 10))));
    REQUIRE(router.table(4)->bind(binding(queue(q), "", {{"n", std::int32_t(q % 5)}})));
  }
  for (std::uint64_t q = 300; q < 320; ++q) {
    REQUIRE(router.table(2)->bind(binding(queue(q), "a.3.k1")));
  }
  REQUIRE(router.table(1)->bind(binding(exchange(2), "*.*.k1")));
  REQUIRE(router.table(1)->bind(binding(exchange(3), "#.fan")));
  REQUIRE(router.table(3)->bind(binding(queue(500), "")));
  REQUIRE(router.table(3)->bind(binding(exchange(1), "")));
  REQUIRE(router.table(5)->bind(binding(queue(600), "")));
  REQUIRE(router.table(5)->bind(binding(exchange(4), "")));
  const FieldTable headers{{"z", str("z")}, {"n", std::int32_t{3}}, {"m", true}};

  struct Case {
    std::uint64_t exchange;
    std::string_view key;
    const FieldTable* headers;
    std::size_t queues;
  };
  const Case cases[] = {
      {1, "a.3.x", nullptr, 10},   {1, "a.3.k1", nullptr, 30},    // e2e to direct
      {1, "a.3.fan", nullptr, 11}, {1, "nothing", &headers, 41},  // AE -> fanout -> headers
      {2, "k7", nullptr, 20},      {3, "b", nullptr, 2},
      {4, "", &headers, 40},       {4, "", nullptr, 0},
  };
  std::vector<std::uint64_t> out;
  out.reserve(1024);
  for (int warm_up = 0; warm_up < 2; ++warm_up) {
    for (const Case& c : cases) {
      router.route(c.exchange, c.key, c.headers, out);
      INFO("exchange " << c.exchange << " key " << c.key);
      CHECK(out.size() == c.queues);
    }
  }
  const std::size_t before = allocations.load();
  std::size_t routed_queues = 0;
  for (int i = 0; i < 1000; ++i) {
    for (const Case& c : cases) {
      router.route(c.exchange, c.key, c.headers, out);
      routed_queues += out.size();
    }
  }
  const std::size_t after = allocations.load();
  CHECK(after == before);
  CHECK(routed_queues > 0);
}
