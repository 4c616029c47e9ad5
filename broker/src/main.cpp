// warren: the broker executable. Parses configuration, runs the broker on
// one io_context thread, prints a readiness line, and shuts down cleanly on
// SIGTERM or SIGINT.

#include <boost/asio.hpp>
#include <csignal>
#include <iostream>
#include <memory>

#include "admin/server.hpp"
#include "broker.hpp"
#include "config.hpp"
#include "log.hpp"
#include "version.hpp"

namespace asio = boost::asio;
using warren::broker::Broker;

namespace {

// Waits (bounded) for connections to finish their close handshakes, then stops.
void stop_when_drained(asio::io_context& io, Broker& broker, int attempts_left) {
  if (broker.connection_count() == 0 || attempts_left == 0) {
    io.stop();
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(50));
  timer->async_wait([&io, &broker, timer, attempts_left](boost::system::error_code) {
    stop_when_drained(io, broker, attempts_left - 1);
  });
}

}  // namespace

int main(int argc, char** argv) {
  warren::broker::CommandLine cli = warren::broker::parse_command_line(argc, argv);
  if (cli.exit_code) return *cli.exit_code;
  if (!warren::broker::set_log_level(cli.config.log_level)) {
    std::cerr << "warren: unknown log level '" << cli.config.log_level << "'\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  asio::io_context io(1);
  // Signals are caught from here on, so a SIGTERM right after the readiness
  // line still shuts down cleanly.
  asio::signal_set signals(io, SIGTERM, SIGINT);
  std::unique_ptr<Broker> broker_ptr;
  try {
    // Opens the store and recovers what it holds.
    broker_ptr = std::make_unique<Broker>(io, cli.config);
  } catch (const std::exception& e) {
    warren::broker::log_error("cannot start: {}", e.what());
    return 1;
  }
  Broker& broker = *broker_ptr;
  warren::broker::log_info("store opened and recovered in {} ms", broker.recovery_ms());
  try {
    broker.listen();
  } catch (const std::exception& e) {
    warren::broker::log_error("cannot listen on {}:{}: {}", cli.config.bind, cli.config.amqp_port,
                              e.what());
    return 1;
  }
  auto endpoint = broker.amqp_endpoint();
  warren::broker::log_info("warren {} listening for AMQP on {}:{}", warren::broker::kVersion,
                           endpoint.address().to_string(), endpoint.port());
  warren::admin::AdminServer admin(broker);
  try {
    admin.listen();
  } catch (const std::exception& e) {
    warren::broker::log_error("cannot listen for HTTP on {}:{}: {}", cli.config.bind,
                              cli.config.http_port, e.what());
    return 1;
  }
  auto http = admin.endpoint();
  warren::broker::log_info("admin HTTP API on {}:{}", http.address().to_string(), http.port());
  // Metrics are also on the HTTP port, so a busy metrics port costs a
  // warning, not the start.
  warren::admin::AdminServer metrics(broker, warren::admin::ServerRole::kMetrics);
  std::string metrics_ready;
  try {
    metrics.listen();
    auto m = metrics.endpoint();
    warren::broker::log_info("Prometheus metrics on {}:{}", m.address().to_string(), m.port());
    metrics_ready = fmt::format(" metrics={}:{}", m.address().to_string(), m.port());
  } catch (const std::exception& e) {
    warren::broker::log_warning(
        "cannot listen for metrics on {}:{} ({}); /metrics stays on the "
        "HTTP port",
        cli.config.bind, cli.config.metrics_port, e.what());
  }
  // The readiness line tests and scripts wait for.
  std::cout << "warren ready amqp=" << endpoint.address().to_string() << ":" << endpoint.port()
            << " http=" << http.address().to_string() << ":" << http.port() << metrics_ready
            << std::endl;

  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    warren::broker::log_info("signal {}: shutting down", signal);
    admin.shutdown();
    metrics.shutdown();
    broker.shutdown();
    stop_when_drained(io, broker, 100);
  });

  io.run();
  warren::broker::log_info("stopped");
  return 0;
}
