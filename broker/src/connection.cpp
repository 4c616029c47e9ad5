#include "connection.hpp"

#include <algorithm>
#include <cstring>

#include "broker.hpp"
#include "log.hpp"
#include "version.hpp"
#include "vhost.hpp"

namespace warren::broker {

namespace asio = boost::asio;
namespace m = protocol::method;
using protocol::FieldTable;
using protocol::Frame;
using protocol::FrameType;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr auto kCloseTimeout = std::chrono::seconds(3);
constexpr auto kClientHangupTimeout = std::chrono::seconds(10);

FieldTable server_properties() {
  FieldTable capabilities{
      {"publisher_confirms", true},
      {"warren.nack_delay", true},  // docs/PROTOCOL-EXTENSIONS.md
      {"exchange_exchange_bindings", true},
      {"basic.nack", true},
      {"consumer_cancel_notify", true},
      {"connection.blocked", true},
      {"consumer_priorities", true},
      {"authentication_failure_close", true},
      {"per_consumer_qos", true},
      {"direct_reply_to", true},
  };
  return FieldTable{
      {"capabilities", std::move(capabilities)},
      // Clients and their tests check for "RabbitMQ" to enable RabbitMQ's
      // extensions, which Warren implements; the platform names Warren.
      {"product", std::string("RabbitMQ")},
      {"version", std::string(kVersion)},
      {"platform", std::string("Warren (C++20)")},
      {"cluster_name", std::string("warren")},
      {"copyright", std::string("The Warren authors")},
      {"information", std::string("An AMQP 0-9-1 broker; see the README")},
  };
}

// PLAIN: "\0user\0password" (an authzid before the first NUL is ignored).
bool parse_plain(const std::string& response, std::string* user, std::string* password) {
  auto first = response.find('\0');
  if (first == std::string::npos) return false;
  auto second = response.find('\0', first + 1);
  if (second == std::string::npos) return false;
  *user = response.substr(first + 1, second - first - 1);
  *password = response.substr(second + 1);
  return true;
}

// AMQPLAIN: a field table's entries without the table's length prefix.
bool parse_amqplain(const std::string& response, std::string* user, std::string* password) {
  protocol::Bytes framed;
  protocol::Encoder enc(framed);
  enc.longstr(response);
  protocol::Decoder dec(framed);
  FieldTable table = dec.table();
  if (dec.failed()) return false;
  const auto* login = protocol::find_field(table, "LOGIN");
  const auto* pass = protocol::find_field(table, "PASSWORD");
  if (login == nullptr || pass == nullptr || !login->as_string() || !pass->as_string()) {
    return false;
  }
  *user = *login->as_string();
  *password = *pass->as_string();
  return true;
}

bool client_has_capability(const FieldTable& client_properties, std::string_view name) {
  const auto* caps = protocol::find_field(client_properties, "capabilities");
  if (caps == nullptr || caps->as_table() == nullptr) return false;
  const auto* v = protocol::find_field(*caps->as_table(), name);
  return v != nullptr && v->as_bool().value_or(false);
}

}  // namespace

Connection::Connection(Broker& broker, asio::ip::tcp::socket socket)
    : broker_(broker),
      socket_(std::move(socket)),
      buffer_cap_(broker.config().max_connection_buffer),
      heartbeat_timer_(broker.io()),
      handshake_timer_(broker.io()),
      close_timer_(broker.io()),
      unblock_timer_(broker.io()) {
  boost::system::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  if (!ec) {
    peer_ = remote.address().to_string() + ":" + std::to_string(remote.port());
    peer_is_loopback_ =
        remote.address().is_loopback() ||
        (remote.address().is_v6() && remote.address().to_v6().is_v4_mapped() &&
         asio::ip::make_address_v4(asio::ip::v4_mapped, remote.address().to_v6()).is_loopback());
  }
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  frame_max_ = broker.config().frame_max;
}

Connection::~Connection() = default;

std::uint64_t Connection::max_message_size() const {
  return broker_.config().max_message_size;
}

void Connection::start() {
  start_handshake_timer();
  asio::co_spawn(broker_.io(), read_loop(), asio::detached);
}

