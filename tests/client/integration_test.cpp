// The client against a real broker: the shared test broker (this build's
// warren) or WARREN_TEST_URL (e.g. RabbitMQ 3.10). Features a server lacks
// must be reported as unsupported; such checks branch on capabilities().

#include <fmt/core.h>

#include "async_test.hpp"

using namespace warren::client;
using namespace warren::client::test;

namespace {

// Parameters by reference: GCC 12 miscompiles prvalues passed to by-value
// coroutine parameters.
asio::awaitable<Connection> connect(const asio::any_io_executor& ex, std::string_view query = "") {
  const std::string url = shared_url() + std::string(query);
  co_return co_await Connection::open(ex, url);
}

}  // namespace

TEST_CASE("Connects, negotiates, and shows the server's capabilities", "[client][connection]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex, "?heartbeat=7");
    CHECK(c.is_open());
    CHECK(c.heartbeat() == 7);
    CHECK(c.frame_max() >= 4096u);
    const ServerCapabilities& caps = c.capabilities();
    CHECK(caps.product == "RabbitMQ");
    CHECK(caps.publisher_confirms);
    CHECK(caps.basic_nack);
    CHECK(caps.connection_blocked);
    CHECK(caps.consumer_cancel_notify);
    if (!external_url()) CHECK(caps.is_warren);
    INFO("product " << caps.product << " " << caps.version << " platform " << caps.platform);
    co_await c.close();
    CHECK_FALSE(c.is_open());
    bool threw = false;
    try {
      co_await c.declare_queue(transient_queue(unique_name("after-close")));
    } catch (const Error& e) {
      threw = true;
      CHECK(e.errc() == Errc::kClosed);
    }
    CHECK(threw);
    co_await c.close();  // idempotent
  });
}

TEST_CASE("Wrong credentials are refused with 403", "[client][connection]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Uri uri = Uri::parse(shared_url());
    uri.password = "definitely-wrong";
    bool threw = false;
    try {
      Connection c = co_await Connection::open(ex, uri);
    } catch (const Error& e) {
      threw = true;
      INFO(e.what());
      CHECK(e.errc() == Errc::kConnectionRefused);
      CHECK(e.reply_code() == 403);
    }
    CHECK(threw);
  });
}

TEST_CASE("Nothing listening: the first connection fails fast", "[client][connection]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    bool threw = false;
    try {
      // Port 1 on loopback: connection refused.
      Connection c = co_await Connection::open(ex, "amqp://127.0.0.1:1/");
    } catch (const Error& e) {
      threw = true;
      CHECK(e.errc() == Errc::kHandshakeFailed);
    }
    CHECK(threw);
  });
}

