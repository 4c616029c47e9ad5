// Recovery: the broker is SIGKILLed (or stopped) and restarted on the same
// port; the connection comes back by itself with its topology, consumers and
// publishers. Needs a broker of our own, so skipped with WARREN_TEST_URL.

#include <fmt/core.h>
#include <signal.h>

#include <set>

#include "async_test.hpp"

using namespace warren::client;
using namespace warren::client::test;

namespace {

ConnectionOptions fast_reconnect() {
  ConnectionOptions o;
  o.reconnect_initial_delay = std::chrono::milliseconds(20);
  o.reconnect_max_delay = std::chrono::milliseconds(200);
  o.outage_wait = std::chrono::seconds(60);
  return o;
}

bool skip_external() {
  if (external_url()) {
    WARN("SKIPPED: WARREN_TEST_URL is set; recovery tests need a broker they can kill");
    return true;
  }
  return false;
}

}  // namespace

TEST_CASE("After SIGKILL and restart: topology, consumers and publishers come back",
          "[client][recovery]") {
  if (skip_external()) return;
  BrokerProcess broker;
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    int disconnects = 0, reconnected = 0;
    ConnectionOptions opts = fast_reconnect();
    opts.on_disconnected = [&](const Error&) { ++disconnects; };
    opts.on_reconnected = [&] { ++reconnected; };
    Connection c = co_await Connection::open(ex, broker.url(), opts);

    // The broker keeps nothing non-durable across a restart, so everything
    // below must be re-declared by the client.
    const std::string x = "recovery-x";
    const ExchangeSpec exchange(x, "direct", false);
    co_await c.declare_exchange(exchange);
    const QueueInfo named = co_await c.declare_queue(transient_queue("recovery-q"));
    QueueSpec anon;
    anon.durable = false;
    anon.exclusive = true;
    const QueueInfo server_named = co_await c.declare_queue(anon);
    CHECK(server_named.name.starts_with("amq.gen-"));
    co_await c.bind_queue(named.name, x, "k");
    co_await c.bind_queue(server_named.name, x, "k");

    std::vector<std::string> got_named, got_anon;
    Consumer c1 = co_await c.consume(named.name, {}, [&](const Delivery& d) -> Outcome {
      got_named.push_back(d.body);
      return Ack{};
    });
    Consumer c2 = co_await c.consume(server_named.name, {}, [&](const Delivery& d) -> Outcome {
      got_anon.push_back(d.body);
      return Ack{};
    });
    Publisher p = co_await c.publisher();
    co_await p.publish_confirmed(x, "k", Message("before"));
    bool both = co_await eventually([&] { return got_named.size() == 1 && got_anon.size() == 1; });
    REQUIRE(both);

    broker.kill();
    const bool down = co_await eventually([&] { return !c.is_open(); });
    REQUIRE(down);
    CHECK(disconnects == 1);

    // A publish during the outage waits for the connection (bounded).
    std::optional<ConfirmResult> during;
    std::exception_ptr during_error;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          Confirmation conf = co_await p.publish(x, "k", Message("during"));
          during = co_await conf.wait();
        },
        [&](std::exception_ptr e) { during_error = e; });

    broker.restart();
    const bool up = co_await c.wait_open(std::chrono::seconds(60));
    REQUIRE(up);
    CHECK(c.reconnects() == 1);
    CHECK(reconnected == 1);
    const bool published = co_await eventually([&] { return during || during_error; });
    REQUIRE(published);
    if (during_error) std::rethrow_exception(during_error);
    CHECK(*during == ConfirmResult::kAck);

    co_await p.publish_confirmed(x, "k", Message("after"));
    both = co_await eventually([&] { return got_named.size() == 3 && got_anon.size() == 3; });
    CHECK(got_named == std::vector<std::string>{"before", "during", "after"});
    CHECK(got_anon == std::vector<std::string>{"before", "during", "after"});
    CHECK_FALSE(c1.done());
    CHECK_FALSE(c2.done());
    CHECK(c2.queue() != server_named.name);  // the server named it again
    const QueueInfo info = co_await c.inspect_queue(named.name);
    CHECK(info.consumer_count == 1);

    co_await c1.stop();
    co_await c2.stop();
    co_await c.close();
  });
}

