#include "warren/client/uri.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

using warren::client::Uri;

TEST_CASE("URI defaults", "[uri]") {
  const Uri u = Uri::parse("amqp://");
  CHECK(u.host == "localhost");
  CHECK(u.port == 5672);
  CHECK(u.user == "guest");
  CHECK(u.password == "guest");
  CHECK(u.vhost == "/");
  CHECK_FALSE(u.heartbeat);
}

TEST_CASE("URI with every part", "[uri]") {
  const Uri u = Uri::parse(
      "amqp://us%40er:p%3Ass@broker.example:5673/prod%2Fa?heartbeat=10&frame_max=65536&"
      "channel_max=32&connection_timeout=2500");
  CHECK(u.user == "us@er");
  CHECK(u.password == "p:ss");
  CHECK(u.host == "broker.example");
  CHECK(u.port == 5673);
  CHECK(u.vhost == "prod/a");
  CHECK(u.heartbeat == 10);
  CHECK(u.frame_max == 65536u);
  CHECK(u.channel_max == 32);
  CHECK(u.connection_timeout == std::chrono::milliseconds(2500));
}

TEST_CASE("URI vhost rules (RabbitMQ's)", "[uri]") {
  CHECK(Uri::parse("amqp://h").vhost == "/");
  CHECK(Uri::parse("amqp://h/").vhost == "/");
  CHECK(Uri::parse("amqp://h/%2F").vhost == "/");
  CHECK(Uri::parse("amqp://h/%2f").vhost == "/");
  CHECK(Uri::parse("amqp://h/v").vhost == "v");
}

TEST_CASE("URI hosts and ports", "[uri]") {
  CHECK(Uri::parse("amqp://127.0.0.1:5674").port == 5674);
  CHECK(Uri::parse("amqp://127.0.0.1:5674").host == "127.0.0.1");
  const Uri v6 = Uri::parse("amqp://u:p@[::1]:5680/");
  CHECK(v6.host == "::1");
  CHECK(v6.port == 5680);
  CHECK(Uri::parse("amqp://u@h").password.empty());
  CHECK(Uri::parse("amqp://:5999").host == "localhost");
  CHECK(Uri::parse("amqp://h?heartbeat=0").heartbeat == 0);
}

TEST_CASE("URI errors name the bad part", "[uri]") {
  for (const char* bad :
       {"http://h", "amqps://h", "amqp://h:0", "amqp://h:65536", "amqp://h:x", "amqp://h/%zz",
        "amqp://h/%2", "amqp://h?heartbeat=70000", "amqp://h?nope=1", "amqp://h?heartbeat",
        "amqp://[::1", "amqp://[::1]x"}) {
    INFO(bad);
    CHECK_THROWS_AS(Uri::parse(bad), std::invalid_argument);
  }
}

TEST_CASE("URI round-trips through to_string", "[uri]") {
  const Uri u = Uri::parse("amqp://a%20b:s%2Fcret@h:1234/v%2Fx?heartbeat=5");
  CHECK(u.to_string().find("***") != std::string::npos);
  const Uri back = Uri::parse(u.to_string(true));
  CHECK(back.user == u.user);
  CHECK(back.password == u.password);
  CHECK(back.host == u.host);
  CHECK(back.port == u.port);
  CHECK(back.vhost == u.vhost);
  CHECK(back.heartbeat == u.heartbeat);
  CHECK(Uri::parse(Uri::parse("amqp://h").to_string(true)).vhost == "/");
}
