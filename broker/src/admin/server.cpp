#include "admin/server.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "admin/handlers.hpp"
#include "broker.hpp"
#include "log.hpp"

namespace warren::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

Verb to_verb(http::verb v) {
  switch (v) {
    case http::verb::get:
      return Verb::kGet;
    case http::verb::put:
      return Verb::kPut;
    case http::verb::post:
      return Verb::kPost;
    case http::verb::delete_:
      return Verb::kDelete;
    case http::verb::head:
      return Verb::kHead;
    case http::verb::options:
      return Verb::kOptions;
    default:
      return Verb::kOther;
  }
}

http::response<http::string_body> to_http(Response r, unsigned version, bool keep_alive,
                                          bool head) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "Warren");
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  res.set(http::field::vary, "accept, accept-encoding, origin");
  res.set(http::field::cache_control, "no-cache");
  for (auto& [name, value] : r.headers)
    res.set(name, value);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  if (head) res.body().clear();  // content-length stays that of the GET
  return res;
}

// Runs on the finishing thread: errors become responses, as in Router::handle.
asio::awaitable<Response> run_finisher(std::function<Response()> work, std::string target) {
  try {
    co_return work();
  } catch (const ApiError& e) {
    co_return error_response(e);
  } catch (const std::exception& e) {
    broker::log_error("admin API: {} failed: {}", target, e.what());
    co_return error_response(ApiError{500, "internal_error", e.what()});
  }
}

}  // namespace

AdminServer::AdminServer(broker::Broker& broker, ServerRole role, ServerLimits limits)
    : broker_(broker),
      role_(role),
      limits_(limits),
      acceptor_(broker.io()),
      router_(broker),
      console_(broker.config().console_dir) {
  if (role == ServerRole::kAdmin) {
    add_all_routes(router_, broker_);
  } else {
    add_metrics_routes(router_, broker_);
  }
}

AdminServer::~AdminServer() {
  finisher_.join();
}

void AdminServer::listen() {
  const auto& config = broker_.config();
  tcp::endpoint endpoint(asio::ip::make_address(config.bind),
                         role_ == ServerRole::kAdmin ? config.http_port : config.metrics_port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(broker_.io(), accept_loop(), asio::detached);
}

tcp::endpoint AdminServer::endpoint() const {
  return acceptor_.local_endpoint();
}

void AdminServer::shutdown() {
  shutting_down_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (tcp::socket* s : sockets_)
    s->close(ignored);
}

asio::awaitable<void> AdminServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || shutting_down_) co_return;
      broker::log_warning("admin API: accept failed: {}", ec.message());
      asio::steady_timer pause(broker_.io(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (sockets_.size() >= limits_.max_clients) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(broker_.io(), session(std::move(socket)), asio::detached);
  }
}

// The coroutine's frame may be destroyed without resuming (the io_context
// goes away after main() returns): nothing here touches `this` except
// between awaits, while the server is alive.
asio::awaitable<void> AdminServer::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  tcp::socket* raw = &stream.socket();
  sockets_.insert(raw);
  boost::system::error_code ignored;
  const tcp::endpoint peer = stream.socket().remote_endpoint(ignored);
  const bool loopback = peer.address().is_loopback();
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(limits_.max_body);
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header));
    stream.expires_after(first ? limits_.read_timeout : limits_.idle_timeout);
    first = false;
    auto [ec, n] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (shutting_down_) break;
    if (ec) {
      // Malformed or oversized requests get an answer; then the connection ends.
      unsigned status = 0;
      const char* reason = nullptr;
      if (ec == http::error::body_limit) {
        status = 413;
        reason = "request body too large";
      } else if (ec == http::error::header_limit) {
        status = 431;
        reason = "request headers too large";
      } else if (ec.category() == make_error_code(http::error::bad_target).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        status = 400;
        reason = "malformed HTTP request";
      }
      if (status != 0) {
        auto res =
            to_http(error_response(ApiError{status, "bad_request", reason}), 11, false, false);
        stream.expires_after(limits_.write_timeout);
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      }
      break;
    }
    const auto& req = parser.get();
    Request request;
    request.verb = to_verb(req.method());
    request.target = std::string(req.target());
    request.body = req.body();
    request.content_type = std::string(req[http::field::content_type]);
    request.authorization = std::string(req[http::field::authorization]);
    request.x_reason = std::string(req["X-Reason"]);
    request.from_loopback = loopback;
    Response response;
    if (!parse_target(request.target, &request.segments, &request.query)) {
      response = error_response(bad_request("malformed request target"));
    } else if (auto file = role_ == ServerRole::kAdmin ? console_.serve(request) : std::nullopt) {
      response = std::move(*file);
    } else {
      response = router_.handle(request);
    }
    if (response.finish_elsewhere) {
      // Not the Response itself: GCC 12 mishandles aggregates passed across co_await.
      std::function<Response()> work = std::move(response.finish_elsewhere);
      response = co_await finish(std::move(work), request.target);
      if (shutting_down_) break;
    }
    // Only a failed authentication (401) carries the Basic challenge; a 403
    // (authenticated, but without the tag or permission) does not.
    if (response.status == 401) {
      bool has = false;
      for (auto& h : response.headers)
        has = has || h.first == "www-authenticate";
      if (!has) {
        response.headers.emplace_back("www-authenticate", "Basic realm=\"RabbitMQ Management\"");
      }
    }
    const bool keep_alive = req.keep_alive() && !shutting_down_;
    auto res =
        to_http(std::move(response), req.version(), keep_alive, req.method() == http::verb::head);
    stream.expires_after(limits_.write_timeout);
    auto [wec, written] =
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !keep_alive || shutting_down_) break;
  }
  sockets_.erase(raw);
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
}

asio::awaitable<Response> AdminServer::finish(std::function<Response()> work, std::string target) {
  // co_spawn hands the result back on this coroutine's executor (the broker thread).
  co_return co_await asio::co_spawn(finisher_, run_finisher(std::move(work), std::move(target)),
                                    asio::use_awaitable);
}

}  // namespace warren::admin
