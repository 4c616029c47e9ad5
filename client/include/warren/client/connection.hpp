#pragma once
// Connection: one AMQP 0-9-1 connection, its channels, and recovery.
//
// THE THREADING RULE. A Connection and everything made from it (Publisher,
// Consumer, Confirmation) belong to the executor passed to open(). Call them
// only from code running on that executor, which must not run two handlers
// at once: an io_context run by one thread, or a strand. Handlers and
// callbacks run there too. From any other thread, hand the work over with
// boost::asio::co_spawn/post on executor(), or use warren::client::Runner
// (runner.hpp), which does that and blocks for the result.
//
// Inside, a reader coroutine parses frames and dispatches them, a writer
// coroutine sends everything appended since its last write in one
// async_write, and a heartbeat coroutine sends heartbeats and declares the
// peer dead after two silent intervals.
//
// Recovery. When the socket fails (not when close() is called or the server
// refuses the login), the connection reconnects with exponential backoff,
// re-opens its channels, re-declares the recorded topology (exchanges,
// queues, bindings, in declaration order), puts publishers back in confirm
// mode and re-subscribes consumers. Calls made meanwhile wait for it,
// bounded by ConnectionOptions::outage_wait (then Error(kTimeout)). RPCs
// and confirmations in flight at the moment of the failure fail with
// Error(kConnectionLost), except the confirmations of a publisher with
// PublisherOptions::resend_unconfirmed, whose messages go out again after
// recovery (publisher.hpp).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "warren/client/consumer.hpp"
#include "warren/client/error.hpp"
#include "warren/client/message.hpp"
#include "warren/client/publisher.hpp"
#include "warren/client/topology.hpp"
#include "warren/client/uri.hpp"

namespace warren::client {

namespace detail {
class ConnectionCore;
}

// Not an aggregate on purpose (the defaulted constructor): GCC 12
// miscompiles aggregate temporaries inside co_await expressions and
// aggregate prvalues passed to by-value coroutine parameters.
struct ConnectionOptions {
  ConnectionOptions() = default;
  bool auto_reconnect = true;
  std::chrono::milliseconds reconnect_initial_delay{100};
  std::chrono::milliseconds reconnect_max_delay{5000};
  // How long calls wait for a lost connection to come back.
  std::chrono::milliseconds outage_wait{30000};
  // Bound on a single RPC's reply (declare, bind, ...).
  std::chrono::milliseconds rpc_timeout{30000};
  // Outbound bytes buffered before publish() waits for the socket.
  std::size_t max_write_buffer = 4 << 20;
  std::string connection_name;  // client property connection_name
  // Callbacks, on the connection's executor.
  std::function<void(const std::string& reason)> on_blocked;
  std::function<void()> on_unblocked;
  std::function<void(const Error&)> on_disconnected;  // before recovery starts
  std::function<void()> on_reconnected;               // after topology recovery
};

// What the server said about itself in connection.start.
struct ServerCapabilities {
  std::string product;  // "RabbitMQ" (Warren says so too, for compatibility)
  std::string version;
  std::string platform;  // "Warren (C++20)" on Warren
  bool publisher_confirms = false;
  bool basic_nack = false;
  bool consumer_cancel_notify = false;
  bool connection_blocked = false;
  bool per_consumer_qos = false;
  bool direct_reply_to = false;
  bool exchange_exchange_bindings = false;
  // Warren's basic.warren-nack-delay (Retry{delay}).
  bool nack_delay = false;
  // x-delayed-retry-* and x-delivery-limit on classic queues: Warren, or
  // RabbitMQ 4.3 and later. RabbitMQ 3.10 would silently ignore them.
  bool delayed_retry = false;
  bool delivery_limit = false;
  bool is_warren = false;
  protocol::FieldTable raw;  // the capabilities table as sent
};

class Connection {
 public:
  // Connects, logs in and opens the vhost. Throws Error(kHandshakeFailed or
  // kConnectionRefused) on failure; the first connection is not retried.
  // The string form parses at once (std::invalid_argument on a bad URI).
  //
  // Arguments passed as std::string_view or const& anywhere in this library
  // are borrowed until the awaitable completes: co_await it in the same
  // expression, or keep them alive. Specs and options are taken by value.
  static boost::asio::awaitable<Connection> open(boost::asio::any_io_executor executor, Uri uri,
                                                 ConnectionOptions options = {});
  static boost::asio::awaitable<Connection> open(boost::asio::any_io_executor executor,
                                                 std::string_view uri,
                                                 ConnectionOptions options = {});

  Connection() = default;
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  // Drops the socket at once if close() was not awaited (no recovery).
  ~Connection();

  boost::asio::any_io_executor executor() const;
  const Uri& uri() const;
  const ServerCapabilities& capabilities() const;
  const protocol::FieldTable& server_properties() const;
  std::uint32_t frame_max() const;
  std::uint16_t heartbeat() const;   // negotiated, seconds; 0 = off
  bool is_open() const;              // false while down or recovering
  bool is_blocked() const;           // connection.blocked in force
  std::uint64_t reconnects() const;  // completed recoveries
  // Waits until the connection is open (now or after recovery); false on
  // timeout or when it was closed for good.
  boost::asio::awaitable<bool> wait_open(std::chrono::milliseconds timeout);

  // Topology (recorded for recovery; see topology.hpp).
  boost::asio::awaitable<void> declare_exchange(ExchangeSpec spec);
  boost::asio::awaitable<void> delete_exchange(std::string_view name, bool if_unused = false);
  boost::asio::awaitable<QueueInfo> declare_queue(QueueSpec spec);
  // Passive declare: throws Error(kChannelClosed, 404) when it does not exist.
  boost::asio::awaitable<QueueInfo> inspect_queue(std::string_view name);
  boost::asio::awaitable<std::uint32_t> delete_queue(std::string_view name, bool if_unused = false,
                                                     bool if_empty = false);
  boost::asio::awaitable<std::uint32_t> purge_queue(std::string_view name);
  boost::asio::awaitable<void> bind_queue(std::string_view queue, std::string_view exchange,
                                          std::string_view routing_key,
                                          protocol::FieldTable arguments = {});
  boost::asio::awaitable<void> unbind_queue(std::string_view queue, std::string_view exchange,
                                            std::string_view routing_key,
                                            protocol::FieldTable arguments = {});
  boost::asio::awaitable<void> bind_exchange(std::string_view destination, std::string_view source,
                                             std::string_view routing_key,
                                             protocol::FieldTable arguments = {});
  // One message with basic.get, auto-acked; nullopt when the queue is empty.
  boost::asio::awaitable<std::optional<Delivery>> get(std::string_view queue);

  boost::asio::awaitable<Publisher> publisher(PublisherOptions options = {});
  boost::asio::awaitable<Consumer> consume(std::string queue, ConsumerOptions options,
                                           SyncHandler handler);
  boost::asio::awaitable<Consumer> consume(std::string queue, ConsumerOptions options,
                                           AsyncHandler handler);

  // Clean close: connection.close, wait for close-ok (bounded), drop the
  // socket. No recovery afterwards. Idempotent.
  boost::asio::awaitable<void> close(std::uint16_t reply_code = 200,
                                     std::string_view reply_text = "Goodbye");

 private:
  explicit Connection(std::shared_ptr<detail::ConnectionCore> c);
  std::shared_ptr<detail::ConnectionCore> core_;
};

}  // namespace warren::client
