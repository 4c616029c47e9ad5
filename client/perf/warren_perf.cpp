// warren-perf: a load generator on top of the client library, in the spirit
// of RabbitMQ's PerfTest and lavinmqperf. Producers and consumers each get
// their own connection and thread (one io_context each: the library's
// threading rule), publish to / consume from --queues queues through the
// default exchange, and report live rates every --interval seconds; at the
// end, throughput and end-to-end latency percentiles (text, or JSON with
// --json). Every body starts with the send time (steady clock, ns) and a
// sequence number, so latency is measured publish -> handler.
//
// It speaks plain AMQP 0-9-1, so it runs against RabbitMQ as well as Warren.

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "warren/client/client.hpp"

namespace asio = boost::asio;
namespace po = boost::program_options;
using namespace warren::client;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  std::string uri = "amqp://guest:guest@127.0.0.1:5672/";
  int producers = 1;
  int consumers = 1;
  int queues = 1;
  std::size_t size = 256;
  std::size_t confirm = 0;  // window; 0 = no confirms
  bool persistent = false;
  int prefetch = 500;
  int multi_ack = 1;
  double rate = 0;  // msg/s over all producers; 0 = as fast as possible
  double duration = 10;
  std::uint64_t messages = 0;  // per producer; 0 = until --duration
  double interval = 1;
  std::string queue_prefix = "warren-perf";
  bool keep = false;
  bool json = false;
  bool quiet = false;
};

// Log-linear histogram of microseconds: exact below 64, then 32 buckets per
// power of two (about 3% resolution). One per consumer thread; merged at the end.
class Histogram {
 public:
  void record(std::uint64_t us) {
    ++counts_[index(us)];
    ++n_;
    max_ = std::max(max_, us);
  }
  void merge(const Histogram& o) {
    for (std::size_t i = 0; i < kBuckets; ++i)
      counts_[i] += o.counts_[i];
    n_ += o.n_;
    max_ = std::max(max_, o.max_);
  }
  std::uint64_t count() const { return n_; }
  std::uint64_t max() const { return max_; }
  std::uint64_t percentile(double p) const {
    if (n_ == 0) return 0;
    const auto target = static_cast<std::uint64_t>(p * static_cast<double>(n_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= target) return std::min(value(i), max_);
    }
    return max_;
  }

 private:
  static constexpr std::size_t kBuckets = 64 + 58 * 32;
  static std::size_t index(std::uint64_t v) {
    if (v < 64) return v;
    const int b = std::bit_width(v);  // >= 7
    return 64 + static_cast<std::size_t>(b - 7) * 32 + ((v >> (b - 6)) & 31);
  }
  static std::uint64_t value(std::size_t i) {  // upper edge of bucket i
    if (i < 64) return i;
    const std::size_t b = (i - 64) / 32 + 7, sub = (i - 64) % 32;
    return ((32 + sub + 1) << (b - 6)) - 1;
  }
  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBuckets);
  std::uint64_t n_ = 0, max_ = 0;
};

struct alignas(64) Counters {
  std::atomic<std::uint64_t> published{0}, confirmed{0}, nacked{0}, returned{0}, consumed{0};
  // Producer: when it finished (confirms included); consumer: its last message.
  std::atomic<std::uint64_t> end_ns{0};
};

struct Shared {
  Config cfg;
  std::vector<std::string> queues;
  std::atomic<bool> stop_producers{false}, stop_consumers{false};
  std::atomic<int> ready{0}, failed{0};
  std::mutex error_mutex;
  std::string first_error;
  void fail(const std::string& what) {
    std::lock_guard lock(error_mutex);
    if (first_error.empty()) first_error = what;
    failed.fetch_add(1);
  }
};

asio::awaitable<void> wait_flag(const std::atomic<bool>& flag) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (!flag.load(std::memory_order_relaxed)) {
    t.expires_after(std::chrono::milliseconds(20));
    co_await t.async_wait(asio::use_awaitable);
  }
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