TEST_CASE("Publish with confirms, then get, in order with properties", "[client][publisher]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string q = unique_name("basic");
    QueueInfo info = co_await c.declare_queue(transient_queue(q));
    CHECK(info.name == q);
    CHECK(info.message_count == 0);
    Publisher p = co_await c.publisher();
    for (int i = 0; i < 3; ++i) {
      Message m(fmt::format("m{}", i));
      m.persistent().message_id(fmt::format("id{}", i)).header("n", std::int64_t{i});
      co_await p.publish("", q, m);
    }
    co_await p.wait_for_confirms();
    CHECK(p.in_flight() == 0);
    for (int i = 0; i < 3; ++i) {
      std::optional<Delivery> d = co_await c.get(q);
      REQUIRE(d);
      CHECK(d->body == fmt::format("m{}", i));
      CHECK(d->message_id() == fmt::format("id{}", i));
      CHECK(d->properties.delivery_mode == 2);
      REQUIRE(d->header("n"));
      CHECK(d->header("n")->as_int() == i);
      CHECK(d->routing_key == q);
      CHECK(d->message_count == static_cast<std::uint32_t>(2 - i));
    }
    std::optional<Delivery> none = co_await c.get(q);
    CHECK_FALSE(none);
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("The confirm window bounds messages in flight", "[client][publisher]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string q = unique_name("window");
    co_await c.declare_queue(transient_queue(q));
    PublisherOptions opts;
    opts.confirm_window = 50;
    Publisher p = co_await c.publisher(opts);
    std::size_t max_in_flight = 0;
    std::vector<Confirmation> some;
    for (int i = 0; i < 2000; ++i) {
      Confirmation conf = co_await p.publish("", q, Message(std::string(100, 'x')));
      if (i % 500 == 0) some.push_back(conf);
      max_in_flight = std::max(max_in_flight, p.in_flight());
    }
    CHECK(max_in_flight <= 50);
    co_await p.wait_for_confirms();
    for (const Confirmation& conf : some) {
      CHECK(conf.ready());
      ConfirmResult r = co_await conf.wait();
      CHECK(r == ConfirmResult::kAck);
    }
    const QueueInfo info = co_await c.inspect_queue(q);
    CHECK(info.message_count == 2000);
    CHECK(p.published() == 2000);
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("try_publish sends at once or declines; publish() takes over", "[client][publisher]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string q = unique_name("try");
    co_await c.declare_queue(transient_queue(q));
    PublisherOptions opts;
    opts.confirm_window = 10;
    Publisher p = co_await c.publisher(opts);
    // Without yielding, the window fills after 10 and try_publish declines.
    int sent = 0;
    while (p.try_publish("", q, Message(fmt::format("{}", sent))))
      ++sent;
    CHECK(sent == 10);
    CHECK(p.in_flight() == 10);
    CHECK(p.published() == 10);
    // publish() waits for room; mixing both keeps the order.
    for (int i = sent; i < 1000; ++i) {
      const Message m(fmt::format("{}", i));
      std::optional<Confirmation> conf = p.try_publish("", q, m);
      if (!conf) conf = co_await p.publish("", q, m);
    }
    co_await p.wait_for_confirms();
    CHECK(p.published() == 1000);
    int in_order = 0;
    for (int i = 0; i < 1000; ++i) {
      std::optional<Delivery> d = co_await c.get(q);
      if (d && d->body == fmt::format("{}", i)) ++in_order;
    }
    CHECK(in_order == 1000);
    bool invalid = false;
    try {
      p.try_publish("", std::string(256, 'k'), Message("x"));
    } catch (const std::invalid_argument&) {
      invalid = true;
    }
    CHECK(invalid);
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("Mandatory messages nobody takes come back through on_return", "[client][publisher]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    std::vector<Returned> returned;
    PublisherOptions opts;
    opts.on_return = [&](const Returned& r) { returned.push_back(r); };
    Publisher p = co_await c.publisher(opts);
    bool threw = false;
    try {
      co_await p.publish_confirmed("amq.direct", unique_name("nobody-bound"), Message("lost?"),
                                   true);
    } catch (const Error& e) {
      threw = e.errc() == Errc::kReturned && e.reply_code() == 312;
    }
    CHECK(threw);  // the return came before the ack, and the ack reported it
    REQUIRE(returned.size() == 1);
    CHECK(returned[0].reply_code == 312);
    CHECK(returned[0].body == "lost?");
    CHECK(returned[0].exchange == "amq.direct");
    CHECK_FALSE(returned[0].properties.headers);  // the client's tag is removed
    CHECK(p.returned() == 1);
    co_await c.close();
  });
}

TEST_CASE("Each returned message's confirmation says kReturned, the others kAck",
          "[client][publisher]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string q = unique_name("returns");
    co_await c.declare_queue(transient_queue(q));
    std::vector<std::string> returned_bodies;
    PublisherOptions opts;
    opts.on_return = [&](const Returned& r) {
      returned_bodies.push_back(r.body);
      // A header of the caller's own survives; the client's tag does not.
      if (r.properties.headers) {
        CHECK(warren::protocol::find_field(*r.properties.headers, "x-warren-publish-seq") ==
              nullptr);
      }
    };
    Publisher p = co_await c.publisher(opts);
    // Interleaved, all mandatory: routable to q, or to a queue that does not
    // exist; every 7th carries a header of its own.
    std::vector<Confirmation> confs;
    std::vector<bool> routable;
    for (int i = 0; i < 60; ++i) {
      const bool ok = i % 3 != 1;
      Message m(fmt::format("m{}", i));
      if (i % 7 == 0) m.header("app", std::string("mine"));
      const std::string key = ok ? q : unique_name("nowhere");
      confs.push_back(co_await p.publish("", key, m, /*mandatory=*/true));
      routable.push_back(ok);
    }
    bool reported = false;
    try {
      co_await p.wait_for_confirms();
    } catch (const Error& e) {
      reported = e.errc() == Errc::kReturned;
    }
    CHECK(reported);
    co_await p.wait_for_confirms();  // reported once, not again
    int acked = 0, returned = 0;
    for (std::size_t i = 0; i < confs.size(); ++i) {
      const ConfirmResult r = co_await confs[i].wait();
      CHECK(r == (routable[i] ? ConfirmResult::kAck : ConfirmResult::kReturned));
      (r == ConfirmResult::kAck ? acked : returned) += 1;
    }
    CHECK(acked == 40);
    CHECK(returned == 20);
    CHECK(returned_bodies.size() == 20);
    CHECK(p.returned() == 20);
    // Routed mandatory messages keep the tag (documented in publisher.hpp).
    std::optional<Delivery> d = co_await c.get(q);
    REQUIRE(d);
    CHECK(d->body == "m0");
    CHECK(d->header("app") != nullptr);
    CHECK(d->header("x-warren-publish-seq") != nullptr);

    // Without confirms, mandatory messages go out unchanged and returns only
    // reach on_return.
    PublisherOptions plain;
    plain.confirms = false;
    std::vector<Returned> plain_returns;
    plain.on_return = [&](const Returned& r) { plain_returns.push_back(r); };
    Publisher p2 = co_await c.publisher(plain);
    Confirmation none = co_await p2.publish("", unique_name("nowhere"), Message("r"), true);
    CHECK(co_await none.wait() == ConfirmResult::kAck);
    const bool got = co_await eventually([&] { return plain_returns.size() == 1; });
    CHECK(got);
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("A publish the server refuses fails its confirmation; the publisher goes on",
          "[client][publisher]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string q = unique_name("after-404");
    co_await c.declare_queue(transient_queue(q));
    Publisher p = co_await c.publisher();
    Confirmation bad = co_await p.publish(unique_name("no-such-exchange"), "k", Message("x"));
    bool threw = false;
    try {
      co_await bad.wait();
    } catch (const Error& e) {
      threw = true;
      CHECK(e.errc() == Errc::kChannelClosed);
      CHECK(e.reply_code() == 404);
    }
    CHECK(threw);
    bool reported = false;
    try {
      co_await p.wait_for_confirms();
    } catch (const Error& e) {
      reported = e.reply_code() == 404;
    }
    CHECK(reported);
    co_await p.publish_confirmed("", q, Message("fine"));
    std::optional<Delivery> d = co_await c.get(q);
    REQUIRE(d);
    CHECK(d->body == "fine");
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("A refused declare throws with the reply code; the connection stays usable",
          "[client][topology]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    bool threw = false;
    try {
      co_await c.inspect_queue(unique_name("missing"));
    } catch (const Error& e) {
      threw = true;
      CHECK(e.errc() == Errc::kChannelClosed);
      CHECK(e.reply_code() == 404);
    }
    CHECK(threw);
    const std::string q = unique_name("usable");
    co_await c.declare_queue(transient_queue(q));
    QueueSpec other = transient_queue(q);
    other.max_length = 5;  // differs from the existing queue: 406
    threw = false;
    try {
      co_await c.declare_queue(other);
    } catch (const Error& e) {
      threw = true;
      CHECK(e.reply_code() == 406);
    }
    CHECK(threw);
    const QueueInfo info = co_await c.inspect_queue(q);
    CHECK(info.name == q);
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("Exchanges, bindings and typed queue options", "[client][topology]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string x = unique_name("topic");
    const std::string q = unique_name("bound");
    const std::string dlq = unique_name("ttl-dlq");
    const std::string ttlq = unique_name("ttl");
    const ExchangeSpec topic(x, "topic", false);
    co_await c.declare_exchange(topic);
    co_await c.declare_queue(transient_queue(q));
    co_await c.bind_queue(q, x, "a.*");
    co_await c.declare_queue(transient_queue(dlq));
    QueueSpec ttl = transient_queue(ttlq);
    ttl.message_ttl = std::chrono::milliseconds(20);
    ttl.dead_letter_exchange = "";
    ttl.dead_letter_routing_key = dlq;
    co_await c.declare_queue(ttl);

    Publisher p = co_await c.publisher();
    co_await p.publish("", ttlq, Message("expires"));
    co_await p.publish(x, "a.b", Message("routed"));
    co_await p.publish(x, "b.a", Message("not routed"));
    co_await p.wait_for_confirms();

    std::optional<Delivery> d = co_await c.get(q);
    REQUIRE(d);
    CHECK(d->body == "routed");
    std::optional<Delivery> none = co_await c.get(q);
    CHECK_FALSE(none);
    co_await c.unbind_queue(q, x, "a.*");
    co_await p.publish_confirmed(x, "a.b", Message("after unbind"));
    none = co_await c.get(q);
    CHECK_FALSE(none);

    std::optional<Delivery> dead = co_await get_eventually(c, dlq);
    REQUIRE(dead);
    CHECK(dead->body == "expires");
    const auto deaths = dead->deaths();
    REQUIRE(deaths.size() == 1);
    CHECK(deaths[0].reason == "expired");
    CHECK(deaths[0].queue == ttlq);
    CHECK(deaths[0].count == 1);

    // Length limit, drop-head.
    const std::string lim = unique_name("limited");
    QueueSpec limited = transient_queue(lim);
    limited.max_length = 2;
    co_await c.declare_queue(limited);
    for (int i = 0; i < 5; ++i)
      co_await p.publish("", lim, Message(std::to_string(i)));
    co_await p.wait_for_confirms();
    const QueueInfo info = co_await c.inspect_queue(lim);
    CHECK(info.message_count == 2);
    std::optional<Delivery> head = co_await c.get(lim);
    REQUIRE(head);
    CHECK(head->body == "3");

    for (const auto& name : {q, dlq, ttlq, lim})
      co_await c.delete_queue(name);
    co_await c.delete_exchange(x);
    co_await c.close();
  });
}

TEST_CASE("Delivery limit and delayed retry are declared, or reported unsupported",
          "[client][topology]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const ServerCapabilities caps = c.capabilities();
    const std::string q = unique_name("limits");
    QueueSpec spec = transient_queue(q);
    spec.delivery_limit = 3;
    spec.retry = RetryPolicy{RetryPolicy::Type::kFailed, std::chrono::milliseconds(100),
                             std::chrono::milliseconds(1000), std::nullopt};
    bool unsupported = false;
    try {
      co_await c.declare_queue(spec);
    } catch (const Error& e) {
      INFO(e.what());
      CHECK(e.errc() == Errc::kUnsupported);
      unsupported = true;
    }
    CHECK(unsupported == !(caps.delivery_limit && caps.delayed_retry));
    if (unsupported) {
      WARN("server " << caps.product << " " << caps.version
                     << ": x-delivery-limit / x-delayed-retry-* reported unsupported");
    } else {
      co_await c.delete_queue(q);
    }
    co_await c.close();
  });
}

