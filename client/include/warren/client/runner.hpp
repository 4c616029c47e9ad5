#pragma once
// Runner: the synchronous facade. It owns an io_context run by one
// background thread (so it satisfies the threading rule of connection.hpp)
// and runs coroutines there on behalf of any other thread, blocking until
// they finish:
//
//   warren::client::Runner runner;
//   auto conn = runner.run([&] { return Connection::open(runner.executor(), uri); });
//   runner.run([&]() -> boost::asio::awaitable<void> {
//     co_await conn.declare_queue(QueueSpec("jobs"));
//   });
//   runner.run([&] { return conn.close(); });   // close (or destroy) it there too
//
// run() rethrows the coroutine's exception in the calling thread. Do not call
// run() from the Runner's own thread (it would wait for itself).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <thread>
#include <type_traits>
#include <utility>

namespace warren::client {

class Runner {
 public:
  Runner() : io_(1), work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~Runner() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  boost::asio::any_io_executor executor() { return io_.get_executor(); }

  // `make` is called on the Runner's thread and returns an awaitable<T>.
  template <typename F>
  auto run(F&& make) {
    using Awaitable = std::invoke_result_t<F&>;
    using T = typename Awaitable::value_type;
    std::promise<T> promise;
    auto future = promise.get_future();
    boost::asio::co_spawn(
        io_, [&make]() -> Awaitable { return make(); }(),  // built on this thread, run there
        [&promise](std::exception_ptr e, auto... value) {
          if (e) {
            promise.set_exception(e);
          } else if constexpr (sizeof...(value) == 0) {
            promise.set_value();
          } else {
            promise.set_value(std::move(value)...);
          }
        });
    return future.get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace warren::client