void Connection::start_handshake_timer() {
  handshake_timer_.expires_after(std::chrono::seconds(broker_.config().handshake_timeout_seconds));
  handshake_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->state_ == State::kOpen || self->state_ == State::kClosed) return;
    log_info("closing {}: handshake not completed in time", self->peer_);
    self->shutdown_socket();
  });
}

// ---------------------------------------------------------------- reading

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  std::size_t filled = 0;
  for (;;) {
    if (broker_.publishers_blocked() && has_published_ && state_ == State::kOpen) {
      // Backpressure: stop reading a publisher until memory is released.
      blocked_ = true;
      notify_blocked(true);
      unblock_timer_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await unblock_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      blocked_ = false;
      if (state_ == State::kClosed) break;
      notify_blocked(false);
      continue;
    }
    if (in_.size() - filled < kReadChunk) in_.resize(filled + kReadChunk);
    auto [ec, n] =
        co_await socket_.async_read_some(asio::buffer(in_.data() + filled, in_.size() - filled),
                                         asio::as_tuple(asio::use_awaitable));
    if (ec || state_ == State::kClosed) break;
    filled += n;
    read_since_tick_ = true;
    std::size_t used = process_input(std::span<const std::uint8_t>(in_.data(), filled));
    if (used > 0) {
      std::memmove(in_.data(), in_.data() + used, filled - used);
      filled -= used;
    }
    for (std::uint16_t ch : confirm_pending_) {
      if (ch < channels_.size() && channels_[ch]) channels_[ch]->flush_confirms();
    }
    confirm_pending_.clear();
    start_write();
  }
  teardown();
}

std::size_t Connection::process_input(std::span<const std::uint8_t> input) {
  std::size_t used = 0;
  if (state_ == State::kAwaitHeader) {
    if (!handle_protocol_header(input, &used)) return used;
  }
  while (used < input.size()) {
    if (state_ == State::kClosed) return input.size();
    const std::uint32_t limit = state_ == State::kOpen ? frame_max_ : broker_.config().frame_max;
    protocol::FrameParse parse = protocol::parse_frame(input.subspan(used), limit);
    if (parse.status == protocol::FrameStatus::kNeedMore) break;
    if (parse.status != protocol::FrameStatus::kOk) {
      if (state_ == State::kClosing) return input.size();  // already closing: drop the rest
      const char* what = parse.status == protocol::FrameStatus::kTooLarge ? "frame too large"
                         : parse.status == protocol::FrameStatus::kBadFrameEnd
                             ? "invalid frame end marker"
                             : "unknown frame type";
      close(amqp_error(protocol::kFrameError, "{}", what));
      // The stream can no longer be framed: stop reading it.
      close_after_write_ = true;
      return input.size();
    }
    used += parse.consumed;
    if (MaybeError err = handle_frame(parse.frame)) close(std::move(*err));
  }
  return used;
}

bool Connection::handle_protocol_header(std::span<const std::uint8_t> input, std::size_t* used) {
  if (input.size() < sizeof(protocol::kProtocolHeader)) {
    // A prefix that already differs can be refused at once.
    if (std::memcmp(input.data(), protocol::kProtocolHeader, input.size()) == 0) return false;
  } else if (std::memcmp(input.data(), protocol::kProtocolHeader,
                         sizeof(protocol::kProtocolHeader)) == 0) {
    *used = sizeof(protocol::kProtocolHeader);
    state_ = State::kAwaitStartOk;
    send_start();
    return true;
  }
  // Wrong protocol or version: answer with the one we speak, then close.
  out_.insert(out_.end(), std::begin(protocol::kProtocolHeader),
              std::end(protocol::kProtocolHeader));
  state_ = State::kClosing;
  close_after_write_ = true;
  *used = input.size();
  start_write();
  return false;
}

void Connection::send_start() {
  send(0, m::ConnectionStart{0, 9, server_properties(), "PLAIN AMQPLAIN", "en_US"});
}

template <typename M>
void Connection::send(std::uint16_t channel, const M& method) {
  protocol::write_method_frame(out_, channel, method);
}

