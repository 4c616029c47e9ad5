#pragma once
// The admin HTTP server: Boost.Beast on the broker's io_context (the broker
// thread), so handlers touch broker state without locks and nothing here
// blocks: every socket operation is asynchronous. One coroutine per client
// connection; keep-alive; a request body limit; read, idle and write
// timeouts. Owned by main(); lives on the broker thread, except for the
// finishing thread, which builds the responses handlers hand over as
// Response::finish_elsewhere (large listings, metrics) from their copies.

#include <boost/asio.hpp>
#include <cstdint>
#include <memory>
#include <set>

#include "admin/router.hpp"
#include "admin/static_files.hpp"

namespace warren::broker {
class Broker;
}

namespace warren::admin {

struct ServerLimits {
  std::size_t max_body = 32u * 1024 * 1024;  // bigger requests get 413
  std::size_t max_header = 64u * 1024;
  std::chrono::seconds read_timeout{30};  // for a request once it started
  std::chrono::seconds idle_timeout{60};  // between keep-alive requests
  std::chrono::seconds write_timeout{30};
  std::size_t max_clients = 1000;  // more are refused (closed) at accept
};

// What a listener serves: the whole API and the console (the HTTP port), or
// only GET /metrics (the metrics port, as rabbitmq_prometheus's 15692).
enum class ServerRole { kAdmin, kMetrics };

class AdminServer {
 public:
  AdminServer(broker::Broker& broker, ServerRole role = ServerRole::kAdmin,
              ServerLimits limits = {});
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds config().bind : config().http_port (or metrics_port); throws on
  // failure (start-up).
  void listen();
  boost::asio::ip::tcp::endpoint endpoint() const;
  // Stops accepting and closes every client socket.
  void shutdown();

  Router& router() { return router_; }

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);
  // Runs `work` (a Response::finish_elsewhere) on finisher_ and resumes with its result.
  boost::asio::awaitable<Response> finish(std::function<Response()> work, std::string target);

  broker::Broker& broker_;
  ServerRole role_;
  ServerLimits limits_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Router router_;
  StaticFiles console_;  // the web console's files (--console-dir)
  std::set<boost::asio::ip::tcp::socket*>
      sockets_;  // live client sockets (their coroutines own them)
  bool shutting_down_ = false;
  // One thread: listings wait their turn rather than take both cores.
  boost::asio::thread_pool finisher_{1};
};

}  // namespace warren::admin
