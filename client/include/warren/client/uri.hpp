#pragma once
// amqp:// URIs, as RabbitMQ's URI spec defines them:
//   amqp://user:pass@host:port/vhost?heartbeat=10&frame_max=131072&channel_max=64
//                                   &connection_timeout=5000
// Missing parts default to guest/guest, localhost, 5672 and vhost "/".
// The vhost is the percent-decoded path without its leading slash, so "/"
// itself is written "%2F" (amqp://host/%2F); an absent or empty path means
// "/" (as pika and amqp091-go read amqp://host/).
// amqps:// is rejected (TLS is not implemented).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warren::client {

struct Uri {
  Uri() = default;  // not an aggregate: see ConnectionOptions
  std::string host = "localhost";
  std::uint16_t port = 5672;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  // Heartbeat to ask for; nullopt takes the server's proposal. 0 disables.
  std::optional<std::uint16_t> heartbeat;
  std::optional<std::uint32_t> frame_max;    // 0 = no limit (server's value applies)
  std::optional<std::uint16_t> channel_max;  // 0 = no limit
  std::chrono::milliseconds connection_timeout{10000};

  // Throws std::invalid_argument naming the bad part (a configuration error).
  static Uri parse(std::string_view uri);
  // Back to a URI; the password is written as "***" unless `with_password`.
  std::string to_string(bool with_password = false) const;
};

}  // namespace warren::client
