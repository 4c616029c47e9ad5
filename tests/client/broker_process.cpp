#include "broker_process.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>

namespace warren::client::test {

std::string broker_binary() {
  if (const char* b = std::getenv("WARREN_BIN"); b && *b) return b;
  return WARREN_BROKER_BIN;
}

std::optional<std::string> external_url() {
  if (const char* u = std::getenv("WARREN_TEST_URL"); u && *u) return std::string(u);
  return std::nullopt;
}

std::string unique_name(const std::string& base) {
  return fmt::format("ct.{}.{}", base, ::getpid());
}

std::string shared_url() {
  if (auto u = external_url()) return *u;
  static std::unique_ptr<BrokerProcess> shared = std::make_unique<BrokerProcess>();
  return shared->url();
}

BrokerProcess::BrokerProcess(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)) {
  char tmpl[] = "/tmp/warren-client-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  data_dir_ = tmpl;
  start(0);
}

BrokerProcess::~BrokerProcess() {
  kill();
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
}

std::string BrokerProcess::url() const {
  return fmt::format("amqp://guest:guest@127.0.0.1:{}/", port_);
}

void BrokerProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void BrokerProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

void BrokerProcess::restart() {
  kill();
  start(port_);
}

void BrokerProcess::start(std::uint16_t port) {
  const std::string bin = broker_binary();
  std::vector<std::string> args{
      bin,           "--bind", "127.0.0.1",      "--amqp-port", std::to_string(port),
      "--http-port", "0",      "--metrics-port", "0",           "--data-dir",
      data_dir_};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  // Restarting on the same port can race the old socket's teardown: retry.
  for (int attempt = 0; attempt < 50; ++attempt) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    const std::string log = data_dir_ + "/broker.log";
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      // Dies with the test process, even when that one crashes.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(out[1], 1);
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (err >= 0) ::dup2(err, 2);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string seen;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool ready = false, eof = false;
    while (!ready && !eof && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) {
        eof = true;
        break;
      }
      seen.append(buf, static_cast<std::size_t>(n));
      if (auto at = seen.find("warren ready amqp="); at != std::string::npos) {
        auto eol = seen.find('\n', at);
        if (eol == std::string::npos) continue;
        const std::string addr = seen.substr(at + 18, eol - at - 18);
        const auto colon = addr.find(':');
        const auto space = addr.find(' ');
        port_ = static_cast<std::uint16_t>(std::stoi(addr.substr(
            colon + 1, space == std::string::npos ? std::string::npos : space - colon - 1)));
        ready = true;
      }
    }
    if (ready) {
      pid_ = pid;
      // Keep draining stdout so the broker never blocks on it.
      const int fd = out[0];
      std::thread([fd] {
        char buf[512];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
        ::close(fd);
      }).detach();
      return;
    }
    ::close(out[0]);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (port == 0 || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // port still held: retry
  }
  throw std::runtime_error(
      fmt::format("broker {} did not become ready (see {}/broker.log)", bin, data_dir_));
}

}  // namespace warren::client::test
