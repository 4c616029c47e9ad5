// Example: a worker with retries and a dead-letter queue.
//
//   warren-example-worker [URI]
//
// Handles jobs from "jobs". A job whose body is "fail" fails: it is retried
// after a growing delay (Retry{delay}, Warren's nack-with-delay) and, after
// its third failed attempt, rejected into "jobs.dlq" with its x-death
// history. Duplicates (same message-id) are skipped. Ctrl-C stops it
// gracefully: running handlers finish and their acks go out first.

#include <fmt/core.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "jobs_topology.hpp"

namespace asio = boost::asio;
using namespace warren::client;
using namespace std::chrono_literals;

// Failed attempts per message-id, for servers that do not count them
// (x-delivery-count is absent on RabbitMQ 3.10 classic queues, and a plain
// requeue does not count on Warren).
std::unordered_map<std::string, std::int64_t> local_failures;

asio::awaitable<Outcome> handle(const Delivery& job) {
  const std::string id(job.message_id());
  if (job.body == "fail") {
    const std::int64_t failures = std::max(job.delivery_count(), local_failures[id]);
    if (failures >= 2) {  // this was the third attempt
      local_failures.erase(id);
      fmt::print("{}: failed {} times, to the DLQ\n", id, failures + 1);
      co_return Reject{};
    }
    local_failures[id] = failures + 1;
    const auto delay = std::chrono::milliseconds(500 << failures);  // 0.5 s, then 1 s
    fmt::print("{}: failed, retry in {} ms\n", id, delay.count());
    co_return Retry{delay};
  }
  asio::steady_timer work(co_await asio::this_coro::executor, 10ms);  // pretend to work
  co_await work.async_wait(asio::use_awaitable);
  fmt::print("{}: done ({})\n", id, job.body);
  co_return Ack{};
}

asio::awaitable<void> run(std::string uri) {
  auto ex = co_await asio::this_coro::executor;
  ConnectionOptions copts;
  copts.on_disconnected = [](const Error& e) { fmt::print("disconnected: {}\n", e.what()); };
  copts.on_reconnected = [] { fmt::print("reconnected; topology and consumer restored\n"); };
  Connection conn = co_await Connection::open(ex, uri, copts);
  co_await jobs::declare(conn);

  ConsumerOptions options;
  options.prefetch = 20;
  // RabbitMQ has no nack-with-delay: there, hold the message on a client
  // timer instead of failing (see RetryFallback).
  if (!conn.capabilities().nack_delay) {
    fmt::print("server lacks warren.nack_delay: retries wait on the client\n");
    options.retry_fallback = RetryFallback::kClientDelay;
  }
  options.on_error = [](const Error& e) { fmt::print("consumer stopped: {}\n", e.what()); };
  auto seen = std::make_shared<InMemoryIdempotencyStore>(10min);
  Consumer consumer =
      co_await conn.consume(jobs::kQueue, options, idempotent(seen, AsyncHandler(handle)));
  fmt::print("waiting for jobs on '{}'; Ctrl-C to stop\n", jobs::kQueue);

  asio::signal_set signals(ex, SIGINT, SIGTERM);
  co_await signals.async_wait(asio::use_awaitable);
  fmt::print("stopping: finishing {} running job(s)\n", consumer.in_flight());
  co_await consumer.stop();
  co_await conn.close();
}

int main(int argc, char** argv) {
  const std::string uri = argc > 1 ? argv[1] : "amqp://guest:guest@127.0.0.1:5672/";
  asio::io_context io(1);
  int status = 0;
  asio::co_spawn(io, run(uri), [&](std::exception_ptr e) {
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
