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
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "vhost.hpp"

namespace warren::broker {

class Connection;
class DelayedMessages;
class Persister;

// A broker user. The password is kept only as a salted hash in RabbitMQ's
// format (password.hpp), so RabbitMQ definitions import unchanged.
struct User {
  std::string name;
  std::string password_hash;  // empty: cannot log in with a password
  std::string hashing_algorithm = "rabbit_password_hashing_sha256";
  // RabbitMQ's tags: administrator, monitoring, policymaker, management (or any other text).
  std::vector<std::string> tags;
  bool loopback_only = false;

  bool has_tag(std::string_view tag) const {
    for (const auto& t : tags)
      if (t == tag) return true;
    return false;
  }
};

// A user's permissions in one vhost: regexes over resource names, as RabbitMQ's.
struct Permission {
  std::string configure = ".*";
  std::string write = ".*";
  std::string read = ".*";
};

// What a vhost carries besides its topology.
struct VHostMetadata {
  std::string description;
  std::vector<std::string> tags;
  std::string default_queue_type;  // empty: not set
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
  const std::set<Connection*>& connections() const { return connections_; }

  // --- users, permissions and vhosts. Every change to them goes through these
  // methods (the admin API and definitions import call them), so this is the
  // one place where a store hooks in.
  const std::map<std::string, User, std::less<>>& users() const { return users_; }
  const User* find_user(std::string_view name) const;
  // Creates the user or replaces it (same name).
  void put_user(User user);
  // Deletes the user and its permissions; false when there was none.
  bool delete_user(std::string_view name);
  // Precondition: the vhost and the user exist.
  void set_permissions(const std::string& vhost, const std::string& user, Permission permission);
  // False when there were none.
  bool clear_permissions(const std::string& vhost, const std::string& user);
  const Permission* find_permissions(std::string_view vhost, std::string_view user) const;
  // Grows whenever any permission changes (channels cache their last check).
  std::uint64_t permissions_generation() const { return permissions_generation_; }
  using PermissionKey = std::pair<std::string, std::string>;  // vhost, user
  const std::map<PermissionKey, Permission>& permissions() const { return permissions_; }
  // Creates the vhost (false when it existed: then only its metadata changes).
  bool add_vhost(const std::string& name, VHostMetadata metadata = {});
  // Deletes the vhost: its queues go (consumers are cancelled), connections
  // to it close with 320 CONNECTION_FORCED, its permissions are dropped.
  // False when there was none.
  bool delete_vhost(std::string_view name);
  const std::map<std::string, std::unique_ptr<VHost>, std::less<>>& vhosts() const {
    return vhosts_;
  }
  const VHostMetadata* vhost_metadata(std::string_view name) const;

  // Memory alarm: while set, connections that publish stop being read.
  bool memory_alarm() const { return memory_alarm_; }
  // Storage alarm: writes to the store fail (disk full, I/O error); set
  // until a retry succeeds. Publishers are blocked meanwhile, too.
  bool storage_alarm() const { return storage_alarm_; }
  bool publishers_blocked() const { return memory_alarm_ || storage_alarm_; }
  // How long opening the store and recovering took at start-up.
  std::int64_t recovery_ms() const { return recovery_ms_; }
  Persister* persister() const { return persister_.get(); }
  DelayedMessages* delayed() const { return delayed_.get(); }
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
  std::map<PermissionKey, Permission> permissions_;
  std::uint64_t permissions_generation_ = 1;
  std::map<std::string, VHostMetadata, std::less<>> vhost_metadata_;
  // Deleted vhosts stay allocated while closing connections and channels
  // holding their queues may still refer to them.
  std::vector<std::unique_ptr<VHost>> retired_vhosts_;
  std::set<Connection*> connections_;
  bool shutting_down_ = false;

  // Durable state (broker_storage.cpp).
  void open_storage();
  void close_storage();
  bool recover();  // false when the store was empty (first start)
  void storage_condition(const std::string& error);
  void check_disk();
  void alarms_changed(bool was_blocked);
  void record_vhost(const std::string& name, const VHostMetadata& metadata);
  void forget_vhost(const std::string& name);
  void record_user(const User& user);
  void forget_user(const std::string& name);
  void record_permissions(const std::string& vhost, const std::string& user,
                          const Permission& permission);
  void forget_permissions(const std::string& vhost, const std::string& user);
  std::unique_ptr<Persister> persister_;
  std::unique_ptr<DelayedMessages> delayed_;  // after persister_: destroyed before it
  bool restoring_ = false;
  bool clean_start_ = false;
  bool storage_alarm_ = false;  // disk_low_ || write_failing_
  bool disk_low_ = false;
  bool write_failing_ = false;
  unsigned disk_check_ticks_ = 0;
  std::int64_t recovery_ms_ = 0;
  std::uint64_t memory_limit_ = 0;
  bool memory_alarm_ = false;
  boost::asio::steady_timer memory_timer_;
};

}  // namespace warren::broker
