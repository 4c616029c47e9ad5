#pragma once
// Running a coroutine test body on its own io_context, with one generous
// overall limit (a hung test fails instead of hanging ctest). No test asserts
// on timing: waits poll a condition with a long deadline.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <string>

#include "broker_process.hpp"
#include "warren/client/client.hpp"

namespace warren::client::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// `body` takes no parameters (it asks for its executor with
// co_await asio::this_coro::executor): GCC 12 miscompiles prvalue arguments
// to by-value coroutine parameters.
inline void run_async(std::function<asio::awaitable<void>()> body,
                      std::chrono::seconds limit = std::chrono::seconds(180)) {
  asio::io_context io(1);
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    done = true;
    error = e;
    io.stop();
  });
  io.run_for(limit);
  if (!done) FAIL("test body did not finish within " << limit.count() << " s");
  if (error) std::rethrow_exception(error);
}

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Polls `pred` every 5 ms until it holds; false after `limit`.
template <typename Pred>
asio::awaitable<bool> eventually(const Pred& pred, std::chrono::milliseconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    co_await sleep_for(5ms);
  }
  co_return true;
}

// Polls basic.get until a message arrives (or `limit`).
inline asio::awaitable<std::optional<Delivery>> get_eventually(
    Connection& c, const std::string& queue, std::chrono::milliseconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto d = co_await c.get(queue);
    if (d || std::chrono::steady_clock::now() > deadline) co_return d;
    co_await sleep_for(10ms);
  }
}

inline QueueSpec transient_queue(const std::string& name) {
  return QueueSpec(name, /*durable=*/false);
}

}  // namespace warren::client::test
