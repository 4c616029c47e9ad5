// The registry, and the contract every built-in type shares: binding
// identity, unbind_all, size and for_each.

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "routing_test_support.hpp"
#include "warren/routing/exchange_type_registry.hpp"

using namespace warren::routing;
using namespace warren::routing::test;
using warren::protocol::FieldTable;
using warren::protocol::FieldValue;

TEST_CASE("builtin registry knows the four AMQP types", "[routing][registry]") {
  const ExchangeTypeRegistry& registry = ExchangeTypeRegistry::builtin();
  for (const char* name : {"direct", "fanout", "topic", "headers"}) {
    CHECK(registry.contains(name));
    auto a = registry.create(name);
    auto b = registry.create(name);
    REQUIRE(a != nullptr);
    CHECK(a != b);  // a fresh table per exchange
    CHECK(a->size() == 0);
  }
  CHECK_FALSE(registry.contains("x-consistent-hash"));
  CHECK(registry.create("x-consistent-hash") == nullptr);
  CHECK_FALSE(registry.contains("Direct"));
  CHECK(&registry == &ExchangeTypeRegistry::builtin());
}

TEST_CASE("registry accepts new types and replaces by name", "[routing][registry]") {
  ExchangeTypeRegistry registry;
  CHECK_FALSE(registry.contains("direct"));
  int made = 0;
  registry.add("x-custom", [&made] {
    ++made;
    return ExchangeTypeRegistry::builtin().create("fanout");
  });
  REQUIRE(registry.contains("x-custom"));
  CHECK(registry.create("x-custom") != nullptr);
  CHECK(made == 1);
  registry.add("x-custom", [] { return std::unique_ptr<BindingTable>(); });
  CHECK(registry.create("x-custom") == nullptr);
  CHECK(made == 1);
}

namespace {

std::vector<Binding> all_bindings(const BindingTable& table) {
  std::vector<Binding> out;
  table.for_each([&out](const Binding& b) { out.push_back(b); });
  return out;
}

}  // namespace

TEST_CASE("every type identifies a binding by destination, key and arguments",
          "[routing][registry][identity]") {
  const std::string type = GENERATE("direct", "fanout", "topic", "headers");
  INFO("type " << type);
  auto table = ExchangeTypeRegistry::builtin().create(type);
  REQUIRE(table);

  const FieldTable ab{{"a", std::int32_t{1}}, {"b", str("x")}};
  const FieldTable ba{{"b", str("x")}, {"a", std::int32_t{1}}};
  const FieldTable a_long{{"a", std::int64_t{1}}, {"b", str("x")}};

  CHECK(table->bind(binding(queue(1), "k", ab)));
  CHECK_FALSE(table->bind(binding(queue(1), "k", ab)));
  CHECK_FALSE(table->bind(binding(queue(1), "k", ba)));  // argument order is not identity
  CHECK(table->bind(binding(queue(1), "k", a_long)));    // argument types are
  CHECK(table->bind(binding(queue(1), "k")));
  CHECK(table->bind(binding(queue(1), "k2", ab)));
  CHECK(table->bind(binding(queue(2), "k", ab)));
  CHECK(table->bind(binding(exchange(1), "k", ab)));  // a queue and an exchange may share ids
  CHECK(table->size() == 6);

  CHECK_FALSE(table->unbind(binding(queue(1), "k", {{"a", std::int32_t{2}}})));
  CHECK_FALSE(table->unbind(binding(queue(3), "k", ab)));
  CHECK_FALSE(table->unbind(binding(queue(1), "k3", ab)));
  CHECK(table->unbind(binding(queue(1), "k", ba)));
  CHECK_FALSE(table->unbind(binding(queue(1), "k", ab)));
  CHECK(table->size() == 5);

  // for_each reports arguments in RabbitMQ's stored (sorted) order.
  for (const Binding& b : all_bindings(*table)) {
    if (b.arguments.size() == 2) {
      CHECK(b.arguments[0].name == "a");
      CHECK(b.arguments[1].name == "b");
    }
  }

  table->unbind_all(queue(1));
  CHECK(table->size() == 2);
  std::vector<Binding> left = all_bindings(*table);
  REQUIRE(left.size() == 2);
  for (const Binding& b : left)
    CHECK((b.destination == queue(2) || b.destination == exchange(1)));
  table->unbind_all(queue(1));  // nothing left to remove: harmless
  table->unbind_all(exchange(1));
  CHECK(table->size() == 1);
  CHECK(table->unbind(binding(queue(2), "k", ab)));
  CHECK(table->size() == 0);
  CHECK(all_bindings(*table).empty());
}

TEST_CASE("every type survives many bindings, unbind_all and rebinding",
          "[routing][registry][identity]") {
  const std::string type = GENERATE("direct", "fanout", "topic", "headers");
  INFO("type " << type);
  auto table = ExchangeTypeRegistry::builtin().create(type);
  for (std::uint64_t i = 0; i < 2000; ++i) {
    FieldTable args{{"n", std::int64_t(i % 7)}};
    REQUIRE(table->bind(binding(queue(i % 13), "a." + std::to_string(i % 37), args)));
  }
  CHECK(table->size() == 2000);
  for (std::uint64_t q = 0; q < 13; q += 2)
    table->unbind_all(queue(q));
  std::size_t expected = 0;
  for (std::uint64_t i = 0; i < 2000; ++i)
    expected += (i % 13) % 2 == 1;
  CHECK(table->size() == expected);
  for (std::uint64_t i = 0; i < 2000; ++i) {
    FieldTable args{{"n", std::int64_t(i % 7)}};
    const bool present = (i % 13) % 2 == 1;
    CHECK(table->unbind(binding(queue(i % 13), "a." + std::to_string(i % 37), args)) == present);
  }
  CHECK(table->size() == 0);
  std::vector<Destination> out;
  table->route("a.1", nullptr, out);
  CHECK(out.empty());
}
