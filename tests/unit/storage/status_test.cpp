#include "warren/storage/status.hpp"

#include <catch2/catch.hpp>
#include <system_error>

using warren::storage::Result;
using warren::storage::Status;
using warren::storage::StorageErrc;

TEST_CASE("Status defaults to OK", "[storage][status]") {
  const Status status;
  CHECK(status.ok());
  CHECK(status.code() == StorageErrc::kOk);
  CHECK(!status.error_code());
  CHECK(status.to_string() == "OK");
}

TEST_CASE("Status carries code and message into std::error_code", "[storage][status]") {
  const Status status(StorageErrc::kNoSpace, "disk full on /var");
  CHECK(!status.ok());
  const std::error_code code = status.error_code();
  CHECK(code == StorageErrc::kNoSpace);
  CHECK(code.category().name() == std::string("warren.storage"));
  CHECK(status.to_string() == "no space left on device: disk full on /var");
}

TEST_CASE("Result holds either a value or an error", "[storage][status]") {
  Result<int> good = 42;
  REQUIRE(good.ok());
  CHECK(good.value() == 42);
  CHECK(good.status().ok());

  Result<int> bad = Status(StorageErrc::kNotFound, "missing");
  CHECK(!bad.ok());
  CHECK(bad.status().code() == StorageErrc::kNotFound);
}
