#pragma once
// The broker: configuration, users, vhosts, the AMQP listener and the set of
// live connections. Everything here runs on the broker thread (the single
// thread that runs the io_context), so nothing is locked; see
// docs/ARCHITECTURE.md.

#include <boost/asio.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "config.hpp"
#include "vhost.hpp"

namespace warren::broker {

class Connection;

struct User {
  std::string name;
  std::string password;
  bool loopback_only = false;
};

class Broker {
 public:
  Broker(boost::asio::io_context& io, Config config);
  ~Broker();

  // Binds the listener; throws on failure (start-up is an edge).
  void listen();
  // The AMQP endpoint actually bound (the port is real even if 0 was asked).
  boost::asio::ip::tcp::endpoint amqp_endpoint() const;
  // Stops accepting and closes every connection with 320 CONNECTION_FORCED.
  void shutdown();

  const Config& config() const { return config_; }
  boost::asio::io_context& io() { return io_; }
  VHost* find_vhost(const std::string& name);
  // Null when the credentials are wrong or the user may not log in from there.
  const User* authenticate(const std::string& user, const std::string& password,
                           bool from_loopback) const;

  void connection_closed(Connection* connection);

  // Memory alarm: while set, connections that publish stop being read.
  bool memory_alarm() const { return memory_alarm_; }
  std::uint64_t memory_limit() const { return memory_limit_; }
  std::size_t connection_count() const { return connections_.size(); }

 private:
  boost::asio::awaitable<void> accept_loop();
  void check_memory();

  boost::asio::io_context& io_;
  Config config_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::map<std::string, std::unique_ptr<VHost>, std::less<>> vhosts_;
  std::map<std::string, User, std::less<>> users_;
  std::set<Connection*> connections_;
  bool shutting_down_ = false;
  std::uint64_t memory_limit_ = 0;
  bool memory_alarm_ = false;
  boost::asio::steady_timer memory_timer_;
};

}  // namespace warren::broker
