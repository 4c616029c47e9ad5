// Connection: the public handle over ConnectionCore (topology, factories).

#include <fmt/core.h>

#include "roles.hpp"

namespace warren::client {

namespace m = protocol::method;
using detail::ConnectionCore;
using detail::TopologyEntry;

Connection::Connection(std::shared_ptr<ConnectionCore> c) : core_(std::move(c)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (core_) core_->abort();
    core_ = std::move(other.core_);
  }
  return *this;
}
Connection::~Connection() {
  if (core_) core_->abort();
}

boost::asio::awaitable<Connection> Connection::open(boost::asio::any_io_executor executor, Uri uri,
                                                    ConnectionOptions options) {
  auto core = std::make_shared<ConnectionCore>(executor, std::move(uri), std::move(options));
  try {
    co_await core->start();
  } catch (...) {
    core->abort();
    throw;
  }
  co_return Connection(std::move(core));
}

// Not a coroutine: parses now, so the string need not outlive the call.
boost::asio::awaitable<Connection> Connection::open(boost::asio::any_io_executor executor,
                                                    std::string_view uri,
                                                    ConnectionOptions options) {
  return open(std::move(executor), Uri::parse(uri), std::move(options));
}

namespace {
ConnectionCore& need(const std::shared_ptr<ConnectionCore>& c) {
  if (!c) throw Error(Errc::kClosed, "empty Connection");
  return *c;
}
}  // namespace

boost::asio::any_io_executor Connection::executor() const {
  return need(core_).executor();
}
const Uri& Connection::uri() const {
  return need(core_).uri();
}
const ServerCapabilities& Connection::capabilities() const {
  return need(core_).capabilities();
}
const protocol::FieldTable& Connection::server_properties() const {
  return need(core_).server_properties();
}
std::uint32_t Connection::frame_max() const {
  return need(core_).frame_max();
}
std::uint16_t Connection::heartbeat() const {
  return need(core_).heartbeat();
}
bool Connection::is_open() const {
  return core_ && core_->is_open();
}
bool Connection::is_blocked() const {
  return core_ && core_->blocked();
}
std::uint64_t Connection::reconnects() const {
  return core_ ? core_->reconnects() : 0;
}

boost::asio::awaitable<bool> Connection::wait_open(std::chrono::milliseconds timeout) {
  auto core = core_;
  if (!core) co_return false;
  const auto deadline = detail::deadline_after(timeout);
  while (core->state() != ConnectionCore::State::kOpen) {
    if (core->state() == ConnectionCore::State::kClosed) co_return false;
    if (!co_await core->cv().wait_until(deadline)) break;
  }
  co_return core->is_open();
}

boost::asio::awaitable<void> Connection::declare_exchange(ExchangeSpec spec) {
  auto core = core_;
  m::ExchangeDeclare d;
  d.exchange = spec.name;
  d.type = spec.type;
  d.durable = spec.durable;
  d.auto_delete = spec.auto_delete;
  d.internal = spec.internal;
  d.arguments = spec.arguments();
  co_await need(core).rpc(core->control(), d);
  core->forget_exchange(spec.name);
  TopologyEntry e;
  e.kind = TopologyEntry::Kind::kExchange;
  e.exchange = spec;
  core->record(std::move(e));
}

boost::asio::awaitable<void> Connection::delete_exchange(std::string_view name, bool if_unused) {
  auto core = core_;
  m::ExchangeDelete d;
  d.exchange = std::string(name);
  d.if_unused = if_unused;
  co_await need(core).rpc(core->control(), d);
  core->forget_exchange(name);
}

boost::asio::awaitable<QueueInfo> Connection::declare_queue(QueueSpec spec) {
  auto core = core_;
  const ServerCapabilities& caps = need(core).capabilities();
  const protocol::FieldValue* qtype = protocol::find_field(spec.extra_arguments, "x-queue-type");
  const bool quorum = qtype && qtype->as_string() && *qtype->as_string() == "quorum";
  if (spec.retry && !caps.delayed_retry) {
    throw Error(Errc::kUnsupported,
                fmt::format("queue '{}': delayed retry (x-delayed-retry-*) needs Warren or "
                            "RabbitMQ >= 4.3; this server is {} {}, which would ignore it",
                            spec.name, caps.product, caps.version));
  }
  if (spec.delivery_limit && !caps.delivery_limit && !quorum) {
    throw Error(Errc::kUnsupported,
                fmt::format("queue '{}': x-delivery-limit on a classic queue needs Warren or "
                            "RabbitMQ >= 4.3; this server is {} {} (use a quorum queue there)",
                            spec.name, caps.product, caps.version));
  }
  m::QueueDeclare d;
  d.queue = spec.name;
  d.durable = spec.durable;
  d.exclusive = spec.exclusive;
  d.auto_delete = spec.auto_delete;
  d.arguments = spec.arguments();
  auto st = co_await core->rpc(core->control(), d);
  const auto& ok = std::get<m::QueueDeclareOk>(st->reply);
  core->forget_queue(ok.queue);
  TopologyEntry e;
  e.kind = TopologyEntry::Kind::kQueue;
  e.queue = spec;
  e.queue_name = ok.queue;
  core->record(std::move(e));
  QueueInfo info;
  info.name = ok.queue;
  info.message_count = ok.message_count;
  info.consumer_count = ok.consumer_count;
  co_return info;
}

