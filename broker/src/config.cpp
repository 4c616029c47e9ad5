#include "config.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>

#include "version.hpp"

namespace warren::broker {
namespace po = boost::program_options;

std::string default_console_dir() {
#ifdef WARREN_DEFAULT_CONSOLE_DIR
  return WARREN_DEFAULT_CONSOLE_DIR;
#else
  return "admin-ui/dist";
#endif
}

namespace {

po::options_description file_and_flag_options(Config& c) {
  po::options_description o("Settings (flags, or `key = value` lines in the config file)");
  // clang-format off
  o.add_options()
    ("data-dir", po::value(&c.data_dir)->default_value(c.data_dir), "directory for durable state")
    ("disk-free-limit", po::value(&c.disk_free_limit)->default_value(c.disk_free_limit), "block publishers while the data dir's disk has fewer free bytes than this")
    ("queue-memory-messages", po::value(&c.queue_memory_messages)->default_value(c.queue_memory_messages), "ready messages of a queue held in memory; the rest wait in the store only (paging: persistent messages of durable queues always, others once messages hold half the memory watermark)")
    ("queue-memory-bytes", po::value(&c.queue_memory_bytes)->default_value(c.queue_memory_bytes), "body bytes of a queue's ready messages held in memory; past it, paging")
    ("queue-memory-waiting", po::value(&c.queue_memory_waiting)->default_value(c.queue_memory_waiting), "a queue's stored messages waiting to be retried held in memory (the earliest due); the rest wait in the store only")
    ("delayed-memory-window", po::value(&c.delayed_memory_window)->default_value(c.delayed_memory_window), "delayed messages held in memory (the earliest due); the rest wait in the store only")
    ("durability", po::value(&c.durability)->default_value(c.durability), "fsync (a confirm survives power loss) or os (survives a crash of the broker process)")
    ("bind", po::value(&c.bind)->default_value(c.bind), "address to listen on (AMQP and HTTP)")
    ("amqp-port", po::value(&c.amqp_port)->default_value(c.amqp_port), "AMQP 0-9-1 port; 0 picks a free port")
    ("http-port", po::value(&c.http_port)->default_value(c.http_port), "admin HTTP API port; 0 picks a free port")
    ("metrics-port", po::value(&c.metrics_port)->default_value(c.metrics_port), "Prometheus /metrics port (also served on the HTTP port); 0 picks a free port")
    ("frame-max", po::value(&c.frame_max)->default_value(c.frame_max), "largest frame offered in connection.tune (bytes)")
    ("channel-max", po::value(&c.channel_max)->default_value(c.channel_max), "most channels per connection")
    ("heartbeat", po::value(&c.heartbeat_seconds)->default_value(c.heartbeat_seconds), "heartbeat interval offered (seconds; 0 disables)")
    ("handshake-timeout", po::value(&c.handshake_timeout_seconds)->default_value(c.handshake_timeout_seconds), "seconds a client has to finish the handshake")
    ("max-message-size", po::value(&c.max_message_size)->default_value(c.max_message_size), "largest message body accepted (bytes)")
    ("max-connections", po::value(&c.max_connections)->default_value(c.max_connections), "most concurrent client connections")
    ("max-connection-buffer", po::value(&c.max_connection_buffer)->default_value(c.max_connection_buffer), "bytes queued for one client's socket before deliveries to it pause")
    ("memory-high-watermark", po::value(&c.memory_high_watermark)->default_value(c.memory_high_watermark), "block publishers while messages hold more than this many bytes (0: 40% of RAM)")
    ("default-user", po::value(&c.default_user)->default_value(c.default_user), "user created on first start")
    ("default-pass", po::value(&c.default_pass)->default_value(c.default_pass), "its password")
    ("default-user-loopback-only", po::value(&c.default_user_loopback_only)->default_value(c.default_user_loopback_only), "allow the default user from loopback addresses only")
    ("log-level", po::value(&c.log_level)->default_value(c.log_level), "error, warning, info or debug")
    ("console-dir", po::value(&c.console_dir)->default_value(c.console_dir), "the web console's built files (admin-ui/dist), served on the HTTP port");
  // clang-format on
  return o;
}

}  // namespace

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine result;
  std::string config_file;
  po::options_description general("General");
  general.add_options()("help,h", "print this help and exit")(
      "version", "print the version and exit")("config", po::value(&config_file),
                                               "read settings from FILE (`key = value` lines)");
  po::options_description settings = file_and_flag_options(result.config);
  po::options_description all;
  all.add(general).add(settings);

  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, all), vm);
    if (vm.count("help")) {
      std::cout << "Usage: warren [options]\n\nWarren, an AMQP 0-9-1 message broker.\n\n"
                << all << "\nFlags override the config file; the file overrides the defaults.\n";
      result.exit_code = 0;
      return result;
    }
    if (vm.count("version")) {
      std::cout << "warren " << kVersion << "\n";
      result.exit_code = 0;
      return result;
    }
    if (vm.count("config")) {
      std::ifstream in(vm["config"].as<std::string>());
      if (!in) {
        std::cerr << "warren: cannot read config file " << vm["config"].as<std::string>() << "\n";
        result.exit_code = 2;
        return result;
      }
      // Values stored first win, so the command line (already stored) beats the file.
      po::store(po::parse_config_file(in, settings), vm);
    }
    po::notify(vm);
    if (result.config.durability != "fsync" && result.config.durability != "os") {
      std::cerr << "warren: durability must be fsync or os, not '" << result.config.durability
                << "'\n";
      result.exit_code = 2;
    }
  } catch (const po::error& e) {
    std::cerr << "warren: " << e.what() << "\nTry 'warren --help'.\n";
    result.exit_code = 2;
  }
  return result;
}

}  // namespace warren::broker