MaybeError Connection::handle_frame(const Frame& frame) {
  if (state_ == State::kClosing) {
    // After connection.close only close-ok (or a crossing close) matters.
    if (frame.type == FrameType::kMethod && frame.channel == 0) {
      protocol::MethodDecode d = protocol::decode_method(frame.payload);
      // Our close crossed with the client's, or the client confirms ours:
      // either way the handshake is done. (After the client's own close we
      // already answered and just wait for it to hang up.)
      if (d.status == protocol::MethodStatus::kOk && !client_closed_ &&
          (std::holds_alternative<m::ConnectionCloseOk>(d.method) ||
           std::holds_alternative<m::ConnectionClose>(d.method))) {
        if (std::holds_alternative<m::ConnectionClose>(d.method)) send(0, m::ConnectionCloseOk{});
        close_after_write_ = true;
        start_write();
      }
    }
    return std::nullopt;
  }
  switch (frame.type) {
    case FrameType::kHeartbeat:
      if (frame.channel != 0) {
        return amqp_error(protocol::kUnexpectedFrame, "heartbeat frame on channel {}",
                          frame.channel);
      }
      if (!frame.payload.empty()) {
        return amqp_error(protocol::kFrameError, "heartbeat frame with a payload");
      }
      return std::nullopt;
    case FrameType::kMethod:
      return handle_method_frame(frame);
    case FrameType::kHeader:
    case FrameType::kBody:
      return handle_content_frame(frame);
  }
  return amqp_error(protocol::kFrameError, "unknown frame type");
}

MaybeError Connection::handle_method_frame(const Frame& frame) {
  protocol::MethodDecode d = protocol::decode_method(frame.payload);
  auto caused_by = [&](AmqpError e) {
    if (e.class_id == 0) {
      e.class_id = d.class_id;
      e.method_id = d.method_id;
    }
    return e;
  };
  if (d.status == protocol::MethodStatus::kUnknownMethod) {
    return caused_by(
        amqp_error(protocol::kNotImplemented, "unknown method {}/{}", d.class_id, d.method_id));
  }
  if (d.status != protocol::MethodStatus::kOk) {
    return caused_by(amqp_error(protocol::kFrameError, "cannot decode {} method frame",
                                protocol::method_name(d.class_id, d.method_id)));
  }
  constexpr std::uint16_t kConnectionClass = 10;
  if (frame.channel == 0) {
    if (d.class_id != kConnectionClass) {
      if (state_ != State::kOpen) return caused_by(unexpected_in_state());
      return caused_by(
          amqp_error(protocol::kChannelError, "unexpected method in connection state running"));
    }
    MaybeError err = handle_connection_method(d.method);
    if (err) return caused_by(std::move(*err));
    return std::nullopt;
  }
  if (d.class_id == kConnectionClass) {
    return caused_by(amqp_error(protocol::kCommandInvalid, "unimplemented method"));
  }
  if (state_ != State::kOpen) return caused_by(unexpected_in_state());
  MaybeError err = handle_channel_method(frame.channel, d.method);
  if (err) return caused_by(std::move(*err));
  return std::nullopt;
}

AmqpError Connection::unexpected_in_state() const {
  return amqp_error(protocol::kChannelError, "unexpected method before connection.open");
}

MaybeError Connection::handle_content_frame(const Frame& frame) {
  const std::uint16_t number = frame.channel;
  Channel* channel = number < channels_.size() ? channels_[number].get() : nullptr;
  if (number == 0 || state_ != State::kOpen) {
    return amqp_error(protocol::kUnexpectedFrame, "content frame (type {}) on channel {}",
                      static_cast<int>(frame.type), number);
  }
  if (channel != nullptr && is_closing(number)) return std::nullopt;
  if (channel == nullptr || !channel->expecting_content()) {
    return amqp_error(protocol::kUnexpectedFrame,
                      "expected method frame, got non method frame instead");
  }
  MaybeError err = frame.type == FrameType::kHeader ? channel->handle_header(frame)
                                                    : channel->handle_body(frame);
  if (err && !err->is_connection_error()) {
    close_channel_with(*channel, std::move(*err));
    return std::nullopt;
  }
  return err;
}