boost::asio::awaitable<QueueInfo> Connection::inspect_queue(std::string_view name) {
  auto core = core_;
  m::QueueDeclare d;
  d.queue = std::string(name);
  d.passive = true;
  auto st = co_await need(core).rpc(core->control(), d);
  const auto& ok = std::get<m::QueueDeclareOk>(st->reply);
  QueueInfo info;
  info.name = ok.queue;
  info.message_count = ok.message_count;
  info.consumer_count = ok.consumer_count;
  co_return info;
}

boost::asio::awaitable<std::uint32_t> Connection::delete_queue(std::string_view name,
                                                               bool if_unused, bool if_empty) {
  auto core = core_;
  m::QueueDelete d;
  d.queue = std::string(name);
  d.if_unused = if_unused;
  d.if_empty = if_empty;
  auto st = co_await need(core).rpc(core->control(), d);
  core->forget_queue(name);
  co_return std::get<m::QueueDeleteOk>(st->reply).message_count;
}

boost::asio::awaitable<std::uint32_t> Connection::purge_queue(std::string_view name) {
  auto core = core_;
  m::QueuePurge p;
  p.queue = std::string(name);
  auto st = co_await need(core).rpc(core->control(), p);
  co_return std::get<m::QueuePurgeOk>(st->reply).message_count;
}

boost::asio::awaitable<void> Connection::bind_queue(std::string_view queue,
                                                    std::string_view exchange,
                                                    std::string_view routing_key,
                                                    protocol::FieldTable arguments) {
  auto core = core_;
  m::QueueBind b;
  b.queue = std::string(queue);
  b.exchange = std::string(exchange);
  b.routing_key = std::string(routing_key);
  b.arguments = arguments;
  co_await need(core).rpc(core->control(), b);
  core->forget_binding(TopologyEntry::Kind::kQueueBinding, queue, exchange, routing_key);
  TopologyEntry e;
  e.kind = TopologyEntry::Kind::kQueueBinding;
  e.destination = std::string(queue);
  e.source = std::string(exchange);
  e.routing_key = std::string(routing_key);
  e.arguments = arguments;
  core->record(std::move(e));
}

boost::asio::awaitable<void> Connection::unbind_queue(std::string_view queue,
                                                      std::string_view exchange,
                                                      std::string_view routing_key,
                                                      protocol::FieldTable arguments) {
  auto core = core_;
  m::QueueUnbind u;
  u.queue = std::string(queue);
  u.exchange = std::string(exchange);
  u.routing_key = std::string(routing_key);
  u.arguments = arguments;
  co_await need(core).rpc(core->control(), u);
  core->forget_binding(TopologyEntry::Kind::kQueueBinding, queue, exchange, routing_key);
}

boost::asio::awaitable<void> Connection::bind_exchange(std::string_view destination,
                                                       std::string_view source,
                                                       std::string_view routing_key,
                                                       protocol::FieldTable arguments) {
  auto core = core_;
  m::ExchangeBind b;
  b.destination = std::string(destination);
  b.source = std::string(source);
  b.routing_key = std::string(routing_key);
  b.arguments = arguments;
  co_await need(core).rpc(core->control(), b);
  core->forget_binding(TopologyEntry::Kind::kExchangeBinding, destination, source, routing_key);
  TopologyEntry e;
  e.kind = TopologyEntry::Kind::kExchangeBinding;
  e.destination = std::string(destination);
  e.source = std::string(source);
  e.routing_key = std::string(routing_key);
  e.arguments = arguments;
  core->record(std::move(e));
}

boost::asio::awaitable<std::optional<Delivery>> Connection::get(std::string_view queue) {
  auto core = core_;
  m::BasicGet g;
  g.queue = std::string(queue);
  g.no_ack = true;
  auto st = co_await need(core).rpc(core->control(), g);
  if (st->content) co_return std::move(st->content);
  co_return std::nullopt;
}

boost::asio::awaitable<Publisher> Connection::publisher(PublisherOptions options) {
  auto core = core_;
  auto p = std::make_shared<detail::PublisherCore>(need(core).shared_from_this(), options);
  co_await p->start();
  co_return Publisher(std::move(p));
}

boost::asio::awaitable<Consumer> Connection::consume(std::string queue, ConsumerOptions options,
                                                     SyncHandler handler) {
  auto core = core_;
  auto c = std::make_shared<detail::ConsumerCore>(need(core).shared_from_this(), std::string(queue),
                                                  options, handler, AsyncHandler{});
  co_await c->start();
  co_return Consumer(std::move(c));
}

boost::asio::awaitable<Consumer> Connection::consume(std::string queue, ConsumerOptions options,
                                                     AsyncHandler handler) {
  auto core = core_;
  auto c = std::make_shared<detail::ConsumerCore>(need(core).shared_from_this(), std::string(queue),
                                                  options, SyncHandler{}, handler);
  co_await c->start();
  co_return Consumer(std::move(c));
}

boost::asio::awaitable<void> Connection::close(std::uint16_t reply_code,
                                               std::string_view reply_text) {
  auto core = core_;
  if (!core) co_return;
  co_await core->close(reply_code, reply_text);
}

}  // namespace warren::client