TEST_CASE("Consumer outcomes: Ack, Requeue, Reject into a DLQ with x-death", "[client][consumer]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string work = unique_name("work");
    const std::string dlq = unique_name("work-dlq");
    co_await c.declare_queue(transient_queue(dlq));
    QueueSpec spec = transient_queue(work);
    spec.dead_letter_exchange = "";
    spec.dead_letter_routing_key = dlq;
    co_await c.declare_queue(spec);

    std::vector<std::string> seen;
    bool redelivered_seen = false;
    ConsumerOptions opts;
    opts.prefetch = 10;
    Consumer consumer = co_await c.consume(work, opts, [&](const Delivery& d) -> Outcome {
      seen.push_back(d.body);
      if (d.body == "requeue-once") {
        if (!d.redelivered) return Requeue{};
        redelivered_seen = true;
        return Ack{};
      }
      if (d.body == "poison") return Reject{};
      if (d.body == "throws") throw std::runtime_error("handler bug");
      return Ack{};
    });
    Publisher p = co_await c.publisher();
    for (const char* body : {"ok", "requeue-once", "poison", "throws"}) {
      co_await p.publish("", work, Message(body));
    }
    co_await p.wait_for_confirms();
    const bool all = co_await eventually([&] { return seen.size() >= 5; });
    REQUIRE(all);
    CHECK(redelivered_seen);

    std::vector<std::string> dead;
    for (int i = 0; i < 2; ++i) {
      std::optional<Delivery> d = co_await get_eventually(c, dlq);
      REQUIRE(d);
      dead.push_back(d->body);
      const auto deaths = d->deaths();
      REQUIRE_FALSE(deaths.empty());
      CHECK(deaths[0].reason == "rejected");
      CHECK(deaths[0].queue == work);
    }
    std::sort(dead.begin(), dead.end());
    CHECK(dead == std::vector<std::string>{"poison", "throws"});

    co_await consumer.stop();
    CHECK(consumer.done());
    const QueueInfo info = co_await c.inspect_queue(work);
    CHECK(info.message_count == 0);
    CHECK(info.consumer_count == 0);
    co_await c.delete_queue(work);
    co_await c.delete_queue(dlq);
    co_await c.close();
  });
}