asio::awaitable<void> producer(Shared& s, Counters& k, int index) {
  const Config& cfg = s.cfg;
  Connection c = co_await Connection::open(co_await asio::this_coro::executor, cfg.uri);
  PublisherOptions po;
  po.confirms = cfg.confirm > 0;
  po.confirm_window = std::max<std::size_t>(cfg.confirm, 1);
  po.on_return = [&k](const Returned&) { k.returned.fetch_add(1, std::memory_order_relaxed); };
  Publisher p = co_await c.publisher(po);
  const std::string& queue = s.queues[static_cast<std::size_t>(index) % s.queues.size()];
  Message m(std::string(std::max<std::size_t>(cfg.size, 16), 'x'));
  if (cfg.persistent) m.persistent();
  s.ready.fetch_add(1);
  const double per_producer = cfg.rate / cfg.producers;
  const auto start = Clock::now();
  asio::steady_timer pace(co_await asio::this_coro::executor);
  std::uint64_t seq = 0;
  while (!s.stop_producers.load(std::memory_order_relaxed)) {
    if (cfg.messages != 0 && seq >= cfg.messages) break;
    if (per_producer > 0) {
      const auto due = start + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                   static_cast<double>(seq) * 1e9 / per_producer));
      if (due > Clock::now()) {
        pace.expires_at(due);
        co_await pace.async_wait(asio::use_awaitable);
      }
    }
    const std::uint64_t ts = now_ns();
    std::memcpy(m.body.data(), &ts, 8);
    std::memcpy(m.body.data() + 8, &seq, 8);
    // try_publish: no coroutine per message while nothing needs waiting for.
    if (!p.try_publish("", queue, m)) co_await p.publish("", queue, m);
    ++seq;
    k.published.store(p.published(), std::memory_order_relaxed);
    k.confirmed.store(p.published() - p.in_flight() - p.nacked(), std::memory_order_relaxed);
    k.nacked.store(p.nacked(), std::memory_order_relaxed);
  }
  try {
    co_await p.wait_for_confirms(std::chrono::seconds(60));
  } catch (const Error& e) {
    if (e.errc() != Errc::kNacked) throw;
  }
  k.confirmed.store(p.published() - p.nacked(), std::memory_order_relaxed);
  k.nacked.store(p.nacked(), std::memory_order_relaxed);
  k.end_ns.store(now_ns(), std::memory_order_relaxed);
  co_await c.close();
}

asio::awaitable<void> consumer(Shared& s, Counters& k, Histogram& h, int index) {
  const Config& cfg = s.cfg;
  Connection c = co_await Connection::open(co_await asio::this_coro::executor, cfg.uri);
  ConsumerOptions co;
  co.prefetch = static_cast<std::uint16_t>(cfg.prefetch);
  co.multi_ack = static_cast<std::uint32_t>(std::max(cfg.multi_ack, 1));
  std::uint64_t consumed = 0;
  const std::string& queue = s.queues[static_cast<std::size_t>(index) % s.queues.size()];
  SyncHandler handler = [&](const Delivery& d) -> Outcome {
    const std::uint64_t now = now_ns();
    if (d.body.size() >= 8) {
      std::uint64_t ts = 0;
      std::memcpy(&ts, d.body.data(), 8);
      h.record(now > ts ? (now - ts) / 1000 : 0);
    }
    k.end_ns.store(now, std::memory_order_relaxed);
    k.consumed.store(++consumed, std::memory_order_relaxed);
    return Ack{};
  };
  Consumer consumer = co_await c.consume(queue, co, handler);
  s.ready.fetch_add(1);
  co_await wait_flag(s.stop_consumers);
  co_await consumer.stop(std::chrono::seconds(10));
  co_await c.close();
}