bool Connection::is_closing(std::uint16_t channel) const {
  return std::find(closing_channels_.begin(), closing_channels_.end(), channel) !=
         closing_channels_.end();
}

MaybeError Connection::handle_channel_method(std::uint16_t number, protocol::Method& method) {
  Channel* channel = number < channels_.size() ? channels_[number].get() : nullptr;
  if (channel != nullptr && is_closing(number)) {
    // Waiting for the client's close-ok; everything else is dropped.
    // A crossing channel.close gets its close-ok, but the channel stays
    // reserved until the client's close-ok for ours arrives (as RabbitMQ).
    if (std::holds_alternative<m::ChannelClose>(method)) send(number, m::ChannelCloseOk{});
    if (std::holds_alternative<m::ChannelCloseOk>(method)) {
      closing_channels_.erase(
          std::find(closing_channels_.begin(), closing_channels_.end(), number));
      channels_[number].reset();
    }
    return std::nullopt;
  }
  if (std::holds_alternative<m::ChannelOpen>(method)) {
    if (channel != nullptr) {
      return amqp_error(protocol::kChannelError, "second 'channel.open' seen");
    }
    if (number > channel_max_) {
      return amqp_error(protocol::kChannelError, "channel number {} exceeds max {}", number,
                        channel_max_);
    }
    if (channels_.size() <= number) channels_.resize(number + 1);
    channels_[number] = std::make_unique<Channel>(*this, number);
    send(number, m::ChannelOpenOk{});
    return std::nullopt;
  }
  if (channel == nullptr) {
    return amqp_error(protocol::kChannelError, "expected 'channel.open'");
  }
  MaybeError err = channel->handle_method(method);
  if (err) {
    if (err->is_connection_error()) return err;
    close_channel_with(*channel, std::move(*err));
    return std::nullopt;
  }
  if (std::holds_alternative<m::ChannelClose>(method)) channels_[number].reset();
  return std::nullopt;
}

void Connection::close_channel_with(Channel& channel, AmqpError error) {
  log_debug("{} channel {}: {}", peer_, channel.id(), error.text);
  channel.release_all();
  send(channel.id(), m::ChannelClose{error.code, error.text, error.class_id, error.method_id});
  closing_channels_.push_back(channel.id());
}

// ---------------------------------------------------------------- handshake

void Connection::on_client_close() {
  // As RabbitMQ: answer close-ok, release everything, and let the client
  // hang up (a client may still be writing; closing first would reset it).
  for (auto& ch : channels_) {
    if (ch) ch->release_all();
  }
  send(0, m::ConnectionCloseOk{});
  state_ = State::kClosing;
  client_closed_ = true;
  close_timer_.expires_after(kClientHangupTimeout);
  close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->shutdown_socket();
  });
}

MaybeError Connection::handle_connection_method(const protocol::Method& method) {
  switch (state_) {
    case State::kAwaitStartOk:
      if (auto* m = std::get_if<m::ConnectionStartOk>(&method)) return on_start_ok(*m);
      break;
    case State::kAwaitTuneOk:
      if (auto* m = std::get_if<m::ConnectionTuneOk>(&method)) return on_tune_ok(*m);
      break;
    case State::kAwaitOpen:
      if (auto* m = std::get_if<m::ConnectionOpen>(&method)) return on_open(*m);
      break;
    case State::kOpen:
      if (std::holds_alternative<m::ConnectionClose>(method)) {
        on_client_close();
        return std::nullopt;
      }
      if (std::holds_alternative<m::ConnectionUpdateSecret>(method)) {
        // Secrets are not tracked beyond the login; accept the new one.
        send(0, m::ConnectionUpdateSecretOk{});
        return std::nullopt;
      }
      if (std::holds_alternative<m::ConnectionBlocked>(method) ||
          std::holds_alternative<m::ConnectionUnblocked>(method)) {
        return std::nullopt;
      }
      break;
    default:
      break;
  }
  if (std::holds_alternative<m::ConnectionClose>(method)) {
    on_client_close();
    return std::nullopt;
  }
  std::string_view name =
      std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kName; }, method);
  return amqp_error(protocol::kCommandInvalid, "unexpected method {} on channel 0", name);
}

