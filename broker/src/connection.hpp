#pragma once
// One client connection: the socket, the AMQP handshake, frame parsing,
// heartbeats and the channels. Owned by a shared_ptr held by its own read
// loop and pending writes; lives on the broker thread (the io_context's only
// thread), so nothing in it is locked.
//
// Writes are batched: frames are appended to `out_` and one async_write
// sends everything appended since the last one, so many deliveries produced
// while handling one read (or one publisher's burst) go out in one syscall.

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "amqp_error.hpp"
#include "channel.hpp"
#include "warren/protocol/codec.hpp"
#include "warren/protocol/frame.hpp"
#include "warren/protocol/methods.hpp"

namespace warren::broker {

class Broker;
class VHost;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Broker& broker, boost::asio::ip::tcp::socket socket);
  ~Connection();

  void start();
  // Closes with connection.close (e.g. an operator's request or shutdown).
  void close(AmqpError error);

  // Frames for the client are appended here; request_flush() sends them.
  protocol::Bytes& out() { return out_; }
  void request_flush();
  // Over the per-connection buffer cap: deliveries pause until it drains.
  bool write_backlogged() const { return pending_bytes() >= buffer_cap_; }
  // A delivery was held back by write_backlogged(); resume when drained.
  void note_backlogged() const { backlogged_ = true; }
  // The channel has publisher confirms to send once the current input is handled.
  // Called per confirmed publish, so consecutive repeats are folded here.
  void note_confirm_pending(std::uint16_t channel) {
    if (confirm_pending_.empty() || confirm_pending_.back() != channel) {
      confirm_pending_.push_back(channel);
    }
  }
  std::uint64_t max_message_size() const;
  // This connection published: the memory alarm applies to it.
  void note_published() { has_published_ = true; }
  // The broker's memory alarm was raised or cleared.
  void memory_alarm_changed(bool raised);
  std::uint32_t frame_max() const { return frame_max_; }
  VHost& vhost() { return *vhost_; }
  bool consumer_cancel_notify() const { return consumer_cancel_notify_; }
  const std::string& user() const { return user_; }
  Broker& broker() const { return broker_; }
  const std::string& peer() const { return peer_; }

  // Read-only state for the admin API's listings.
  VHost* vhost_or_null() const { return vhost_; }  // null until connection.open
  bool is_open() const { return state_ == State::kOpen; }
  const protocol::FieldTable& client_properties() const { return client_properties_; }
  std::chrono::system_clock::time_point connected_at() const { return connected_at_; }
  std::uint16_t heartbeat() const { return heartbeat_; }
  std::uint16_t channel_max() const { return channel_max_; }
  // Indexed by channel number; null where no channel is open.
  const std::vector<std::unique_ptr<Channel>>& channels() const { return channels_; }
  // Local and remote endpoints (empty address when the socket is gone).
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  boost::asio::ip::tcp::endpoint remote_endpoint() const;

 private:
  enum class State {
    kAwaitHeader,
    kAwaitStartOk,
    kAwaitTuneOk,
    kAwaitOpen,
    kOpen,
    kClosing,
    kClosed
  };

  boost::asio::awaitable<void> read_loop();
  // Handles every complete frame in the input buffer; returns bytes used.
  std::size_t process_input(std::span<const std::uint8_t> input);
  bool handle_protocol_header(std::span<const std::uint8_t> input, std::size_t* used);
  MaybeError handle_frame(const protocol::Frame& frame);
  MaybeError handle_connection_method(const protocol::Method& method);
  MaybeError handle_method_frame(const protocol::Frame& frame);
  MaybeError handle_content_frame(const protocol::Frame& frame);
  MaybeError handle_channel_method(std::uint16_t channel, protocol::Method& method);
  AmqpError unexpected_in_state() const;
  bool is_closing(std::uint16_t channel) const;
  MaybeError on_start_ok(const protocol::method::ConnectionStartOk& m);
  MaybeError on_tune_ok(const protocol::method::ConnectionTuneOk& m);
  MaybeError on_open(const protocol::method::ConnectionOpen& m);
  void close_channel_with(Channel& channel, AmqpError error);
  void send_start();
  void on_client_close();
  void notify_blocked(bool blocked);
  void start_write();
  void start_heartbeat();
  void start_handshake_timer();
  void shutdown_socket();
  // Half-closes after the last write and waits (bounded) for the client's EOF.
  void finish_close();
  void teardown();
  std::size_t pending_bytes() const { return out_.size() + writing_.size(); }
  template <typename M>
  void send(std::uint16_t channel, const M& method);

  Broker& broker_;
  boost::asio::ip::tcp::socket socket_;
  std::string peer_;
  bool peer_is_loopback_ = false;
  State state_ = State::kAwaitHeader;
  std::string user_;
  VHost* vhost_ = nullptr;
  protocol::FieldTable client_properties_;
  std::chrono::system_clock::time_point connected_at_ = std::chrono::system_clock::now();

  std::uint32_t frame_max_ = protocol::kFrameMinSize;
  std::uint16_t channel_max_ = 0;
  std::uint16_t heartbeat_ = 0;
  bool consumer_cancel_notify_ = false;
  std::uint64_t buffer_cap_;

  // Indexed by channel number; null where no channel is open. A channel
  // that hit an error stays (closing) until the client's close-ok.
  std::vector<std::unique_ptr<Channel>> channels_;
  std::vector<std::uint16_t> closing_channels_;

  protocol::Bytes in_;
  protocol::Bytes out_;
  protocol::Bytes writing_;
  bool write_in_flight_ = false;
  bool flush_posted_ = false;
  bool close_after_write_ = false;
  mutable bool backlogged_ = false;  // deliveries were paused for a full buffer
  std::vector<std::uint16_t> confirm_pending_;

  // Heartbeats: activity flags since the last tick.
  bool read_since_tick_ = false;
  bool wrote_since_tick_ = false;
  int silent_ticks_ = 0;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer close_timer_;
  bool torn_down_ = false;
  bool half_closed_ = false;
  bool client_closed_ = false;  // the client sent connection.close
  bool has_published_ = false;
  bool blocked_ = false;                     // reads paused by the memory alarm
  bool client_wants_blocked_ = false;        // capability connection.blocked
  bool told_blocked_ = false;                // connection.blocked sent, unblocked not yet
  boost::asio::steady_timer unblock_timer_;  // the paused read loop waits on it
};

}  // namespace warren::broker
