// ConnectionCore: handshake, the reader/writer/heartbeat coroutines, frame
// dispatch, RPCs and recovery. See connection.hpp for the contract.

#include <fmt/core.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "core.hpp"
#include "warren/protocol/constants.hpp"
#include "wire.hpp"

namespace warren::client::detail {

namespace m = protocol::method;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// ---------------------------------------------------------------- Notifier

asio::awaitable<bool> Notifier::wait_until(Clock::time_point deadline) {
  asio::steady_timer timer(ex_, deadline);
  waiters_.push_back(&timer);
  struct Unlist {
    std::vector<asio::steady_timer*>& v;
    asio::steady_timer* t;
    ~Unlist() { std::erase(v, t); }
  } unlist{waiters_, &timer};
  auto [ec] = co_await timer.async_wait(kTuple);
  co_return ec == asio::error::operation_aborted;
}

void Notifier::notify_all() {
  for (asio::steady_timer* t : waiters_)
    t->cancel();
}

// ---------------------------------------------------------------- setup

ConnectionCore::ConnectionCore(asio::any_io_executor ex, Uri uri, ConnectionOptions options)
    : ex_(ex),
      uri_(std::move(uri)),
      options_(std::move(options)),
      cv_(std::make_shared<Notifier>(ex)),
      write_cv_(ex) {}

ConnectionCore::~ConnectionCore() = default;

asio::awaitable<void> ConnectionCore::start() {
  control_ = allocate_channel(nullptr);
  co_await connect_and_handshake();
  co_await open_channel(*control_, true);
  state_ = State::kOpen;
  cv_->notify_all();
}

std::shared_ptr<ChannelCore> ConnectionCore::allocate_channel(ChannelListener* listener) {
  std::uint16_t id = 1;
  for (const auto& [used, _] : channels_) {
    if (used != id) break;
    ++id;
  }
  if (channel_max_ != 0 && id > channel_max_) {
    throw Error(Errc::kUnsupported, fmt::format("no free channel (channel_max {})", channel_max_));
  }
  auto ch = std::make_shared<ChannelCore>();
  ch->id = id;
  ch->listener = listener;
  channels_.emplace(id, ch);
  return ch;
}

void ConnectionCore::release_channel(std::uint16_t id) {
  channels_.erase(id);
  last_channel_ = nullptr;
}

ChannelCore& ConnectionCore::control() {
  return *control_;
}

asio::awaitable<void> ConnectionCore::open_channel(ChannelCore& ch, bool recovery) {
  ch.content = ChannelCore::Content::kNone;
  ch.closing = false;
  // Named, never a braced temporary inside co_await: GCC 12 miscompiles
  // aggregate temporaries that live across a suspension (see client/README.md).
  const m::ChannelOpen open;
  co_await rpc(ch, open, recovery);
  ch.open = true;
  ++ch.epoch;
}

asio::awaitable<void> ConnectionCore::close_channel(std::shared_ptr<ChannelCore> ch) {
  if (ch->open && state_ == State::kOpen) {
    ch->closing = true;
    try {
      const m::ChannelClose close{200, "Goodbye", 0, 0};
      co_await rpc(*ch, close);
    } catch (const Error&) {
      // Already gone with its connection; nothing to close.
    }
  }
  ch->open = false;
  ch->listener = nullptr;
  release_channel(ch->id);
}

void ConnectionCore::abandon_channel(const std::shared_ptr<ChannelCore>& ch) {
  ch->listener = nullptr;
  if (ch->usable() && socket_ != nullptr) {
    ch->abandoned = true;
    ch->closing = true;
    send(ch->id, m::ChannelClose{200, "Goodbye", 0, 0});
  } else {
    release_channel(ch->id);
  }
}

// ---------------------------------------------------------------- handshake

asio::awaitable<std::pair<protocol::FrameType, Bytes>> ConnectionCore::handshake_frame(Socket& s) {
  for (;;) {
    const protocol::FrameParse p = protocol::parse_frame(std::span(in_.data(), in_len_), 1 << 20);
    if (p.status == protocol::FrameStatus::kOk) {
      std::pair<protocol::FrameType, Bytes> out{
          p.frame.type, Bytes(p.frame.payload.begin(), p.frame.payload.end())};
      std::memmove(in_.data(), in_.data() + p.consumed, in_len_ - p.consumed);
      in_len_ -= p.consumed;
      if (out.first == protocol::FrameType::kHeartbeat) continue;
      co_return out;
    }
    if (p.status != protocol::FrameStatus::kNeedMore) {
      // Not AMQP 0-9-1 (e.g. the server answered with its protocol header).
      throw Error(Errc::kHandshakeFailed, "the server did not answer with AMQP 0-9-1 frames");
    }
    if (in_len_ == in_.size()) in_.resize(in_.size() * 2);
    auto [ec, n] = co_await s.async_read_some(
        asio::buffer(in_.data() + in_len_, in_.size() - in_len_), kTuple);
    if (ec) {
      throw Error(Errc::kHandshakeFailed,
                  fmt::format("connection closed during the handshake: {}", ec.message()));
    }
    in_len_ += n;
  }
}

template <typename M>
asio::awaitable<M> ConnectionCore::handshake_expect(Socket& s) {
  auto [type, payload] = co_await handshake_frame(s);
  if (type != protocol::FrameType::kMethod) {
    throw Error(Errc::kHandshakeFailed, "unexpected frame type during the handshake");
  }
  protocol::MethodDecode d = protocol::decode_method(payload);
  if (d.status != protocol::MethodStatus::kOk) {
    throw Error(Errc::kProtocolError, "cannot decode a handshake method");
  }
  if (auto* close = std::get_if<m::ConnectionClose>(&d.method)) {
    // Refused: wrong credentials (403), no such vhost or no access (530), ...
    Bytes out;
    protocol::write_method_frame(out, 0, m::ConnectionCloseOk{});
    co_await asio::async_write(s, asio::buffer(out), kTuple);
    throw Error(
        Errc::kConnectionRefused,
        fmt::format("server refused the connection: {} {}", close->reply_code, close->reply_text),
        close->reply_code);
  }
  M* method = std::get_if<M>(&d.method);
  if (method == nullptr) {
    throw Error(Errc::kHandshakeFailed,
                fmt::format("expected {}, got {}", M::kName, protocol::method_name(d.method)));
  }
  co_return std::move(*method);
}

namespace {

std::optional<bool> cap(const protocol::FieldTable& caps, std::string_view name) {
  const protocol::FieldValue* v = protocol::find_field(caps, name);
  return v ? v->as_bool() : std::nullopt;
}

std::string str_prop(const protocol::FieldTable& t, std::string_view name) {
  const protocol::FieldValue* v = protocol::find_field(t, name);
  if (v == nullptr) return {};
  if (const std::string* s = v->as_string()) return *s;
  if (const auto* b = std::get_if<protocol::ByteArray>(&v->value)) return b->bytes;
  return {};
}

// "4.3.0" >= 4.3
bool version_at_least(const std::string& v, int major, int minor) {
  int a = 0, b = 0;
  if (std::sscanf(v.c_str(), "%d.%d", &a, &b) < 1) return false;
  return a > major || (a == major && b >= minor);
}

}  // namespace

void ConnectionCore::parse_capabilities() {
  ServerCapabilities c;
  c.product = str_prop(server_properties_, "product");
  c.version = str_prop(server_properties_, "version");
  c.platform = str_prop(server_properties_, "platform");
  if (const protocol::FieldValue* v = protocol::find_field(server_properties_, "capabilities")) {
    if (const protocol::FieldTable* t = v->as_table()) c.raw = *t;
  }
  c.publisher_confirms = cap(c.raw, "publisher_confirms").value_or(false);
  c.basic_nack = cap(c.raw, "basic.nack").value_or(false);
  c.consumer_cancel_notify = cap(c.raw, "consumer_cancel_notify").value_or(false);
  c.connection_blocked = cap(c.raw, "connection.blocked").value_or(false);
  c.per_consumer_qos = cap(c.raw, "per_consumer_qos").value_or(false);
  c.direct_reply_to = cap(c.raw, "direct_reply_to").value_or(false);
  c.exchange_exchange_bindings = cap(c.raw, "exchange_exchange_bindings").value_or(false);
  c.nack_delay = cap(c.raw, "warren.nack_delay").value_or(false);
  c.is_warren = c.platform.find("Warren") != std::string::npos;
  const bool rabbit_43 = c.product == "RabbitMQ" && version_at_least(c.version, 4, 3);
  c.delayed_retry = c.is_warren || rabbit_43;
  c.delivery_limit = c.is_warren || rabbit_43;
  caps_ = std::move(c);
}

asio::awaitable<void> ConnectionCore::connect_and_handshake() {
  auto sock = std::make_shared<Socket>(ex_);
  in_.assign(64 * 1024, 0);
  in_len_ = 0;

  // One deadline for resolve + connect + handshake: a timer closes the socket.
  auto done = std::make_shared<bool>(false);
  auto timed_out = std::make_shared<bool>(false);
  auto guard = std::make_shared<asio::steady_timer>(ex_, deadline_after(uri_.connection_timeout));
  guard->async_wait([sock, done, timed_out](boost::system::error_code ec) {
    if (!ec && !*done) {
      *timed_out = true;
      boost::system::error_code ignored;
      sock->close(ignored);
    }
  });
  struct Finish {
    std::shared_ptr<bool> done;
    std::shared_ptr<asio::steady_timer> guard;
    ~Finish() {
      *done = true;
      guard->cancel();
    }
  } finish{done, guard};

  try {
    asio::ip::tcp::resolver resolver(ex_);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(uri_.host, std::to_string(uri_.port), kTuple);
    if (rec) {
      throw Error(Errc::kHandshakeFailed,
                  fmt::format("cannot resolve {}: {}", uri_.host, rec.message()));
    }
    auto [cec, ep] = co_await asio::async_connect(*sock, endpoints, kTuple);
    if (cec) {
      throw Error(Errc::kHandshakeFailed,
                  fmt::format("cannot connect to {}:{}: {}", uri_.host, uri_.port, cec.message()));
    }
    sock->set_option(asio::ip::tcp::no_delay(true));
    auto [wec, wn] = co_await asio::async_write(
        *sock, asio::buffer(protocol::kProtocolHeader, sizeof protocol::kProtocolHeader), kTuple);
    if (wec) throw Error(Errc::kHandshakeFailed, wec.message());

    m::ConnectionStart start = co_await handshake_expect<m::ConnectionStart>(*sock);
    server_properties_ = start.server_properties;
    parse_capabilities();
    if (start.mechanisms.find("PLAIN") == std::string::npos) {
      throw Error(Errc::kHandshakeFailed, "the server does not offer the PLAIN mechanism");
    }

    m::ConnectionStartOk start_ok;
    protocol::FieldTable client_caps{
        {"publisher_confirms", true}, {"exchange_exchange_bindings", true},
        {"basic.nack", true},         {"consumer_cancel_notify", true},
        {"connection.blocked", true}, {"authentication_failure_close", true},
        {"per_consumer_qos", true},
    };
    start_ok.client_properties = {
        {"product", std::string("warren-client")},
        {"version", std::string("0.1.0")},
        {"platform", std::string("C++20 / Boost.Asio")},
        {"capabilities", std::move(client_caps)},
    };
    if (!options_.connection_name.empty()) {
      start_ok.client_properties.push_back({"connection_name", options_.connection_name});
    }
    start_ok.mechanism = "PLAIN";
    start_ok.response = std::string(1, '\0') + uri_.user + std::string(1, '\0') + uri_.password;
    start_ok.locale = "en_US";
    Bytes out;
    protocol::write_method_frame(out, 0, start_ok);
    co_await asio::async_write(*sock, asio::buffer(out), kTuple);

    m::ConnectionTune tune = co_await handshake_expect<m::ConnectionTune>(*sock);
    auto pick = [](auto server, auto client) {
      if (client == 0) return server;
      if (server == 0) return client;
      return std::min(server, client);
    };
    channel_max_ = pick(tune.channel_max, uri_.channel_max.value_or(0));
    if (channel_max_ == 0) channel_max_ = 2047;
    frame_max_ = pick(tune.frame_max, uri_.frame_max.value_or(0));
    if (frame_max_ == 0) frame_max_ = 1 << 20;
    heartbeat_ = uri_.heartbeat ? *uri_.heartbeat : tune.heartbeat;

    out.clear();
    protocol::write_method_frame(out, 0, m::ConnectionTuneOk{channel_max_, frame_max_, heartbeat_});
    m::ConnectionOpen open;
    open.virtual_host = uri_.vhost;
    protocol::write_method_frame(out, 0, open);
    co_await asio::async_write(*sock, asio::buffer(out), kTuple);
    co_await handshake_expect<m::ConnectionOpenOk>(*sock);
  } catch (const Error& e) {
    if (*timed_out) {
      throw Error(Errc::kHandshakeFailed,
                  fmt::format("connecting to {}:{} timed out after {} ms", uri_.host, uri_.port,
                              uri_.connection_timeout.count()));
    }
    throw;
  }

  // Open: start the coroutines of this generation.
  ++generation_;
  socket_ = sock;
  out_.clear();
  writing_.clear();
  writing_now_ = false;
  blocked_ = false;
  close_ok_ = false;
  if (in_.size() < frame_max_ + protocol::kFrameOverhead + 64 * 1024) {
    in_.resize(frame_max_ + protocol::kFrameOverhead + 64 * 1024);
  }
  last_read_ = last_write_ = Clock::now();
  auto self = shared_from_this();
  const std::uint64_t gen = generation_;
  asio::co_spawn(
      ex_, [self, sock, gen]() { return self->read_loop(sock, gen); }, asio::detached);
  asio::co_spawn(
      ex_, [self, sock, gen]() { return self->write_loop(sock, gen); }, asio::detached);
  if (heartbeat_ > 0) {
    asio::co_spawn(
        ex_, [self, gen]() { return self->heartbeat_loop(gen); }, asio::detached);
  }
}

// ---------------------------------------------------------------- I/O loops

void ConnectionCore::kick_writer() {
  if (writer_waiting_) {
    writer_waiting_ = false;
    write_cv_.notify_all();
  }
}

asio::awaitable<void> ConnectionCore::write_loop(std::shared_ptr<Socket> s, std::uint64_t gen) {
  while (gen == generation_) {
    if (out_.empty()) {
      writer_waiting_ = true;
      co_await write_cv_.wait_until(Clock::time_point::max());
      writer_waiting_ = false;
      continue;
    }
    std::swap(out_, writing_);
    writing_now_ = true;
    auto [ec, n] = co_await asio::async_write(*s, asio::buffer(writing_), kTuple);
    if (gen != generation_) co_return;
    writing_now_ = false;
    writing_.clear();
    if (ec) {
      lost(Error(Errc::kConnectionLost, fmt::format("write failed: {}", ec.message())));
      co_return;
    }
    last_write_ = Clock::now();
    cv_->notify_all();  // publishers waiting for the buffer to drain
  }
}

asio::awaitable<void> ConnectionCore::read_loop(std::shared_ptr<Socket> s, std::uint64_t gen) {
  auto self = shared_from_this();  // frames may drop the last handle
  while (gen == generation_) {
    if (in_len_ == in_.size()) in_.resize(in_.size() * 2);
    auto [ec, n] = co_await s->async_read_some(
        asio::buffer(in_.data() + in_len_, in_.size() - in_len_), kTuple);
    if (gen != generation_) co_return;
    if (ec) {
      lost(Error(Errc::kConnectionLost, ec == asio::error::eof
                                            ? std::string("the server closed the socket")
                                            : fmt::format("read failed: {}", ec.message())));
      co_return;
    }
    last_read_ = Clock::now();
    in_len_ += n;
    std::size_t pos = 0;
    for (;;) {
      const protocol::FrameParse p =
          protocol::parse_frame(std::span(in_.data() + pos, in_len_ - pos), frame_max_);
      if (p.status == protocol::FrameStatus::kNeedMore) break;
      if (p.status != protocol::FrameStatus::kOk) {
        lost(Error(Errc::kProtocolError, "malformed frame from the server"));
        co_return;
      }
      const bool go_on = handle_frame(p.frame);
      if (gen != generation_ || !go_on) co_return;
      pos += p.consumed;
    }
    if (pos > 0) {
      std::memmove(in_.data(), in_.data() + pos, in_len_ - pos);
      in_len_ -= pos;
    }
    for (auto& [id, ch] : channels_) {
      if (ch->listener != nullptr) ch->listener->after_batch();
    }
  }
}

void ConnectionCore::request_after_batch() {
  if (after_batch_posted_) return;
  after_batch_posted_ = true;
  asio::post(ex_, [self = shared_from_this()] {
    self->after_batch_posted_ = false;
    for (auto& [id, ch] : self->channels_) {
      if (ch->listener != nullptr) ch->listener->after_batch();
    }
  });
}

asio::awaitable<void> ConnectionCore::heartbeat_loop(std::uint64_t gen) {
  auto self = shared_from_this();
  const auto period = std::chrono::milliseconds(heartbeat_ * 1000 / 2);
  asio::steady_timer timer(ex_);
  while (gen == generation_) {
    timer.expires_after(period);
    co_await timer.async_wait(kTuple);
    if (gen != generation_ || state_ == State::kClosed) co_return;
    const auto now = Clock::now();
    if (now - last_read_ > std::chrono::seconds(2 * heartbeat_)) {
      lost(Error(
          Errc::kConnectionLost,
          fmt::format("missed heartbeats: nothing from the server for {} s", 2 * heartbeat_)));
      co_return;
    }
    if (now - last_write_ >= period) {
      protocol::write_heartbeat_frame(out_);
      kick_writer();
    }
  }
}

// ---------------------------------------------------------------- dispatch

bool ConnectionCore::handle_frame(const protocol::Frame& f) {
  using protocol::FrameType;
  if (f.type == FrameType::kHeartbeat) return true;
  if (f.channel == 0) {
    if (f.type != FrameType::kMethod) return true;
    protocol::MethodDecode d = protocol::decode_method(f.payload);
    if (d.status != protocol::MethodStatus::kOk) {
      lost(Error(Errc::kProtocolError, "undecodable method on channel 0"));
      return false;
    }
    return handle_connection_method(d.method);
  }
  // Consecutive frames are mostly for one channel: skip the map lookup.
  if (last_channel_ == nullptr || last_channel_->id != f.channel) {
    auto it = channels_.find(f.channel);
    if (it == channels_.end()) return true;  // a channel we already gave up
    last_channel_ = it->second.get();
  }
  ChannelCore& ch = *last_channel_;
  switch (f.type) {
    case FrameType::kMethod: {
      // basic.deliver (60/60) skips the Method variant.
      if (f.payload.size() >= 4 && f.payload[0] == 0 && f.payload[1] == 60 && f.payload[2] == 0 &&
          f.payload[3] == 60) {
        if (!decode_deliver_arguments(f.payload.subspan(4), ch.delivery)) {
          lost(Error(Errc::kProtocolError, "undecodable basic.deliver"));
          return false;
        }
        ch.content = ChannelCore::Content::kDeliver;
        ch.await_header = true;
        return true;
      }
      protocol::MethodDecode d = protocol::decode_method(f.payload);
      if (d.status != protocol::MethodStatus::kOk) {
        lost(Error(
            Errc::kProtocolError,
            fmt::format("undecodable method {}", protocol::method_name(d.class_id, d.method_id))));
        return false;
      }
      handle_channel_method(ch, d.method);
      return true;
    }
    case FrameType::kHeader: {
      protocol::ContentHeader h;
      // A delivery's properties go straight into the reused Delivery.
      protocol::BasicProperties& props =
          ch.content == ChannelCore::Content::kDeliver ? ch.delivery.properties : ch.props;
      if (ch.content == ChannelCore::Content::kNone || !ch.await_header ||
          !protocol::parse_content_header(f.payload, h) ||
          !protocol::decode_properties(h.encoded_properties, props)) {
        lost(Error(Errc::kProtocolError, "unexpected or malformed content header"));
        return false;
      }
      ch.await_header = false;
      ch.body_size = h.body_size;
      std::string& body = ch.content == ChannelCore::Content::kDeliver ? ch.delivery.body : ch.body;
      body.clear();
      body.reserve(h.body_size);
      if (h.body_size == 0) handle_content_complete(ch);
      return true;
    }
    case FrameType::kBody: {
      std::string& body = ch.content == ChannelCore::Content::kDeliver ? ch.delivery.body : ch.body;
      if (ch.content == ChannelCore::Content::kNone || ch.await_header ||
          body.size() + f.payload.size() > ch.body_size) {
        lost(Error(Errc::kProtocolError, "unexpected content body"));
        return false;
      }
      body.append(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
      if (body.size() == ch.body_size) handle_content_complete(ch);
      return true;
    }
    default:
      return true;
  }
}

bool ConnectionCore::handle_connection_method(protocol::Method& method) {
  if (auto* close = std::get_if<m::ConnectionClose>(&method)) {
    send(0, m::ConnectionCloseOk{});
    // Let the writer flush close-ok before the socket goes.
    lost(Error(
        Errc::kConnectionRefused,
        fmt::format("server closed the connection: {} {}", close->reply_code, close->reply_text),
        close->reply_code));
    return false;
  }
  if (std::holds_alternative<m::ConnectionCloseOk>(method)) {
    close_ok_ = true;
    cv_->notify_all();
    return false;
  }
  if (auto* b = std::get_if<m::ConnectionBlocked>(&method)) {
    blocked_ = true;
    if (options_.on_blocked) options_.on_blocked(b->reason);
    cv_->notify_all();
    return true;
  }
  if (std::holds_alternative<m::ConnectionUnblocked>(method)) {
    blocked_ = false;
    if (options_.on_unblocked) options_.on_unblocked();
    cv_->notify_all();
    return true;
  }
  return true;  // update-secret-ok and the like: nothing to do
}

void ConnectionCore::complete_rpc(ChannelCore& ch, protocol::Method m,
                                  std::optional<Delivery> content) {
  if (ch.rpcs.empty()) return;  // a reply nobody waits for (a timed-out RPC)
  std::shared_ptr<RpcState> st = std::move(ch.rpcs.front());
  ch.rpcs.pop_front();
  st->reply = std::move(m);
  st->content = std::move(content);
  st->done = true;
  cv_->notify_all();
}

void ConnectionCore::handle_channel_method(ChannelCore& ch, protocol::Method& method) {
  using Content = ChannelCore::Content;
  if (auto* a = std::get_if<m::BasicAck>(&method)) {
    if (ch.listener) ch.listener->on_confirm(a->delivery_tag, a->multiple, true);
    return;
  }
  if (auto* n = std::get_if<m::BasicNack>(&method)) {
    if (ch.listener) ch.listener->on_confirm(n->delivery_tag, n->multiple, false);
    return;
  }
  // (basic.deliver never gets here: handle_frame decodes it directly.)
  if (std::holds_alternative<m::BasicReturn>(method) ||
      std::holds_alternative<m::BasicGetOk>(method)) {
    ch.content =
        std::holds_alternative<m::BasicReturn>(method) ? Content::kReturn : Content::kGetOk;
    ch.content_method = std::move(method);
    ch.await_header = true;
    ch.props = {};
    return;
  }
  if (auto* close = std::get_if<m::ChannelClose>(&method)) {
    send(ch.id, m::ChannelCloseOk{});
    ch.open = false;
    fail_channel(ch,
                 Error(Errc::kChannelClosed,
                       fmt::format("server closed channel {}: {} {}", ch.id, close->reply_code,
                                   close->reply_text),
                       close->reply_code),
                 false);
    return;
  }
  if (auto* cancel = std::get_if<m::BasicCancel>(&method)) {
    if (!cancel->no_wait) send(ch.id, m::BasicCancelOk{cancel->consumer_tag});
    if (ch.listener) ch.listener->on_server_cancel();
    return;
  }
  if (auto* flow = std::get_if<m::ChannelFlow>(&method)) {
    send(ch.id, m::ChannelFlowOk{flow->active});
    return;
  }
  if (ch.abandoned && std::holds_alternative<m::ChannelCloseOk>(method)) {
    release_channel(ch.id);  // `ch` is gone from here on
    return;
  }
  complete_rpc(ch, std::move(method));
}

void ConnectionCore::handle_content_complete(ChannelCore& ch) {
  using Content = ChannelCore::Content;
  const Content kind = ch.content;
  ch.content = Content::kNone;
  if (kind == Content::kReturn) {
    auto& r = std::get<m::BasicReturn>(ch.content_method);
    Returned ret{r.reply_code,          std::move(r.reply_text),
                 std::move(r.exchange), std::move(r.routing_key),
                 std::move(ch.body),    std::move(ch.props)};
    if (ch.listener) ch.listener->on_return(std::move(ret));
    return;
  }
  if (kind == Content::kDeliver) {
    Delivery& d = ch.delivery;  // filled in place by the method and header frames
    d.message_count = 0;
    if (ch.listener) ch.listener->on_deliver(d);
    return;
  }
  Delivery d;
  d.body = std::move(ch.body);
  d.properties = std::move(ch.props);
  auto& g = std::get<m::BasicGetOk>(ch.content_method);
  d.exchange = std::move(g.exchange);
  d.routing_key = std::move(g.routing_key);
  d.delivery_tag = g.delivery_tag;
  d.redelivered = g.redelivered;
  d.message_count = g.message_count;
  protocol::Method method = std::move(ch.content_method);
  complete_rpc(ch, std::move(method), std::move(d));
}

void ConnectionCore::fail_channel(ChannelCore& ch, const Error& e, bool connection_lost) {
  ch.content = ChannelCore::Content::kNone;
  auto rpcs = std::move(ch.rpcs);
  ch.rpcs.clear();
  for (auto& st : rpcs) {
    st->error = std::make_exception_ptr(e);
    st->done = true;
  }
  if (ch.listener) {
    if (connection_lost) {
      ch.listener->on_connection_lost(e);
    } else {
      ch.listener->on_channel_closed(e);
    }
  }
  cv_->notify_all();
}

void ConnectionCore::lost(const Error& e) {
  if (state_ == State::kClosed && socket_ == nullptr) {
    // Closed while down (during recovery): what waited for the connection to
    // come back (e.g. messages kept for resending) fails now, once.
    if (!closed_notified_) {
      closed_notified_ = true;
      for (auto& [id, ch] : channels_)
        fail_channel(*ch, e, true);
    }
    return;
  }
  ++generation_;
  const bool was_open = state_ == State::kOpen;
  if (socket_) {
    // Give a pending close-ok a chance to leave: best effort, non-blocking.
    if (!out_.empty() && !writing_now_) {
      boost::system::error_code ignored;
      asio::write(*socket_, asio::buffer(out_), ignored);
    }
    boost::system::error_code ignored;
    socket_->shutdown(Socket::shutdown_both, ignored);
    socket_->close(ignored);
    socket_.reset();
  }
  out_.clear();
  writing_now_ = false;
  blocked_ = false;
  writer_waiting_ = false;
  write_cv_.notify_all();
  for (auto& [id, ch] : channels_) {
    ch->open = false;
    fail_channel(*ch, e, true);
  }
  std::erase_if(channels_, [](const auto& kv) { return kv.second->abandoned; });
  last_channel_ = nullptr;
  if (state_ == State::kClosed) {
    closed_notified_ = true;
    return;
  }
  const bool recover = options_.auto_reconnect && e.errc() != Errc::kClosed;
  if (!recover) {
    state_ = State::kClosed;
    closed_notified_ = true;
  } else if (was_open) {
    state_ = State::kRecovering;
  }
  if (options_.on_disconnected) options_.on_disconnected(e);
  cv_->notify_all();
  if (recover && was_open) {
    asio::co_spawn(
        ex_, [self = shared_from_this()]() { return self->recover_loop(); }, asio::detached);
  }
}

// ---------------------------------------------------------------- sending

void ConnectionCore::send_publish(std::uint16_t channel, std::string_view exchange,
                                  std::string_view routing_key, bool mandatory,
                                  const protocol::BasicProperties& properties,
                                  std::string_view body) {
  append_publish(out_, channel, exchange, routing_key, mandatory, properties, body, frame_max_,
                 scratch_);
  kick_writer();
}

asio::awaitable<void> ConnectionCore::wait_ready(Clock::time_point deadline, bool for_publish) {
  auto ready = [&] {
    if (state_ == State::kClosed) return true;
    if (state_ != State::kOpen) return false;
    if (!for_publish) return true;
    return !blocked_ && out_.size() < options_.max_write_buffer;
  };
  while (!ready()) {
    const bool notified = co_await cv_->wait_until(deadline);
    if (!notified && !ready()) {
      if (state_ != State::kOpen) {
        throw Error(Errc::kTimeout, "timed out waiting for the connection to come back");
      }
      if (blocked_) throw Error(Errc::kTimeout, "timed out: the server blocked the connection");
      throw Error(Errc::kTimeout, "timed out waiting for the socket to drain");
    }
  }
  if (state_ == State::kClosed) throw Error(Errc::kClosed, "the connection is closed");
}

asio::awaitable<std::shared_ptr<RpcState>> ConnectionCore::rpc(ChannelCore& ch,
                                                               const protocol::Method& request,
                                                               bool recovery) {
  auto self = shared_from_this();
  if (!recovery) {
    co_await wait_ready(deadline_after(options_.outage_wait), false);
    if (!ch.open && !std::holds_alternative<m::ChannelOpen>(request)) {
      // Closed by a channel error (e.g. a 404 on the control channel): reopen.
      co_await open_channel(ch);
    }
  } else if (socket_ == nullptr) {
    throw Error(Errc::kConnectionLost, "connection lost during recovery");
  }
  auto st = std::make_shared<RpcState>();
  ch.rpcs.push_back(st);
  protocol::write_method_frame(out_, ch.id, request);
  kick_writer();
  const auto deadline = deadline_after(options_.rpc_timeout);
  while (!st->done) {
    const bool notified = co_await cv_->wait_until(deadline);
    if (!notified && !st->done) {
      // A reply that never came: the channel's request/reply pairing is no
      // longer trustworthy, so give the connection up (and recover).
      lost(Error(Errc::kConnectionLost,
                 fmt::format("no reply to {} within {} ms", protocol::method_name(request),
                             options_.rpc_timeout.count())));
      throw Error(Errc::kTimeout,
                  fmt::format("no reply to {} within {} ms", protocol::method_name(request),
                              options_.rpc_timeout.count()));
    }
  }
  if (st->error) std::rethrow_exception(st->error);
  co_return st;
}

// ---------------------------------------------------------------- recovery

void ConnectionCore::forget_queue(std::string_view name) {
  std::erase_if(topology_, [&](const TopologyEntry& e) {
    return (e.kind == TopologyEntry::Kind::kQueue && e.queue_name == name) ||
           (e.kind == TopologyEntry::Kind::kQueueBinding && e.destination == name);
  });
}

void ConnectionCore::forget_exchange(std::string_view name) {
  std::erase_if(topology_, [&](const TopologyEntry& e) {
    return (e.kind == TopologyEntry::Kind::kExchange && e.exchange.name == name) ||
           (e.kind != TopologyEntry::Kind::kQueue && e.kind != TopologyEntry::Kind::kExchange &&
            (e.source == name ||
             (e.kind == TopologyEntry::Kind::kExchangeBinding && e.destination == name)));
  });
}

void ConnectionCore::forget_binding(TopologyEntry::Kind kind, std::string_view dest,
                                    std::string_view source, std::string_view key) {
  std::erase_if(topology_, [&](const TopologyEntry& e) {
    return e.kind == kind && e.destination == dest && e.source == source && e.routing_key == key;
  });
}

asio::awaitable<void> ConnectionCore::recover_loop() {
  auto self = shared_from_this();
  auto delay = options_.reconnect_initial_delay;
  asio::steady_timer timer(ex_);
  while (state_ == State::kRecovering) {
    timer.expires_after(delay);
    co_await timer.async_wait(kTuple);
    if (state_ != State::kRecovering) co_return;
    try {
      co_await connect_and_handshake();
      co_await restore();
      if (state_ != State::kRecovering) co_return;  // closed meanwhile
      state_ = State::kOpen;
      ++reconnects_;
      cv_->notify_all();
      if (options_.on_reconnected) options_.on_reconnected();
      co_return;
    } catch (const std::exception&) {
      if (socket_) lost(Error(Errc::kConnectionLost, "recovery failed"));
      delay = std::min(delay * 2, options_.reconnect_max_delay);
    }
  }
}

asio::awaitable<void> ConnectionCore::restore() {
  co_await open_channel(*control_, true);
  bool refused = false;
  for (TopologyEntry& e : topology_) {
    try {
      switch (e.kind) {
        case TopologyEntry::Kind::kExchange: {
          m::ExchangeDeclare d;
          d.exchange = e.exchange.name;
          d.type = e.exchange.type;
          d.durable = e.exchange.durable;
          d.auto_delete = e.exchange.auto_delete;
          d.internal = e.exchange.internal;
          d.arguments = e.exchange.arguments();
          co_await rpc(*control_, d, true);
          break;
        }
        case TopologyEntry::Kind::kQueue: {
          m::QueueDeclare d;
          d.queue = e.queue.name;  // "" again for a server-named queue
          d.durable = e.queue.durable;
          d.exclusive = e.queue.exclusive;
          d.auto_delete = e.queue.auto_delete;
          d.arguments = e.queue.arguments();
          auto st = co_await rpc(*control_, d, true);
          const std::string name = std::get<m::QueueDeclareOk>(st->reply).queue;
          if (name != e.queue_name) {
            const std::string old = e.queue_name;
            e.queue_name = name;
            for (TopologyEntry& b : topology_) {
              if (b.kind == TopologyEntry::Kind::kQueueBinding && b.destination == old) {
                b.destination = name;
              }
            }
            for (auto& [id, ch] : channels_) {
              if (ch->listener) ch->listener->on_queue_renamed(old, name);
            }
          }
          break;
        }
        case TopologyEntry::Kind::kQueueBinding: {
          m::QueueBind b;
          b.queue = e.destination;
          b.exchange = e.source;
          b.routing_key = e.routing_key;
          b.arguments = e.arguments;
          co_await rpc(*control_, b, true);
          break;
        }
        case TopologyEntry::Kind::kExchangeBinding: {
          m::ExchangeBind b;
          b.destination = e.destination;
          b.source = e.source;
          b.routing_key = e.routing_key;
          b.arguments = e.arguments;
          co_await rpc(*control_, b, true);
          break;
        }
      }
    } catch (const Error& err) {
      // One refused entry (e.g. someone redeclared the queue with other
      // arguments) must not stop recovery; the rest still comes back.
      if (err.errc() != Errc::kChannelClosed) throw;
      refused = true;
    }
    if (refused) {
      refused = false;
      co_await open_channel(*control_, true);
    }
  }
  for (auto& [id, ch] : channels_) {
    if (ch.get() == control_.get() || ch->listener == nullptr) continue;
    co_await open_channel(*ch, true);
    co_await ch->listener->recover();
  }
}

asio::awaitable<void> ConnectionCore::close(std::uint16_t code, std::string_view text) {
  auto self = shared_from_this();
  if (state_ == State::kClosed) co_return;
  const bool was_open = state_ == State::kOpen && socket_ != nullptr;
  state_ = State::kClosed;
  cv_->notify_all();
  if (was_open) {
    m::ConnectionClose c;
    c.reply_code = code;
    c.reply_text = std::string(text);
    send(0, c);
    try {
      co_await wait_for(
          *cv_, deadline_after(std::chrono::seconds(5)),
          [&] { return close_ok_ || socket_ == nullptr; }, "connection.close-ok");
    } catch (const Error&) {
      // The server did not answer; drop the socket anyway.
    }
  }
  lost(Error(Errc::kClosed, "the connection was closed"));
}

void ConnectionCore::abort() {
  state_ = State::kClosed;
  lost(Error(Errc::kClosed, "the connection was dropped"));
}

}  // namespace warren::client::detail