TEST_CASE("Coalesced acks (multi_ack) settle every message", "[client][consumer]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string q = unique_name("multi-ack");
    co_await c.declare_queue(transient_queue(q));
    Publisher p = co_await c.publisher();
    for (int i = 0; i < 1000; ++i)
      co_await p.publish("", q, Message(std::to_string(i)));
    co_await p.wait_for_confirms();
    int handled = 0;
    bool in_order = true;
    ConsumerOptions opts;
    opts.prefetch = 100;
    opts.multi_ack = 37;
    Consumer consumer = co_await c.consume(q, opts, [&](const Delivery& d) -> Outcome {
      in_order = in_order && d.body == std::to_string(handled);
      ++handled;
      return Ack{};
    });
    const bool all = co_await eventually([&] { return handled == 1000; });
    CHECK(all);
    CHECK(in_order);
    co_await consumer.stop();
    const QueueInfo info = co_await c.inspect_queue(q);
    CHECK(info.message_count == 0);
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("Async handlers run concurrently; stop() waits for them and their acks",
          "[client][consumer]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string q = unique_name("graceful");
    co_await c.declare_queue(transient_queue(q));
    Publisher p = co_await c.publisher();
    for (int i = 0; i < 40; ++i)
      co_await p.publish("", q, Message(std::to_string(i)));
    co_await p.wait_for_confirms();
    int started = 0, finished = 0, max_parallel = 0;
    ConsumerOptions opts;
    opts.prefetch = 8;
    Consumer consumer =
        co_await c.consume(q, opts, [&](const Delivery&) -> asio::awaitable<Outcome> {
          ++started;
          max_parallel = std::max(max_parallel, started - finished);
          co_await sleep_for(std::chrono::milliseconds(20));
          ++finished;
          co_return Ack{};
        });
    const bool some = co_await eventually([&] { return finished >= 8; });
    REQUIRE(some);
    co_await consumer.stop();
    CHECK(started == finished);  // nothing cut short
    CHECK(max_parallel > 1);
    CHECK(max_parallel <= 8);
    const QueueInfo info = co_await c.inspect_queue(q);
    CHECK(static_cast<int>(info.message_count) + finished == 40);
    CHECK(info.consumer_count == 0);
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("Retry{delay} with warren.nack_delay (when the server advertises it)",
          "[client][consumer][retry]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    if (!c.capabilities().nack_delay) {
      WARN("SKIPPED: the server (" << c.capabilities().product << " " << c.capabilities().version
                                   << ") does not advertise warren.nack_delay");
      co_await c.close();
      co_return;
    }
    const std::string q = unique_name("nack-delay");
    co_await c.declare_queue(transient_queue(q));
    std::vector<Delivery> seen;
    Consumer consumer = co_await c.consume(q, {}, [&](const Delivery& d) -> Outcome {
      seen.push_back(d);
      if (seen.size() == 1) return Retry{std::chrono::milliseconds(200)};
      return Ack{};
    });
    Publisher p = co_await c.publisher();
    co_await p.publish_confirmed("", q, Message("retry me"));
    const bool twice = co_await eventually([&] { return seen.size() >= 2; });
    REQUIRE(twice);
    CHECK_FALSE(seen[0].redelivered);
    CHECK(seen[1].redelivered);
    CHECK(seen[1].delivery_count() == 1);  // a failed attempt
    CHECK_FALSE(consumer.done());
    co_await consumer.stop();
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("Retry{delay} without warren.nack_delay fails loudly and loses nothing",
          "[client][consumer][retry]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    if (c.capabilities().nack_delay) {
      WARN("SKIPPED: the server advertises warren.nack_delay (run against RabbitMQ for this)");
      co_await c.close();
      co_return;
    }
    const std::string q = unique_name("no-nack-delay");
    co_await c.declare_queue(transient_queue(q));
    int calls = 0;
    std::optional<Error> reported;
    ConsumerOptions opts;  // retry_fallback = kFail
    opts.on_error = [&](const Error& e) { reported = e; };
    Consumer consumer = co_await c.consume(q, opts, [&](const Delivery&) -> Outcome {
      ++calls;
      return Retry{std::chrono::seconds(5)};
    });
    Publisher p = co_await c.publisher();
    co_await p.publish_confirmed("", q, Message("keep me"));
    const bool stopped = co_await consumer.wait_done(std::chrono::seconds(30));
    REQUIRE(stopped);
    CHECK(calls == 1);
    REQUIRE(reported);
    CHECK(reported->errc() == Errc::kUnsupported);
    REQUIRE(consumer.error());
    CHECK_THROWS_AS(std::rethrow_exception(consumer.error()), Error);
    co_await consumer.stop();
    std::optional<Delivery> back = co_await get_eventually(c, q);
    REQUIRE(back);  // requeued, not lost
    CHECK(back->body == "keep me");
    CHECK(back->redelivered);
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("Retry{delay} with the client-delay fallback redelivers", "[client][consumer][retry]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string q = unique_name("client-delay");
    co_await c.declare_queue(transient_queue(q));
    std::vector<bool> redelivered;
    ConsumerOptions opts;
    opts.retry_fallback = RetryFallback::kClientDelay;
    opts.multi_ack = 10;
    Consumer consumer = co_await c.consume(q, opts, [&](const Delivery& d) -> Outcome {
      redelivered.push_back(d.redelivered);
      if (!d.redelivered) return Retry{std::chrono::milliseconds(50)};
      return Ack{};
    });
    Publisher p = co_await c.publisher();
    co_await p.publish_confirmed("", q, Message("later"));
    const bool twice = co_await eventually([&] { return redelivered.size() >= 2; });
    REQUIRE(twice);
    CHECK(redelivered == std::vector<bool>{false, true});
    co_await consumer.stop();
    const QueueInfo info = co_await c.inspect_queue(q);
    CHECK(info.message_count == 0);
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("The idempotency helper skips repeated message-ids", "[client][idempotency]") {
  run_async([]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await connect(ex);
    const std::string q = unique_name("idempotent");
    co_await c.declare_queue(transient_queue(q));
    Publisher p = co_await c.publisher();
    for (const char* id : {"a", "b", "a", "c", "b"}) {
      co_await p.publish("", q, Message(id).message_id(id));
    }
    co_await p.wait_for_confirms();
    auto stats = std::make_shared<IdempotencyStats>();
    std::vector<std::string> handled;
    Consumer consumer = co_await c.consume(
        q, {},
        idempotent(std::make_shared<InMemoryIdempotencyStore>(std::chrono::minutes(1)),
                   SyncHandler([&](const Delivery& d) -> Outcome {
                     handled.push_back(d.body);
                     return Ack{};
                   }),
                   stats));
    const bool all = co_await eventually([&] { return stats->handled + stats->skipped == 5; });
    REQUIRE(all);
    CHECK(handled == std::vector<std::string>{"a", "b", "c"});
    CHECK(stats->skipped == 2);
    co_await consumer.stop();
    const QueueInfo info = co_await c.inspect_queue(q);
    CHECK(info.message_count == 0);
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("The Runner facade runs the library from a plain thread", "[client][runner]") {
  Runner runner;
  const std::string url = shared_url();
  Connection c = runner.run([&] { return Connection::open(runner.executor(), url); });
  const std::string q = unique_name("runner");
  const std::string missing = unique_name("nope");
  // Arguments are borrowed until the coroutine ends: keep them in variables.
  const QueueSpec spec = transient_queue(q);
  const QueueInfo info = runner.run([&] { return c.declare_queue(spec); });
  CHECK(info.name == q);
  runner.run([&]() -> asio::awaitable<void> {
    Publisher p = co_await c.publisher();
    co_await p.publish_confirmed("", q, Message("sync"));
  });
  const auto d = runner.run([&] { return c.get(q); });
  REQUIRE(d);
  CHECK(d->body == "sync");
  CHECK_THROWS_AS(runner.run([&] { return c.inspect_queue(missing); }), Error);
  runner.run([&] { return c.delete_queue(q); });
  runner.run([&] { return c.close(); });
}
