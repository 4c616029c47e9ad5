#pragma once
// Internals shared by the client's source files. Not installed, not public.
// Everything here lives on the connection's executor (see connection.hpp):
// there are no locks because there is only ever one thread inside.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "warren/client/connection.hpp"
#include "warren/protocol/codec.hpp"
#include "warren/protocol/frame.hpp"
#include "warren/protocol/methods.hpp"

namespace warren::client::detail {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using protocol::Bytes;

inline Clock::time_point deadline_after(std::chrono::milliseconds d) {
  const auto now = Clock::now();
  if (d >= std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now)) {
    return Clock::time_point::max();
  }
  return now + d;
}

// A condition variable for one executor: waiters re-check their predicate
// after every notify_all(). Each waiter parks on its own timer, which also
// gives it a deadline.
class Notifier {
 public:
  explicit Notifier(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  // True when notified, false when the deadline passed first.
  asio::awaitable<bool> wait_until(Clock::time_point deadline);
  void notify_all();

 private:
  asio::any_io_executor ex_;
  std::vector<asio::steady_timer*> waiters_;
};

// Waits until pred() holds; throws Error(kTimeout, what) at the deadline.
template <typename Pred>
asio::awaitable<void> wait_for(Notifier& n, Clock::time_point deadline, const Pred& pred,
                               const char* what) {
  while (!pred()) {
    const bool notified = co_await n.wait_until(deadline);
    if (!notified && !pred()) throw Error(Errc::kTimeout, std::string("timed out: ") + what);
  }
}

struct RpcState {
  bool done = false;
  protocol::Method reply;
  std::optional<Delivery> content;  // basic.get-ok
  std::exception_ptr error;
};

// What a publisher or consumer hears from its channel.
class ChannelListener {
 public:
  virtual ~ChannelListener() = default;
  // `d` is the channel's reusable delivery buffer: copy or move out what
  // must outlive the call.
  virtual void on_deliver(Delivery& /*d*/) {}
  virtual void on_return(Returned&&) {}
  virtual void on_confirm(std::uint64_t /*tag*/, bool /*multiple*/, bool /*ack*/) {}
  virtual void on_server_cancel() {}
  virtual void on_channel_closed(const Error&) {}
  virtual void on_connection_lost(const Error&) {}
  // After the channel was re-opened on a new connection (topology is back).
  virtual asio::awaitable<void> recover() { co_return; }
  // After each batch of frames read from the socket.
  virtual void after_batch() {}
  virtual void on_queue_renamed(const std::string& /*from*/, const std::string& /*to*/) {}
};

struct ChannelCore {
  std::uint16_t id = 0;
  bool open = false;
  bool abandoned = false;  // its owner is gone; released at close-ok
  bool closing = false;    // channel.close sent: nothing more may go out on it
  // Whether frames may be sent on it.
  bool usable() const { return open && !closing; }
  std::uint64_t epoch = 0;  // bumped on every channel.open-ok
  std::deque<std::shared_ptr<RpcState>> rpcs;
  ChannelListener* listener = nullptr;

  enum class Content { kNone, kDeliver, kReturn, kGetOk };
  Content content = Content::kNone;
  bool await_header = false;
  protocol::Method content_method;  // basic.return / basic.get-ok
  // basic.deliver, the hot path: decoded straight into a reused Delivery
  // (no Method variant; its strings and body keep their capacity).
  Delivery delivery;
  protocol::BasicProperties props;  // basic.return / basic.get-ok
  std::uint64_t body_size = 0;
  std::string body;
};

struct TopologyEntry {
  enum class Kind { kExchange, kQueue, kQueueBinding, kExchangeBinding };
  Kind kind = Kind::kExchange;
  ExchangeSpec exchange;
  QueueSpec queue;
  std::string queue_name;  // kQueue: the current name (server-named queues change)
  std::string destination, source, routing_key;  // bindings
  protocol::FieldTable arguments;
};

class ConnectionCore : public std::enable_shared_from_this<ConnectionCore> {
 public:
  enum class State { kConnecting, kOpen, kRecovering, kClosed };

  ConnectionCore(asio::any_io_executor ex, Uri uri, ConnectionOptions options);
  ~ConnectionCore();

  // First connection: throws on failure.
  asio::awaitable<void> start();
  asio::awaitable<void> close(std::uint16_t code, std::string_view text);
  // Drops everything at once (the handle's destructor).
  void abort();

  // --- channels
  std::shared_ptr<ChannelCore> allocate_channel(ChannelListener* listener);
  void release_channel(std::uint16_t id);
  asio::awaitable<void> open_channel(ChannelCore& ch, bool recovery = false);
  asio::awaitable<void> close_channel(std::shared_ptr<ChannelCore> ch);
  // For destructors: closes the channel without waiting (released when the
  // close-ok arrives or the connection goes).
  void abandon_channel(const std::shared_ptr<ChannelCore>& ch);
  ChannelCore& control();