// Runs `body` on its own io_context and thread.
class Worker {
 public:
  template <typename F>
  Worker(Shared& s, std::string name, F make) : io_(1) {
    asio::co_spawn(io_, make(), [&s, name](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        s.fail(fmt::format("{}: {}", name, ex.what()));
      }
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Worker() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  asio::io_context io_;
  std::thread thread_;
};

template <typename F>
auto run_sync(F make) {
  Runner r;
  return r.run(make);
}

bool parse(int argc, char** argv, Config& c) {
  po::options_description d("warren-perf: AMQP 0-9-1 load generator (Warren, RabbitMQ)\n\nOptions");
  d.add_options()("help,h", "this help")("uri,u", po::value(&c.uri)->default_value(c.uri),
                                         "broker URI (amqp://user:pass@host:port/vhost)")(
      "producers,x", po::value(&c.producers)->default_value(c.producers), "producer connections")(
      "consumers,y", po::value(&c.consumers)->default_value(c.consumers), "consumer connections")(
      "queues,q", po::value(&c.queues)->default_value(c.queues),
      "queues (producer/consumer i uses queue i % queues)")(
      "size,s", po::value(&c.size)->default_value(c.size), "message body bytes (at least 16)")(
      "confirm,c", po::value(&c.confirm)->default_value(c.confirm),
      "publisher-confirm window (0: no confirms)")("persistent,f", po::bool_switch(&c.persistent),
                                                   "persistent messages on durable queues")(
      "prefetch,p", po::value(&c.prefetch)->default_value(c.prefetch),
      "consumer prefetch (basic.qos)")("multi-ack,a",
                                       po::value(&c.multi_ack)->default_value(c.multi_ack),
                                       "ack with multiple=true every N messages")(
      "rate,r", po::value(&c.rate)->default_value(c.rate),
      "publish rate limit, msg/s over all producers (0: none)")(
      "duration,z", po::value(&c.duration)->default_value(c.duration), "seconds to publish")(
      "messages,C", po::value(&c.messages)->default_value(c.messages),
      "messages per producer (0: until --duration)")(
      "interval,i", po::value(&c.interval)->default_value(c.interval),
      "seconds between live reports")(
      "queue-prefix", po::value(&c.queue_prefix)->default_value(c.queue_prefix),
      "queue name prefix")("keep", po::bool_switch(&c.keep), "keep the queues afterwards")(
      "json", po::bool_switch(&c.json), "final result as one JSON line on stdout")(
      "quiet", po::bool_switch(&c.quiet), "no live reports");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, d), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "warren-perf: " << e.what() << "\n" << d;
    return false;
  }
  if (vm.count("help")) {
    std::cout << d;
    std::exit(0);
  }
  if (c.producers < 0 || c.consumers < 0 || c.queues < 1 || c.prefetch < 0 || c.prefetch > 65535 ||
      c.duration <= 0) {
    std::cerr << "warren-perf: bad counts\n";
    return false;
  }
  return true;
}

}  // namespace

std::string fmt_rate(double r) {
  return r >= 10000 ? fmt::format("{:.1f}k", r / 1000) : fmt::format("{:.0f}", r);
}

