#pragma once
// Errors of the client library. Every failure the library reports is a
// warren::client::Error (a std::system_error in the warren.client category),
// thrown at the top of the awaitable that failed. Server refusals keep the
// AMQP reply code and text (e.g. 404 "NOT_FOUND - no queue 'q' in vhost '/'").

#include <cstdint>
#include <string>
#include <system_error>

namespace warren::client {

enum class Errc {
  kConnectionLost = 1,  // the socket failed or the peer vanished; may reconnect
  kClosed,              // the caller closed the connection/consumer/publisher
  kConnectionRefused,   // the server closed the connection (reply_code says why)
  kChannelClosed,       // the server closed the channel (404, 406, 403, ...)
  kHandshakeFailed,     // TCP connect, protocol header, auth or tune failed
  kUnsupported,         // the server does not advertise a feature the call needs
  kTimeout,             // a bounded wait (window, blocked, outage, close) ran out
  kNacked,              // the broker refused a confirmed publish (basic.nack)
  kProtocolError,       // the server sent something this client cannot parse
  kReturned,            // a mandatory publish no queue took (basic.return, 312 NO_ROUTE)
};

const std::error_category& client_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

class Error : public std::system_error {
 public:
  Error(Errc code, const std::string& what, std::uint16_t reply_code = 0)
      : std::system_error(make_error_code(code), what), reply_code_(reply_code) {}
  Errc errc() const noexcept { return static_cast<Errc>(code().value()); }
  // The AMQP reply code when the server refused something (404, 406, 320,
  // 540...), else 0.
  std::uint16_t reply_code() const noexcept { return reply_code_; }

 private:
  std::uint16_t reply_code_;
};

}  // namespace warren::client

template <>
struct std::is_error_code_enum<warren::client::Errc> : std::true_type {};
