#include "warren/client/message.hpp"

#include <catch2/catch.hpp>

using namespace warren::client;
using namespace warren::protocol;

TEST_CASE("Message builders set properties", "[message]") {
  Message m("hi");
  m.persistent().message_id("id-1").content_type("text/plain").header("k", std::string("v"));
  m.ttl(std::chrono::seconds(2));
  CHECK(m.properties.delivery_mode == 2);
  CHECK(m.properties.message_id == "id-1");
  CHECK(m.properties.expiration == "2000");
  REQUIRE(m.properties.headers);
  CHECK(*find_field(*m.properties.headers, "k")->as_string() == "v");
  m.header("k", std::int64_t{3});
  CHECK(m.properties.headers->size() == 1);
}

TEST_CASE("Delivery exposes x-delivery-count and x-death", "[message]") {
  Delivery d;
  CHECK(d.delivery_count() == 0);
  CHECK(d.deaths().empty());
  FieldTable death{
      {"count", std::int64_t{2}},     {"reason", std::string("rejected")},
      {"queue", std::string("work")}, {"time", Timestamp{1700000000}},
      {"exchange", std::string("")},  {"routing-keys", FieldArray{std::string("work")}}};
  d.properties.headers =
      FieldTable{{"x-delivery-count", std::int64_t{3}}, {"x-death", FieldArray{death}}};
  CHECK(d.delivery_count() == 3);
  const auto deaths = d.deaths();
  REQUIRE(deaths.size() == 1);
  CHECK(deaths[0].queue == "work");
  CHECK(deaths[0].reason == "rejected");
  CHECK(deaths[0].count == 2);
  CHECK(deaths[0].routing_keys == std::vector<std::string>{"work"});
  CHECK(deaths[0].time == 1700000000u);
}
