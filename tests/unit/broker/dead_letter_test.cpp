// x-death bookkeeping without sockets: the history RabbitMQ 3.10 writes
// (checked against a real 3.10 by tests/interop/python/test_pika_dead_letter.py).

#include "dead_letter.hpp"

#include <catch2/catch.hpp>
#include <memory>

#include "warren/protocol/properties.hpp"

namespace {

using warren::broker::Message;
using warren::protocol::BasicProperties;
using warren::protocol::FieldArray;
using warren::protocol::FieldTable;
using warren::protocol::find_field;

BasicProperties properties_of(const Message& m) {
  BasicProperties props;
  REQUIRE(warren::protocol::decode_properties(m.properties, props));
  return props;
}

// Message is not copyable (it accounts for its memory), so tests hold it shared.
std::shared_ptr<Message> original(std::optional<std::string> expiration = std::nullopt) {
  auto made = std::make_shared<Message>();
  Message& m = *made;
  m.exchange = "ex";
  m.routing_key = "rk";
  BasicProperties props;
  props.headers = FieldTable{{"app", std::string("v")}};
  props.expiration = std::move(expiration);
  warren::protocol::Encoder enc(m.properties);
  warren::protocol::encode_properties(props, enc);
  m.body = {'b'};
  m.body_size = 1;
  return made;
}

const FieldArray& deaths_of(const BasicProperties& props) {
  const auto* v = find_field(*props.headers, "x-death");
  REQUIRE(v != nullptr);
  REQUIRE(v->as_array() != nullptr);
  return *v->as_array();
}

TEST_CASE("first death writes one entry and the x-first-death headers") {
  auto copy = warren::broker::dead_lettered_copy(*original("500"), "q1", "expired", "dlx",
                                                 std::string("dlk"));
  REQUIRE(copy);
  CHECK(copy->exchange == "dlx");
  CHECK(copy->routing_key == "dlk");
  CHECK(copy->body == original()->body);
  BasicProperties props = properties_of(*copy);
  CHECK_FALSE(props.expiration.has_value());  // moved into the history
  const FieldArray& deaths = deaths_of(props);
  REQUIRE(deaths.size() == 1);
  const FieldTable& d = *deaths[0].as_table();
  CHECK(find_field(d, "count")->type_letter() == 'l');  // 64-bit signed, as 3.10
  CHECK(*find_field(d, "count")->as_int() == 1);
  CHECK(*find_field(d, "reason")->as_string() == "expired");
  CHECK(*find_field(d, "queue")->as_string() == "q1");
  CHECK(*find_field(d, "exchange")->as_string() == "ex");
  CHECK(*find_field(d, "original-expiration")->as_string() == "500");
  CHECK(find_field(d, "time")->type_letter() == 'T');
  CHECK(*find_field(*props.headers, "x-first-death-reason")->as_string() == "expired");
  CHECK(*find_field(*props.headers, "x-first-death-queue")->as_string() == "q1");
  CHECK(*find_field(*props.headers, "app")->as_string() == "v");
}

TEST_CASE("a repeat death in the same queue bumps the count and moves to the front") {
  auto once = warren::broker::dead_lettered_copy(*original(), "q1", "rejected", "", std::nullopt);
  once->exchange = "ex";  // back through the same exchange
  auto other = warren::broker::dead_lettered_copy(*once, "q2", "rejected", "", std::nullopt);
  other->exchange = "ex";
  auto again = warren::broker::dead_lettered_copy(*other, "q1", "rejected", "", std::nullopt);
  CHECK(again->routing_key == "rk");  // no DLX routing key: the original one
  const BasicProperties props = properties_of(*again);
  const FieldArray& deaths = deaths_of(props);
  REQUIRE(deaths.size() == 2);
  CHECK(*find_field(*deaths[0].as_table(), "queue")->as_string() == "q1");
  CHECK(*find_field(*deaths[0].as_table(), "count")->as_int() == 2);
  CHECK(*find_field(*deaths[1].as_table(), "queue")->as_string() == "q2");
  // The first death stays the first.
  CHECK(*find_field(*props.headers, "x-first-death-queue")->as_string() == "q1");
}

TEST_CASE("cycle rule: back into a queue it died in, with no rejection, is a cycle") {
  auto expired = warren::broker::dead_lettered_copy(*original(), "q1", "expired", "", std::nullopt);
  BasicProperties props = properties_of(*expired);
  CHECK(warren::broker::dead_letter_cycle(&*props.headers, "q1"));
  CHECK_FALSE(warren::broker::dead_letter_cycle(&*props.headers, "q2"));
  auto rejected =
      warren::broker::dead_lettered_copy(*original(), "q1", "rejected", "", std::nullopt);
  BasicProperties rprops = properties_of(*rejected);
  CHECK_FALSE(warren::broker::dead_letter_cycle(&*rprops.headers, "q1"));
  CHECK_FALSE(warren::broker::dead_letter_cycle(nullptr, "q1"));
}

}  // namespace