TEST_CASE("Confirmations pending when the broker dies fail clearly, none vanish",
          "[client][recovery]") {
  if (skip_external()) return;
  BrokerProcess broker;
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await Connection::open(ex, broker.url(), fast_reconnect());
    co_await c.declare_queue(transient_queue("pending-q"));
    PublisherOptions popts;
    popts.confirm_window = 100000;
    Publisher p = co_await c.publisher(popts);
    std::vector<Confirmation> confs;
    for (int i = 0; i < 20000; ++i) {
      confs.push_back(co_await p.publish("", "pending-q", Message(std::string(200, 'x'))));
    }
    broker.kill();
    int acked = 0, lost = 0;
    for (const Confirmation& conf : confs) {
      try {
        ConfirmResult r = co_await conf.wait(std::chrono::seconds(60));
        if (r == ConfirmResult::kAck) ++acked;
      } catch (const Error& e) {
        if (e.errc() == Errc::kConnectionLost) ++lost;
      }
    }
    CHECK(acked + lost == 20000);
    INFO("acked " << acked << ", lost " << lost);
    bool threw = false;
    try {
      co_await p.wait_for_confirms();
    } catch (const Error& e) {
      threw = e.errc() == Errc::kConnectionLost;
    }
    CHECK(threw == (lost > 0));
    broker.restart();
    const bool up = co_await c.wait_open(std::chrono::seconds(60));
    REQUIRE(up);
    co_await p.publish_confirmed("", "pending-q", Message("again"));
    co_await c.close();
  });
}

TEST_CASE("A silent broker is detected by heartbeats, then reconnected", "[client][recovery]") {
  if (skip_external()) return;
  BrokerProcess broker;
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await Connection::open(ex, broker.url() + "?heartbeat=1", fast_reconnect());
    CHECK(c.heartbeat() == 1);
    co_await sleep_for(std::chrono::milliseconds(2500));  // idle, kept alive by heartbeats
    CHECK(c.is_open());
    CHECK(c.reconnects() == 0);
    broker.signal(SIGSTOP);
    const bool noticed =
        co_await eventually([&] { return !c.is_open(); }, std::chrono::seconds(60));
    broker.signal(SIGCONT);
    REQUIRE(noticed);
    const bool up = co_await c.wait_open(std::chrono::seconds(60));
    REQUIRE(up);
    CHECK(c.reconnects() == 1);
    co_await c.close();
  });
}

TEST_CASE("connection.blocked holds publishes (bounded); unblocked lets them through",
          "[client][recovery][blocked]") {
  if (skip_external()) return;
  // Any message held in memory trips the alarm.
  BrokerProcess broker({"--memory-high-watermark", "1"});
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::string> events;
    ConnectionOptions opts;
    opts.on_blocked = [&](const std::string&) { events.push_back("blocked"); };
    opts.on_unblocked = [&] { events.push_back("unblocked"); };
    Connection c = co_await Connection::open(ex, broker.url(), opts);
    // A blocked connection is not read by the broker: purge through another.
    Connection admin = co_await Connection::open(ex, broker.url());
    co_await c.declare_queue(transient_queue("blocked-q"));
    PublisherOptions popts;
    popts.wait_timeout = std::chrono::milliseconds(300);
    Publisher p = co_await c.publisher(popts);
    co_await p.publish_confirmed("", "blocked-q", Message("fills the memory"));
    const bool blocked = co_await eventually([&] { return c.is_blocked(); });
    REQUIRE(blocked);
    bool timed_out = false;
    try {
      co_await p.publish("", "blocked-q", Message("must wait"));
    } catch (const Error& e) {
      timed_out = e.errc() == Errc::kTimeout;
    }
    CHECK(timed_out);
    co_await admin.purge_queue("blocked-q");
    const bool unblocked = co_await eventually([&] { return !c.is_blocked(); });
    REQUIRE(unblocked);
    CHECK(events == std::vector<std::string>{"blocked", "unblocked"});
    co_await admin.close();
    co_await c.close();
  });
}

