#include "rocksdb_logger.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string>

namespace warren::storage {
namespace {

class ForwardingLogger final : public rocksdb::Logger {
 public:
  explicit ForwardingLogger(std::function<void(std::string_view)> sink)
      // Errors only: its warnings include "Error when reading ... dir
      // NotFound" for every database it creates.
      : rocksdb::Logger(rocksdb::InfoLogLevel::ERROR_LEVEL), sink_(std::move(sink)) {}

  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::ERROR_LEVEL, format, ap);
  }

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char text[1024];
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(text, sizeof text, format, copy);
    va_end(copy);
    if (n < 0) return;
    const std::string_view line(
        text, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof text - 1));
    if (sink_) {
      sink_(line);
    } else {
      std::fprintf(stderr, "rocksdb: %.*s\n", static_cast<int>(line.size()), line.data());
    }
  }

 private:
  std::function<void(std::string_view)> sink_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> make_forwarding_logger(
    std::function<void(std::string_view)> sink) {
  return std::make_shared<ForwardingLogger>(std::move(sink));
}

}  // namespace warren::storage
