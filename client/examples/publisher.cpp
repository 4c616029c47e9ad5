// Example: publish jobs with confirms.
//
//   warren-example-publisher [URI] [COUNT]
//
// Every 10th job has the body "fail" (the worker retries it, then
// dead-letters it). Each message carries a message-id, so the worker's
// idempotency helper can skip a redelivered duplicate.

#include <fmt/core.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "jobs_topology.hpp"

namespace asio = boost::asio;
using namespace warren::client;

asio::awaitable<void> run(std::string uri, int count) {
  Connection conn = co_await Connection::open(co_await asio::this_coro::executor, uri);
  fmt::print("connected to {} {} ({})\n", conn.capabilities().product, conn.capabilities().version,
             conn.capabilities().platform);
  co_await jobs::declare(conn);

  PublisherOptions options;
  options.confirm_window = 256;  // at most 256 unconfirmed messages in flight
  options.on_return = [](const Returned& r) {
    fmt::print("returned: {} {}\n", r.reply_code, r.reply_text);
  };
  Publisher publisher = co_await conn.publisher(options);
  for (int i = 1; i <= count; ++i) {
    Message m(i % 10 == 0 ? std::string("fail") : fmt::format("job {}", i));
    m.persistent().message_id(fmt::format("job-{}", i)).content_type("text/plain");
    co_await publisher.publish("", jobs::kQueue, m, /*mandatory=*/true);
  }
  co_await publisher.wait_for_confirms();  // throws if any was nacked, returned or lost
  fmt::print("published and confirmed {} jobs\n", count);
  co_await conn.close();
}

int main(int argc, char** argv) {
  const std::string uri = argc > 1 ? argv[1] : "amqp://guest:guest@127.0.0.1:5672/";
  const int count = argc > 2 ? std::atoi(argv[2]) : 100;
  asio::io_context io(1);
  int status = 0;
  asio::co_spawn(io, run(uri, count), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      fmt::print(stderr, "error: {}\n", ex.what());
      status = 1;
    }
  });
  io.run();
  return status;
}
