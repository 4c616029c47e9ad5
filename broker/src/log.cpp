#include "log.hpp"

#include <chrono>

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
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  fmt::print(stderr, "{}.{:03} [{}] {}\n", ms / 1000, ms % 1000, kNames[static_cast<int>(level)],
             text);
}

}  // namespace warren::broker