TEST_CASE("resend_unconfirmed publishes unconfirmed messages again after a crash",
          "[client][recovery][resend]") {
  if (skip_external()) return;
  BrokerProcess broker;
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await Connection::open(ex, broker.url(), fast_reconnect());
    // Durable queue and persistent messages: what the broker confirmed
    // survives the SIGKILL, so the queue afterwards shows what was resent.
    const std::string q = "resend-q";
    co_await c.declare_queue(QueueSpec(q, /*durable=*/true));
    PublisherOptions keep;
    keep.confirm_window = 100000;
    keep.resend_unconfirmed = true;
    Publisher resender = co_await c.publisher(keep);
    PublisherOptions plain;
    plain.confirm_window = 100000;
    Publisher failer = co_await c.publisher(plain);
    co_await resender.publish_confirmed("", q, Message("before").persistent());

    // The broker is stopped, so nothing published now can be confirmed (or
    // even read) before it dies.
    broker.signal(SIGSTOP);
    constexpr int kN = 3000;
    std::vector<Confirmation> kept, failed;
    for (int i = 0; i < kN; ++i) {
      Message m(fmt::format("r{}", i));
      m.persistent().message_id(fmt::format("r{}", i));
      kept.push_back(co_await resender.publish("", q, m));
      // Every 10th mandatory and unroutable: it goes again, and is returned then.
      if (i % 10 == 0) kept.push_back(co_await resender.publish("", "nowhere", m, true));
      failed.push_back(co_await failer.publish("", q, Message("f").persistent()));
    }
    co_await sleep_for(100ms);  // let the writer hand them to the socket
    broker.kill();
    const bool down = co_await eventually([&] { return !c.is_open(); });
    REQUIRE(down);
    broker.restart();
    const bool up = co_await c.wait_open(std::chrono::seconds(60));
    REQUIRE(up);

    // The plain publisher's messages failed clearly...
    int lost = 0;
    for (const Confirmation& conf : failed) {
      try {
        co_await conf.wait(std::chrono::seconds(60));
      } catch (const Error& e) {
        if (e.errc() == Errc::kConnectionLost) ++lost;
      }
    }
    CHECK(lost == kN);
    // ...the resender's went again and were confirmed.
    int acked = 0, returned = 0;
    for (const Confirmation& conf : kept) {
      const ConfirmResult r = co_await conf.wait(std::chrono::seconds(60));
      if (r == ConfirmResult::kAck) ++acked;
      if (r == ConfirmResult::kReturned) ++returned;
    }
    CHECK(acked == kN);
    CHECK(returned == kN / 10);
    CHECK(resender.resent() == static_cast<std::uint64_t>(kN + kN / 10));
    CHECK(resender.in_flight() == 0);

    // Every message is in the queue (at least once; here exactly once, since
    // the stopped broker never saw the first copies), in order.
    std::set<std::string> seen;
    std::vector<std::string> order;
    for (;;) {
      std::optional<Delivery> d = co_await c.get(q);
      if (!d) break;
      order.push_back(d->body);
      seen.insert(d->body);
    }
    CHECK(seen.size() == static_cast<std::size_t>(kN + 1));
    CHECK(order.size() == static_cast<std::size_t>(kN + 1));
    REQUIRE(order.size() >= 2);
    CHECK(order.front() == "before");
    CHECK(order[1] == "r0");
    CHECK(order.back() == fmt::format("r{}", kN - 1));
    co_await c.delete_queue(q);
    co_await c.close();
  });
}

TEST_CASE("resend_unconfirmed: messages kept through an outage fail when the connection closes",
          "[client][recovery][resend]") {
  if (skip_external()) return;
  BrokerProcess broker;
  run_async([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Connection c = co_await Connection::open(ex, broker.url(), fast_reconnect());
    co_await c.declare_queue(transient_queue("kept-q"));
    PublisherOptions keep;
    keep.resend_unconfirmed = true;
    Publisher p = co_await c.publisher(keep);
    broker.signal(SIGSTOP);
    std::vector<Confirmation> confs;
    for (int i = 0; i < 10; ++i)
      confs.push_back(co_await p.publish("", "kept-q", Message("k")));
    co_await sleep_for(50ms);
    broker.kill();  // and no restart
    const bool down = co_await eventually([&] { return !c.is_open(); });
    REQUIRE(down);
    co_await sleep_for(200ms);           // a few failed reconnection attempts
    CHECK_FALSE(confs.front().ready());  // kept, waiting for the connection
    co_await c.close();
    int lost = 0;
    for (const Confirmation& conf : confs) {
      try {
        co_await conf.wait(std::chrono::seconds(5));
      } catch (const Error& e) {
        if (e.errc() == Errc::kConnectionLost) ++lost;
      }
    }
    CHECK(lost == 10);
    bool threw = false;
    try {
      co_await p.wait_for_confirms(std::chrono::seconds(5));
    } catch (const Error& e) {
      threw = e.errc() == Errc::kConnectionLost;
    }
    CHECK(threw);
  });
}
