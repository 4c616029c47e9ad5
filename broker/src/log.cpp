#include "log.hpp"

#include <fmt/chrono.h>

#include <chrono>
#include <ctime>

namespace warren::broker {

LogLevel& log_threshold() {
  static LogLevel level = LogLevel::kInfo;
  return level;
}

bool set_log_level(std::string_view name) {
  if (name == "error")
    log_threshold() = LogLevel::kError;
  else if (name == "warning")
    log_threshold() = LogLevel::kWarning;
  else if (name == "info")
    log_threshold() = LogLevel::kInfo;
  else if (name == "debug")
    log_threshold() = LogLevel::kDebug;
  else
    return false;
  return true;
}

void log_line(LogLevel level, std::string_view text) {
  static constexpr const char* kNames[] = {"error", "warning", "info", "debug"};
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%S}.{:03}Z [{}] {}\n", fmt::gmtime(seconds), ms,
             kNames[static_cast<int>(level)], text);
}

}  // namespace warren::broker
