#include "warren/storage/status.hpp"

namespace warren::storage {
namespace {

class StorageCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "warren.storage"; }
  std::string message(int value) const override {
    switch (static_cast<StorageErrc>(value)) {
      case StorageErrc::kOk:
        return "OK";
      case StorageErrc::kNotFound:
        return "not found";
      case StorageErrc::kIoError:
        return "I/O error";
      case StorageErrc::kNoSpace:
        return "no space left on device";
      case StorageErrc::kCorruption:
        return "corruption";
      case StorageErrc::kInvalidArgument:
        return "invalid argument";
    }
    return "unknown storage error";
  }
};

}  // namespace

const std::error_category& storage_category() noexcept {
  static const StorageCategory category;
  return category;
}

std::error_code make_error_code(StorageErrc errc) noexcept {
  return {static_cast<int>(errc), storage_category()};
}

std::string Status::to_string() const {
  std::string text = storage_category().message(static_cast<int>(code_));
  if (!message_.empty()) {
    text += ": ";
    text += message_;
  }
  return text;
}

}  // namespace warren::storage
