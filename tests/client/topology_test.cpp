#include "warren/client/topology.hpp"

#include <catch2/catch.hpp>

using namespace warren::client;
using namespace std::chrono_literals;
using warren::protocol::find_field;

TEST_CASE("QueueSpec writes RabbitMQ's argument names", "[topology]") {
  QueueSpec q;
  q.name = "jobs";
  q.dead_letter_exchange = "";
  q.dead_letter_routing_key = "jobs.dlq";
  q.message_ttl = 60s;
  q.expires = 1h;
  q.max_length = 1000;
  q.max_length_bytes = 1 << 20;
  q.overflow = Overflow::kRejectPublish;
  q.delivery_limit = 5;
  q.retry = RetryPolicy{RetryPolicy::Type::kAll, 1s, 30s, 2.0};
  q.max_priority = 9;
  q.single_active_consumer = true;
  q.extra_arguments.push_back({"x-custom", std::string("v")});
  const auto args = q.arguments();
  CHECK(*find_field(args, "x-dead-letter-exchange")->as_string() == "");
  CHECK(*find_field(args, "x-dead-letter-routing-key")->as_string() == "jobs.dlq");
  CHECK(find_field(args, "x-message-ttl")->as_int() == 60000);
  CHECK(find_field(args, "x-expires")->as_int() == 3600000);
  CHECK(find_field(args, "x-max-length")->as_int() == 1000);
  CHECK(find_field(args, "x-max-length-bytes")->as_int() == 1 << 20);
  CHECK(*find_field(args, "x-overflow")->as_string() == "reject-publish");
  CHECK(find_field(args, "x-delivery-limit")->as_int() == 5);
  CHECK(*find_field(args, "x-delayed-retry-type")->as_string() == "all");
  CHECK(find_field(args, "x-delayed-retry-min")->as_int() == 1000);
  CHECK(find_field(args, "x-delayed-retry-max")->as_int() == 30000);
  CHECK(find_field(args, "x-delayed-retry-multiplier") != nullptr);
  CHECK(find_field(args, "x-max-priority")->as_int() == 9);
  CHECK(find_field(args, "x-single-active-consumer")->as_bool() == true);
  CHECK(*find_field(args, "x-custom")->as_string() == "v");
}

TEST_CASE("An empty QueueSpec has no arguments", "[topology]") {
  CHECK(QueueSpec{}.arguments().empty());
  ExchangeSpec e;
  CHECK(e.arguments().empty());
  e.alternate_exchange = "ae";
  CHECK(*find_field(e.arguments(), "alternate-exchange")->as_string() == "ae");
}
