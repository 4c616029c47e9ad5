#include "broker.hpp"

#include <unistd.h>

#include <iostream>

#include "connection.hpp"
#include "delayed_messages.hpp"
#include "log.hpp"
#include "password.hpp"
#include "persister.hpp"

namespace warren::broker {

namespace asio = boost::asio;
using asio::ip::tcp;

Broker::Broker(asio::io_context& io, Config config)
    : io_(io), config_(std::move(config)), acceptor_(io), memory_timer_(io) {
  memory_limit_ = config_.memory_high_watermark;
  if (memory_limit_ == 0) {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page_size = sysconf(_SC_PAGESIZE);
    memory_limit_ =
        static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) / 10 * 4;
  }
  // Transient messages page out past half the watermark, as RabbitMQ's
  // vm_memory_high_watermark_paging_ratio (0.5) has it.
  set_paging_limits(PagingLimits{config_.queue_memory_messages, config_.queue_memory_bytes,
                                 config_.queue_memory_waiting, memory_limit_ / 2});
  // Recovers what the store holds, or creates the defaults on first start.
  open_storage();
}

Broker::~Broker() {
  // Writes what is still pending; vhosts and queues go after.
  close_storage();
}

void Broker::listen() {
  tcp::endpoint endpoint(asio::ip::make_address(config_.bind), config_.amqp_port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(io_, accept_loop(), asio::detached);
  check_memory();
}

void Broker::check_memory() {
  if (disk_check_ticks_++ % 20 == 0) check_disk();  // once a second
  // Messages, and their stored copies still on the way to the store.
  const std::uint64_t held =
      message_bytes_in_use() + (persister_ ? persister_->unwritten_bytes() : 0);
  const bool over = held > memory_limit_;
  if (over != memory_alarm_) {
    memory_alarm_ = over;
    if (over) {
      log_warning(
          "memory alarm: messages hold {} bytes, over the high watermark {}; publishers "
          "are blocked",
          held, memory_limit_);
    } else {
      log_info("memory alarm cleared");
    }
    std::vector<Connection*> live(connections_.begin(), connections_.end());
    for (Connection* c : live)
      c->memory_alarm_changed(publishers_blocked());
  }
  if (shutting_down_) return;
  memory_timer_.expires_after(std::chrono::milliseconds(50));
  memory_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) check_memory();
  });
}

tcp::endpoint Broker::amqp_endpoint() const {
  return acceptor_.local_endpoint();
}

asio::awaitable<void> Broker::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || shutting_down_) co_return;
      log_warning("accept failed: {}", ec.message());
      // Out of file descriptors and the like: back off instead of spinning.
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (connections_.size() >= config_.max_connections) {
      log_warning("refusing connection: max-connections ({}) reached", config_.max_connections);
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto connection = std::make_shared<Connection>(*this, std::move(socket));
    connections_.insert(connection.get());
    connection->start();
  }
}

void Broker::shutdown() {
  shutting_down_ = true;
  memory_timer_.cancel();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  // Copy: closing removes entries.
  std::vector<Connection*> live(connections_.begin(), connections_.end());
  for (Connection* c : live) {
    c->close(amqp_error(protocol::kConnectionForced, "broker shutdown"));
  }
}

VHost* Broker::find_vhost(const std::string& name) {
  auto it = vhosts_.find(name);
  return it == vhosts_.end() ? nullptr : it->second.get();
}

const User* Broker::authenticate(const std::string& user, const std::string& password,
                                 bool from_loopback) const {
  auto it = users_.find(user);
  if (it == users_.end() ||
      !verify_password(password, it->second.password_hash, it->second.hashing_algorithm)) {
    return nullptr;
  }
  if (it->second.loopback_only && !from_loopback) return nullptr;
  return &it->second;
}

void Broker::connection_closed(Connection* connection) {
  connections_.erase(connection);
}

const User* Broker::find_user(std::string_view name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

void Broker::put_user(User user) {
  record_user(user);
  std::string name = user.name;
  users_.insert_or_assign(std::move(name), std::move(user));
}

bool Broker::delete_user(std::string_view name) {
  auto it = users_.find(name);
  if (it == users_.end()) return false;
  ++permissions_generation_;
  std::erase_if(permissions_, [&](const auto& p) {
    if (p.first.second != name) return false;
    forget_permissions(p.first.first, p.first.second);
    return true;
  });
  forget_user(it->first);
  users_.erase(it);
  return true;
}

void Broker::set_permissions(const std::string& vhost, const std::string& user,
                             Permission permission) {
  record_permissions(vhost, user, permission);
  ++permissions_generation_;
  permissions_.insert_or_assign(PermissionKey{vhost, user}, std::move(permission));
}

bool Broker::clear_permissions(const std::string& vhost, const std::string& user) {
  forget_permissions(vhost, user);
  ++permissions_generation_;
  return permissions_.erase(PermissionKey{vhost, user}) > 0;
}

const Permission* Broker::find_permissions(std::string_view vhost, std::string_view user) const {
  auto it = permissions_.find(PermissionKey{std::string(vhost), std::string(user)});
  return it == permissions_.end() ? nullptr : &it->second;
}

bool Broker::add_vhost(const std::string& name, VHostMetadata metadata) {
  record_vhost(name, metadata);
  vhost_metadata_.insert_or_assign(name, std::move(metadata));
  if (vhosts_.contains(name)) return false;
  auto vhost = std::make_unique<VHost>(io_, name);
  vhost->set_persister(persister_.get());
  vhost->set_delayed(delayed_.get());
  vhosts_.emplace(name, std::move(vhost));
  return true;
}

bool Broker::delete_vhost(std::string_view name) {
  auto it = vhosts_.find(name);
  if (it == vhosts_.end()) return false;
  VHost* vhost = it->second.get();
  std::vector<Connection*> live(connections_.begin(), connections_.end());
  for (Connection* c : live) {
    if (c->vhost_or_null() == vhost) {
      c->close(amqp_error(protocol::kConnectionForced, "vhost '{}' is deleted", name));
    }
  }
  vhost->delete_all_queues();
  vhost->forget_definitions();
  forget_vhost(std::string(name));
  ++permissions_generation_;
  std::erase_if(permissions_, [&](const auto& p) {
    if (p.first.first != name) return false;
    forget_permissions(p.first.first, p.first.second);
    return true;
  });
  vhost_metadata_.erase(std::string(name));
  retired_vhosts_.push_back(std::move(it->second));
  vhosts_.erase(it);
  return true;
}

const VHostMetadata* Broker::vhost_metadata(std::string_view name) const {
  auto it = vhost_metadata_.find(name);
  return it == vhost_metadata_.end() ? nullptr : &it->second;
}

}  // namespace warren::broker
