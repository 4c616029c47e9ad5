#pragma once
// Minimal leveled logging to stderr. The broker thread is the only writer
// apart from start-up, so lines are not interleaved.

#include <fmt/core.h>

#include <cstdio>
#include <string_view>

namespace warren::broker {

enum class LogLevel { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

LogLevel& log_threshold();
bool set_log_level(std::string_view name);
void log_line(LogLevel level, std::string_view text);

template <typename... Args>
void log_at(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (level <= log_threshold()) log_line(level, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... a) {
  log_at(LogLevel::kError, f, std::forward<Args>(a)...);
}
template <typename... Args>
void log_warning(fmt::format_string<Args...> f, Args&&... a) {
  log_at(LogLevel::kWarning, f, std::forward<Args>(a)...);
}
template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... a) {
  log_at(LogLevel::kInfo, f, std::forward<Args>(a)...);
}
template <typename... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... a) {
  log_at(LogLevel::kDebug, f, std::forward<Args>(a)...);
}

}  // namespace warren::broker