MaybeError Connection::on_start_ok(const m::ConnectionStartOk& start_ok) {
  consumer_cancel_notify_ =
      client_has_capability(start_ok.client_properties, "consumer_cancel_notify");
  client_wants_blocked_ = client_has_capability(start_ok.client_properties, "connection.blocked");
  std::string user, password;
  bool parsed = false;
  if (start_ok.mechanism == "PLAIN") {
    parsed = parse_plain(start_ok.response, &user, &password);
  } else if (start_ok.mechanism == "AMQPLAIN") {
    parsed = parse_amqplain(start_ok.response, &user, &password);
  } else {
    return amqp_error(protocol::kCommandInvalid, "unknown authentication mechanism '{}'",
                      start_ok.mechanism);
  }
  if (!parsed || broker_.authenticate(user, password, peer_is_loopback_) == nullptr) {
    log_info("{}: login refused for user '{}'", peer_, user);
    return amqp_error(protocol::kAccessRefused,
                      "Login was refused using authentication mechanism {}. For details see the "
                      "broker logfile.",
                      start_ok.mechanism);
  }
  user_ = user;
  client_properties_ = start_ok.client_properties;
  state_ = State::kAwaitTuneOk;
  const Config& c = broker_.config();
  send(0, m::ConnectionTune{c.channel_max, c.frame_max, c.heartbeat_seconds});
  return std::nullopt;
}

MaybeError Connection::on_tune_ok(const m::ConnectionTuneOk& tune_ok) {
  const Config& c = broker_.config();
  const std::uint32_t frame_max = tune_ok.frame_max == 0 ? c.frame_max : tune_ok.frame_max;
  if (frame_max < protocol::kFrameMinSize) {
    return amqp_error(protocol::kNotAllowed, "frame_max={} < {} min size", frame_max,
                      protocol::kFrameMinSize);
  }
  if (frame_max > c.frame_max) {
    return amqp_error(protocol::kNotAllowed, "frame_max={} > {} max size", frame_max, c.frame_max);
  }
  frame_max_ = frame_max;
  channel_max_ =
      tune_ok.channel_max == 0 ? c.channel_max : std::min(tune_ok.channel_max, c.channel_max);
  heartbeat_ = tune_ok.heartbeat;
  state_ = State::kAwaitOpen;
  return std::nullopt;
}

MaybeError Connection::on_open(const m::ConnectionOpen& open) {
  vhost_ = broker_.find_vhost(open.virtual_host);
  if (vhost_ == nullptr) {
    return amqp_error(protocol::kNotAllowed, "vhost {} not found", open.virtual_host);
  }
  if (broker_.find_permissions(open.virtual_host, user_) == nullptr) {
    // As RabbitMQ: a user needs some permissions on a vhost to open it.
    vhost_ = nullptr;
    return amqp_error(protocol::kNotAllowed, "access to vhost '{}' refused for user '{}'",
                      open.virtual_host, user_);
  }
  state_ = State::kOpen;
  handshake_timer_.cancel();
  send(0, m::ConnectionOpenOk{});
  if (heartbeat_ > 0) start_heartbeat();
  return std::nullopt;
}

// ---------------------------------------------------------------- heartbeats

boost::asio::ip::tcp::endpoint Connection::local_endpoint() const {
  boost::system::error_code ec;
  auto endpoint = socket_.local_endpoint(ec);
  return ec ? boost::asio::ip::tcp::endpoint{} : endpoint;
}

boost::asio::ip::tcp::endpoint Connection::remote_endpoint() const {
  boost::system::error_code ec;
  auto endpoint = socket_.remote_endpoint(ec);
  return ec ? boost::asio::ip::tcp::endpoint{} : endpoint;
}

void Connection::memory_alarm_changed(bool raised) {
  if (!has_published_ || state_ != State::kOpen) return;
  // Tell the client now; its reads pause when the read loop next comes round.
  if (raised) notify_blocked(true);
  if (!raised && blocked_) unblock_timer_.cancel();
  if (!raised && !blocked_) notify_blocked(false);
}