int main(int argc, char** argv) {
  Shared s;
  if (!parse(argc, argv, s.cfg)) return 2;
  const Config& cfg = s.cfg;
  for (int i = 0; i < cfg.queues; ++i)
    s.queues.push_back(fmt::format("{}-{}", cfg.queue_prefix, i));

  // Setup: (re)declare the queues empty, durable when --persistent.
  std::string server;
  try {
    server = run_sync([&]() -> asio::awaitable<std::string> {
      Connection c = co_await Connection::open(co_await asio::this_coro::executor, cfg.uri);
      for (const auto& q : s.queues) {
        const QueueSpec spec(q, cfg.persistent);
        bool mismatch = false;
        try {
          co_await c.declare_queue(spec);
        } catch (const Error& e) {
          if (e.reply_code() != 406) throw;
          mismatch = true;  // left over with other settings: replace it
        }
        if (mismatch) {
          co_await c.delete_queue(q);
          co_await c.declare_queue(spec);
        }
        co_await c.purge_queue(q);
      }
      const auto& caps = c.capabilities();
      std::string who = fmt::format("{} {} ({})", caps.product, caps.version, caps.platform);
      co_await c.close();
      co_return who;
    });
  } catch (const std::exception& e) {
    std::cerr << "warren-perf: setup failed: " << e.what() << "\n";
    return 1;
  }
  if (!cfg.json) {
    fmt::print(
        "warren-perf: {} | {} producer(s), {} consumer(s), {} queue(s), {} B, confirm {}, "
        "{}, prefetch {}, multi-ack {}, rate {}, {} s\n",
        server, cfg.producers, cfg.consumers, cfg.queues, cfg.size, cfg.confirm,
        cfg.persistent ? "persistent" : "transient", cfg.prefetch, cfg.multi_ack,
        cfg.rate > 0 ? fmt::format("{}", cfg.rate) : std::string("unlimited"), cfg.duration);
  }

  std::vector<std::unique_ptr<Counters>> pk, ck;
  std::vector<std::unique_ptr<Histogram>> hist;
  std::vector<std::unique_ptr<Worker>> consumers, producers;
  for (int i = 0; i < cfg.consumers; ++i) {
    ck.push_back(std::make_unique<Counters>());
    hist.push_back(std::make_unique<Histogram>());
    consumers.push_back(std::make_unique<Worker>(s, fmt::format("consumer {}", i), [&, i] {
      return consumer(s, *ck[static_cast<std::size_t>(i)], *hist[static_cast<std::size_t>(i)], i);
    }));
  }
  while (s.ready.load() < cfg.consumers && s.failed.load() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int i = 0; i < cfg.producers && s.failed.load() == 0; ++i) {
    pk.push_back(std::make_unique<Counters>());
    producers.push_back(std::make_unique<Worker>(s, fmt::format("producer {}", i), [&, i] {
      return producer(s, *pk[static_cast<std::size_t>(i)], i);
    }));
  }

  auto sum = [](const auto& ks, auto field) {
    std::uint64_t t = 0;
    for (const auto& k : ks)
      t += ((*k).*field).load(std::memory_order_relaxed);
    return t;
  };
  const auto t0 = Clock::now();
  const auto end =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(cfg.duration));
  auto next = t0;
  std::uint64_t last_pub = 0, last_conf = 0, last_cons = 0;
  auto last_t = t0;
  const auto step = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::max(cfg.interval, 0.05)));
  std::uint64_t published = 0, confirmed = 0, consumed = 0;
  const std::uint64_t t0_ns = now_ns();
  const std::uint64_t expected = cfg.messages * static_cast<std::uint64_t>(cfg.producers);
  auto finished = [&] {
    const std::uint64_t pub = sum(pk, &Counters::published);
    return cfg.messages != 0 && pub == expected &&
           (cfg.confirm == 0 || sum(pk, &Counters::confirmed) == pub) &&
           (cfg.consumers == 0 || sum(ck, &Counters::consumed) >= pub);
  };
  for (;;) {
    next += step;
    // With --messages, notice the end within 2 ms (the rates use the exact
    // times of the last publish/consume anyway).
    while (cfg.messages != 0 && Clock::now() < std::min(next, end) && !finished() &&
           s.failed.load() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_until(std::min(next, end));
    const auto now = Clock::now();
    published = sum(pk, &Counters::published);
    confirmed = sum(pk, &Counters::confirmed);
    consumed = sum(ck, &Counters::consumed);
    const double dt = std::chrono::duration<double>(now - last_t).count();
    if (!cfg.quiet && !cfg.json && dt > 0) {
      fmt::print("{:6.1f} s  sent {:>8} msg/s  confirmed {:>8} msg/s  received {:>8} msg/s\n",
                 std::chrono::duration<double>(now - t0).count(),
                 fmt_rate(static_cast<double>(published - last_pub) / dt),
                 fmt_rate(static_cast<double>(confirmed - last_conf) / dt),
                 fmt_rate(static_cast<double>(consumed - last_cons) / dt));
      std::fflush(stdout);
    }
    last_pub = published, last_conf = confirmed, last_cons = consumed, last_t = now;
    if (now >= end || s.failed.load() != 0 || finished()) break;
  }
  // Throughput counts what happened inside the measured window.
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  s.stop_producers = true;
  for (auto& w : producers)
    w->join();
  s.stop_consumers = true;
  for (auto& w : consumers)
    w->join();

  Histogram all;
  for (const auto& h : hist)
    all.merge(*h);
  if (!cfg.keep) {
    try {
      run_sync([&]() -> asio::awaitable<void> {
        Connection c = co_await Connection::open(co_await asio::this_coro::executor, cfg.uri);
        for (const auto& q : s.queues)
          co_await c.delete_queue(q);
        co_await c.close();
      });
    } catch (const std::exception& e) {
      std::cerr << "warren-perf: cleanup: " << e.what() << "\n";
    }
  }

  // Duration mode: counts inside the window / the window. --messages mode:
  // each count over the time to its own last event (as amqpbench does).
  auto span = [&](const auto& ks) {
    std::uint64_t last = 0;
    for (const auto& k : ks)
      last = std::max(last, k->end_ns.load());
    return last > t0_ns ? static_cast<double>(last - t0_ns) / 1e9 : elapsed;
  };
  const double pub_span = cfg.messages != 0 ? span(pk) : elapsed;
  const double cons_span = cfg.messages != 0 ? span(ck) : elapsed;
  if (cfg.messages != 0) {
    published = sum(pk, &Counters::published);
    confirmed = sum(pk, &Counters::confirmed);
    consumed = sum(ck, &Counters::consumed);
  }
  const double pub_rate = static_cast<double>(published) / pub_span;
  const double conf_rate = cfg.confirm > 0 ? static_cast<double>(confirmed) / pub_span : 0;
  const double cons_rate = static_cast<double>(consumed) / cons_span;
  const std::uint64_t nacked = sum(pk, &Counters::nacked), returned = sum(pk, &Counters::returned);
  const double ps[] = {0.5, 0.75, 0.95, 0.99, 0.999};
  if (cfg.json) {
    nlohmann::json j;
    j["tool"] = "warren-perf";
    j["server"] = server;
    j["producers"] = cfg.producers;
    j["consumers"] = cfg.consumers;
    j["queues"] = cfg.queues;
    j["size"] = cfg.size;
    j["confirm"] = cfg.confirm;
    j["persistent"] = cfg.persistent;
    j["prefetch"] = cfg.prefetch;
    j["multi_ack"] = cfg.multi_ack;
    j["rate_limit"] = cfg.rate;
    j["duration_s"] = elapsed;
    j["published"] = published;
    j["confirmed"] = confirmed;
    j["nacked"] = nacked;
    j["returned"] = returned;
    j["consumed"] = consumed;
    j["publish_rate"] = std::round(pub_rate);
    j["confirm_rate"] = std::round(conf_rate);
    j["consume_rate"] = std::round(cons_rate);
    j["latency_us"] = {{"count", all.count()},
                       {"p50", all.percentile(0.5)},
                       {"p75", all.percentile(0.75)},
                       {"p95", all.percentile(0.95)},
                       {"p99", all.percentile(0.99)},
                       {"p999", all.percentile(0.999)},
                       {"max", all.max()}};
    if (s.failed.load() != 0) j["error"] = s.first_error;
    std::cout << j.dump() << std::endl;
  } else {
    fmt::print("\nresult over {:.2f} s:\n", elapsed);
    fmt::print("  published {} ({} msg/s)\n", published, fmt_rate(pub_rate));
    if (cfg.confirm > 0) {
      fmt::print("  confirmed {} ({} msg/s), nacked {}\n", confirmed, fmt_rate(conf_rate), nacked);
    }
    if (returned > 0) fmt::print("  returned {}\n", returned);
    fmt::print("  consumed  {} ({} msg/s)\n", consumed, fmt_rate(cons_rate));
    if (all.count() > 0) {
      fmt::print("  latency (publish -> handler), µs:");
      for (double p : ps)
        fmt::print("  p{} {}", p * 100, all.percentile(p));
      fmt::print("  max {}\n", all.max());
    }
    if (s.failed.load() != 0) fmt::print("  ERROR: {}\n", s.first_error);
  }
  return s.failed.load() == 0 ? 0 : 1;
}
