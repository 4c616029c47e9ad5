#pragma once
// Broker configuration: embedded defaults, overridden by a config file
// (`key = value` lines, see docs/CONFIG.md) and then by command-line flags.

#include <cstdint>
#include <optional>
#include <string>

namespace warren::broker {

// The source tree's admin-ui/dist, as compiled in (config.cpp).
std::string default_console_dir();

struct Config {
  std::string data_dir = "./data";
  // "fsync": a publisher confirm means the message survives power loss;
  // "os": it survives a crash of the broker process (the OS has the write).
  std::string durability = "fsync";
  // Publishers are blocked while the data dir's disk has less free space
  // than this (RabbitMQ's disk_free_limit, same default).
  std::uint64_t disk_free_limit = 50'000'000;
  // Delayed messages (x-delayed-message exchanges) held in memory; the rest
  // wait in the store only.
  std::size_t delayed_memory_window = 10'000;
  // A queue's ready messages held in memory; past either limit the newest
  // wait in the store only (paging): a durable queue's persistent messages
  // always, the others once messages hold half of memory_high_watermark.
  std::size_t queue_memory_messages = 50'000;
  std::uint64_t queue_memory_bytes = 64ull << 20;
  // A queue's stored messages waiting to be retried held in memory (the
  // earliest due); the rest wait in the store only.
  std::size_t queue_memory_waiting = 10'000;
  std::string bind = "0.0.0.0";
  std::uint16_t amqp_port = 5672;  // 0 picks an ephemeral port
  std::uint16_t http_port = 15672;
  // GET /metrics alone, as rabbitmq_prometheus (also on the HTTP port).
  std::uint16_t metrics_port = 15692;
  // Negotiation limits proposed in connection.tune.
  std::uint32_t frame_max = 131072;
  std::uint16_t channel_max = 2047;
  std::uint16_t heartbeat_seconds = 60;
  std::uint32_t handshake_timeout_seconds = 10;
  std::uint64_t max_message_size = 128ull * 1024 * 1024;
  std::uint32_t max_connections = 10000;
  // Per-connection cap on bytes waiting to be written; a consumer whose
  // connection is over it gets no more deliveries until the socket drains.
  std::uint64_t max_connection_buffer = 8ull * 1024 * 1024;
  // Publishers are blocked (connection.blocked, reads paused) while messages
  // hold more than this many bytes. 0 means 40% of physical memory, as
  // RabbitMQ's default vm_memory_high_watermark.
  std::uint64_t memory_high_watermark = 0;
  std::string default_user = "guest";
  std::string default_pass = "guest";
  // The default user may log in from loopback only, as in RabbitMQ.
  bool default_user_loopback_only = true;
  std::string log_level = "info";
  // The web console's built files (admin-ui/dist), served on the HTTP port.
  // The default is the source tree's admin-ui/dist, compiled in.
  std::string console_dir = default_console_dir();
};

// What parse_command_line() decided: run with `config`, or exit with
// `exit_code` after printing (help, version, or an error).
struct CommandLine {
  Config config;
  std::optional<int> exit_code;
};

// Parses argv and the file named by --config. Prints help/version/errors.
CommandLine parse_command_line(int argc, char** argv);

}  // namespace warren::broker
