#pragma once
// Errors as values for the storage library. Environment failures (disk I/O,
// disk full, corruption) never throw or abort: every fallible call returns a
// Status or a Result<T>, and both are [[nodiscard]]. Ignoring one on purpose
// is spelled `.ignore_error()`, so it is explicit and searchable.

#include <cassert>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace warren::storage {

// The storage error codes; plugs into std::error_code via storage_category().
enum class StorageErrc {
  kOk = 0,
  kNotFound,         // the key / record does not exist
  kIoError,          // the file system failed (open, read, write, sync, lock held)
  kNoSpace,          // the disk is full; the write did not happen
  kCorruption,       // on-disk data failed a checksum or is malformed
  kInvalidArgument,  // the caller broke a precondition (e.g. purge range first > last)
};

const std::error_category& storage_category() noexcept;
std::error_code make_error_code(StorageErrc errc) noexcept;

// Outcome of a storage operation: a code plus a human-readable message (for
// logs; never parse it). A default-constructed Status is OK.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StorageErrc code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const noexcept { return code_ == StorageErrc::kOk; }
  StorageErrc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  std::error_code error_code() const noexcept { return make_error_code(code_); }
  // "<category message>: <detail>", e.g. "I/O error: While lock file: ...".
  std::string to_string() const;

  // Marks a deliberately ignored Status (silences [[nodiscard]]).
  void ignore_error() const noexcept {}

 private:
  StorageErrc code_ = StorageErrc::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // Precondition: !status.ok() (an OK Result must carry a value).
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok());
  }

  bool ok() const noexcept { return value_.has_value(); }
  // OK when ok(); otherwise the error.
  const Status& status() const noexcept { return status_; }

  // Precondition for the accessors below: ok().
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  void ignore_error() const noexcept {}

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace warren::storage

template <>
struct std::is_error_code_enum<warren::storage::StorageErrc> : std::true_type {};
