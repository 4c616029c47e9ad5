#pragma once
// Test fixture: the real broker binary as a child process, on 127.0.0.1 and
// port 0 (or a given port, to restart on the same one), with a fresh data
// dir. It waits for the broker's readiness line, never a sleep.
//
// WARREN_BIN overrides the binary (default: this build's warren);
// WARREN_TEST_URL makes the integration tests use a running broker instead
// (e.g. RabbitMQ), and the tests that need to kill it are skipped.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace warren::client::test {

class BrokerProcess {
 public:
  explicit BrokerProcess(std::vector<std::string> extra_args = {});
  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const;  // amqp://guest:guest@127.0.0.1:PORT/
  pid_t pid() const { return pid_; }
  // SIGKILL and reap.
  void kill();
  // Start again on the same port and data dir.
  void restart();
  void signal(int sig);

 private:
  void start(std::uint16_t port);
  std::vector<std::string> extra_args_;
  std::string data_dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

std::string broker_binary();
std::optional<std::string> external_url();
// The URL of a broker shared by the tests that do not restart it: the
// external one, or one BrokerProcess started on first use.
std::string shared_url();
// A name unique to this test process: "ct.<base>.<pid>".
std::string unique_name(const std::string& base);

}  // namespace warren::client::test