  // --- sending (append to the outbound buffer; the writer sends it)
  template <typename M>
  void send(std::uint16_t channel, const M& m) {
    protocol::write_method_frame(out_, channel, m);
    kick_writer();
  }
  // basic.publish and its content (exchange and routing_key at most 255
  // bytes: the caller checks).
  void send_publish(std::uint16_t channel, std::string_view exchange, std::string_view routing_key,
                    bool mandatory, const protocol::BasicProperties& properties,
                    std::string_view body);
  // A synchronous method and its reply. Waits for the connection to be open
  // first unless `recovery` (recovery's own calls). Throws on channel or
  // connection failure, and kTimeout after rpc_timeout.
  // `request` is borrowed until the awaitable completes.
  asio::awaitable<std::shared_ptr<RpcState>> rpc(ChannelCore& ch, const protocol::Method& request,
                                                 bool recovery = false);
  // Waits until open (and, with `for_publish`, not blocked and the write
  // buffer under its cap). Throws kClosed / kTimeout.
  asio::awaitable<void> wait_ready(Clock::time_point deadline, bool for_publish);

  // --- topology record
  void record(TopologyEntry e) { topology_.push_back(std::move(e)); }
  void forget_queue(std::string_view name);
  void forget_exchange(std::string_view name);
  void forget_binding(TopologyEntry::Kind kind, std::string_view dest, std::string_view source,
                      std::string_view key);

  asio::any_io_executor executor() const { return ex_; }
  Notifier& cv() { return *cv_; }
  const std::shared_ptr<Notifier>& cv_ptr() const { return cv_; }
  State state() const { return state_; }
  bool is_open() const { return state_ == State::kOpen; }
  bool blocked() const { return blocked_; }
  std::size_t write_backlog() const { return out_.size(); }
  const Uri& uri() const { return uri_; }
  const ConnectionOptions& options() const { return options_; }
  const ServerCapabilities& capabilities() const { return caps_; }
  const protocol::FieldTable& server_properties() const { return server_properties_; }
  std::uint32_t frame_max() const { return frame_max_; }
  std::uint16_t heartbeat() const { return heartbeat_; }
  std::uint64_t reconnects() const { return reconnects_; }
  // Called from handlers that settle outside the read loop.
  void request_after_batch();

 private:
  using Socket = asio::ip::tcp::socket;

  asio::awaitable<void> connect_and_handshake();
  asio::awaitable<std::pair<protocol::FrameType, Bytes>> handshake_frame(Socket& s);
  template <typename M>
  asio::awaitable<M> handshake_expect(Socket& s);
  asio::awaitable<void> restore();
  asio::awaitable<void> recover_loop();
  asio::awaitable<void> read_loop(std::shared_ptr<Socket> s, std::uint64_t gen);
  asio::awaitable<void> write_loop(std::shared_ptr<Socket> s, std::uint64_t gen);
  asio::awaitable<void> heartbeat_loop(std::uint64_t gen);

  // Returns false when the connection must stop reading.
  bool handle_frame(const protocol::Frame& f);
  bool handle_connection_method(protocol::Method& m);
  void handle_channel_method(ChannelCore& ch, protocol::Method& m);
  void handle_content_complete(ChannelCore& ch);
  void complete_rpc(ChannelCore& ch, protocol::Method m, std::optional<Delivery> content = {});
  void fail_channel(ChannelCore& ch, const Error& e, bool connection_lost);
  // The socket or the peer failed (or the server closed the connection).
  void lost(const Error& e);
  void kick_writer();
  void parse_capabilities();

  asio::any_io_executor ex_;
  Uri uri_;
  ConnectionOptions options_;
  State state_ = State::kConnecting;
  std::shared_ptr<Socket> socket_;
  std::uint64_t generation_ = 0;  // bumped whenever a socket is given up
  std::shared_ptr<Notifier> cv_;  // state changes, confirms, rpc replies, drains
  Notifier write_cv_;

  Bytes out_, writing_;
  bool writing_now_ = false;
  bool writer_waiting_ = false;
  std::vector<std::uint8_t> in_;
  std::size_t in_len_ = 0;
  Bytes scratch_;
  Clock::time_point last_read_{}, last_write_{};

  protocol::FieldTable server_properties_;
  ServerCapabilities caps_;
  std::uint32_t frame_max_ = 131072;
  std::uint16_t channel_max_ = 2047;
  std::uint16_t heartbeat_ = 0;
  bool blocked_ = false;
  bool close_ok_ = false;
  std::uint64_t reconnects_ = 0;
  bool after_batch_posted_ = false;
  bool closed_notified_ = false;  // listeners heard of the final close

  std::map<std::uint16_t, std::shared_ptr<ChannelCore>> channels_;
  ChannelCore* last_channel_ = nullptr;  // handle_frame's cache; reset on erase
  std::shared_ptr<ChannelCore> control_;
  std::vector<TopologyEntry> topology_;
};

}  // namespace warren::client::detail
