#include "warren/client/error.hpp"

namespace warren::client {

namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "warren.client"; }
  std::string message(int v) const override {
    switch (static_cast<Errc>(v)) {
      case Errc::kConnectionLost:
        return "connection lost";
      case Errc::kClosed:
        return "closed";
      case Errc::kConnectionRefused:
        return "connection refused by the server";
      case Errc::kChannelClosed:
        return "channel closed by the server";
      case Errc::kHandshakeFailed:
        return "handshake failed";
      case Errc::kUnsupported:
        return "not supported by the server";
      case Errc::kTimeout:
        return "timed out";
      case Errc::kNacked:
        return "nacked by the broker";
      case Errc::kProtocolError:
        return "protocol error";
      case Errc::kReturned:
        return "returned by the broker (unroutable)";
    }
    return "unknown";
  }
};

}  // namespace

const std::error_category& client_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

}  // namespace warren::client