void Connection::notify_blocked(bool blocked) {
  if (!client_wants_blocked_ || told_blocked_ == blocked) return;
  told_blocked_ = blocked;
  if (blocked) {
    // RabbitMQ's reasons: the disk alarm says "low on disk".
    send(0, m::ConnectionBlocked{broker_.memory_alarm() ? "low on memory" : "low on disk"});
  } else {
    send(0, m::ConnectionUnblocked{});
  }
  start_write();
}

void Connection::start_heartbeat() {
  // Ticks at half the interval: send when we were quiet, and drop a peer
  // that was silent for two full intervals (four ticks).
  heartbeat_timer_.expires_after(std::chrono::milliseconds(heartbeat_ * 500));
  heartbeat_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->state_ == State::kClosed) return;
    // A blocked connection is not read, so its heartbeats cannot count.
    if (self->read_since_tick_ || self->blocked_) {
      self->silent_ticks_ = 0;
    } else if (++self->silent_ticks_ >= 4) {
      log_info("closing {}: missed heartbeats from client, timeout: {}s", self->peer_,
               self->heartbeat_);
      self->shutdown_socket();
      return;
    }
    self->read_since_tick_ = false;
    if (!self->wrote_since_tick_) {
      protocol::write_heartbeat_frame(self->out_);
      self->start_write();
    }
    self->wrote_since_tick_ = false;
    self->start_heartbeat();
  });
}

// ---------------------------------------------------------------- writing

void Connection::request_flush() {
  if (write_in_flight_ || flush_posted_ || state_ == State::kClosed) return;
  flush_posted_ = true;
  // Posted, so everything produced by the current handler goes in one write.
  asio::post(broker_.io(), [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->start_write();
  });
}

void Connection::start_write() {
  if (write_in_flight_ || state_ == State::kClosed) return;
  if (out_.empty()) {
    if (close_after_write_) finish_close();
    return;
  }
  writing_.swap(out_);
  write_in_flight_ = true;
  wrote_since_tick_ = true;
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      self->write_in_flight_ = false;
                      self->writing_.clear();
                      if (ec) {
                        self->shutdown_socket();
                        return;
                      }
                      if (self->backlogged_ && !self->write_backlogged()) {
                        self->backlogged_ = false;
                        for (auto& ch : self->channels_) {
                          if (ch) ch->resume_deliveries();
                        }
                      }
                      self->start_write();
                    });
}

void Connection::close(AmqpError error) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  log_info("closing {}: {}", peer_, error.text);
  // Deliveries stop at once; unacked messages go back to their queues.
  for (auto& ch : channels_) {
    if (ch) ch->release_all();
  }
  send(0, m::ConnectionClose{error.code, error.text, error.class_id, error.method_id});
  state_ = State::kClosing;
  start_write();
  close_timer_.expires_after(kCloseTimeout);
  close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->shutdown_socket();
  });
}

void Connection::finish_close() {
  if (state_ == State::kClosed || half_closed_) return;
  half_closed_ = true;
  state_ = State::kClosing;
  // Half-close: the client reads everything we sent before it sees EOF (a
  // full close with unread input would reset the connection and could lose
  // our connection.close). The read loop drains until the client hangs up.
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  close_timer_.expires_after(kCloseTimeout);
  close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->shutdown_socket();
  });
}

void Connection::shutdown_socket() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  heartbeat_timer_.cancel();
  handshake_timer_.cancel();
  close_timer_.cancel();
  unblock_timer_.cancel();
  teardown();
}

void Connection::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  state_ = State::kClosed;
  for (auto& ch : channels_) {
    if (ch) ch->release_all();
  }
  if (vhost_ != nullptr) vhost_->delete_exclusive_queues(this);
  channels_.clear();
  boost::system::error_code ignored;
  socket_.close(ignored);
  heartbeat_timer_.cancel();
  handshake_timer_.cancel();
  close_timer_.cancel();
  broker_.connection_closed(this);
}

}  // namespace warren::broker
