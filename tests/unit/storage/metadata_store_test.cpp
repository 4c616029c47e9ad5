// MetadataStore contract: every test runs over each implementation.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "storage_test_support.hpp"

namespace warren::storage::test {
namespace {

std::vector<MetadataRecord> list_of(MetadataStore& store, MetadataKind kind) {
  auto records = store.list(kind);
  INFO(records.status().to_string());
  REQUIRE(records.ok());
  return std::move(records).value();
}

constexpr MetadataKind kAllKinds[] = {MetadataKind::kVhost, MetadataKind::kExchange,
                                      MetadataKind::kQueue, MetadataKind::kBinding,
                                      MetadataKind::kUser,  MetadataKind::kPermission};

}  // namespace

TEMPLATE_TEST_CASE("metadata put, get and list per kind", "[storage][metadata]", STORAGE_BACKENDS) {
  TestType backend;
  MetadataStore& store = *backend.stores.metadata;

  for (MetadataKind kind : kAllKinds)
    CHECK(list_of(store, kind).empty());

  // The same key under every kind: kinds are separate namespaces.
  for (MetadataKind kind : kAllKinds) {
    REQUIRE_OK(store.put(kind, "/", labelled("kind ", static_cast<int>(kind)), Durability::kFsync));
  }
  REQUIRE_OK(store.put(MetadataKind::kQueue, "/orders", "q1", Durability::kFsync));
  REQUIRE_OK(store.put(MetadataKind::kQueue, "", "empty key", Durability::kOs));
  REQUIRE_OK(
      store.put(MetadataKind::kQueue, std::string("\xff\x00z", 3), "high bytes", Durability::kOs));

  for (MetadataKind kind : kAllKinds) {
    INFO("kind " << static_cast<int>(kind));
    auto value = store.get(kind, "/");
    REQUIRE(value.ok());
    CHECK(value.value() == labelled("kind ", static_cast<int>(kind)));
  }
  // Sorted bytewise (0xff after '/').
  CHECK(list_of(store, MetadataKind::kQueue) ==
        std::vector<MetadataRecord>{{"", "empty key"},
                                    {"/", "kind 2"},
                                    {"/orders", "q1"},
                                    {std::string("\xff\x00z", 3), "high bytes"}});
  CHECK(list_of(store, MetadataKind::kExchange) == std::vector<MetadataRecord>{{"/", "kind 1"}});
  CHECK(list_of(store, MetadataKind::kPermission) == std::vector<MetadataRecord>{{"/", "kind 5"}});

  auto missing = store.get(MetadataKind::kUser, "nobody");
  CHECK(missing.status().code() == StorageErrc::kNotFound);
}

TEMPLATE_TEST_CASE("metadata put replaces and remove deletes", "[storage][metadata]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MetadataStore& store = *backend.stores.metadata;
  REQUIRE_OK(store.put(MetadataKind::kUser, "guest", "v1", Durability::kFsync));
  REQUIRE_OK(store.put(MetadataKind::kUser, "guest", "v2", Durability::kFsync));
  REQUIRE_OK(store.put(MetadataKind::kUser, "admin", "a", Durability::kFsync));
  REQUIRE_OK(store.put(MetadataKind::kPermission, "guest", "p", Durability::kFsync));
  CHECK(list_of(store, MetadataKind::kUser) ==
        std::vector<MetadataRecord>{{"admin", "a"}, {"guest", "v2"}});

  REQUIRE_OK(store.remove(MetadataKind::kUser, "guest", Durability::kFsync));
  REQUIRE_OK(store.remove(MetadataKind::kUser, "never-there", Durability::kFsync));
  CHECK(list_of(store, MetadataKind::kUser) == std::vector<MetadataRecord>{{"admin", "a"}});
  CHECK(store.get(MetadataKind::kUser, "guest").status().code() == StorageErrc::kNotFound);
  // Same key, other kind: untouched.
  CHECK(list_of(store, MetadataKind::kPermission) == std::vector<MetadataRecord>{{"guest", "p"}});
}

TEMPLATE_TEST_CASE("metadata batches apply in order across kinds", "[storage][metadata]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MetadataStore& store = *backend.stores.metadata;
  MetadataBatch batch;
  batch.put(MetadataKind::kVhost, "/", "vhost");
  batch.put(MetadataKind::kExchange, "//logs", "topic");
  batch.put(MetadataKind::kQueue, "//q", "durable");
  batch.put(MetadataKind::kBinding, "//logs//q/#", "");
  batch.put(MetadataKind::kQueue, "//tmp", "x");
  batch.remove(MetadataKind::kQueue, "//tmp");
  REQUIRE_OK(store.write(batch, Durability::kFsync));
  REQUIRE_OK(store.write(MetadataBatch{}, Durability::kFsync));

  CHECK(list_of(store, MetadataKind::kQueue) == std::vector<MetadataRecord>{{"//q", "durable"}});
  CHECK(list_of(store, MetadataKind::kBinding) == std::vector<MetadataRecord>{{"//logs//q/#", ""}});
  CHECK(list_of(store, MetadataKind::kVhost).size() == 1);
  CHECK(list_of(store, MetadataKind::kExchange).size() == 1);
}

TEMPLATE_TEST_CASE("an unknown metadata kind is an invalid argument", "[storage][metadata]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MetadataStore& store = *backend.stores.metadata;
  const auto bogus = static_cast<MetadataKind>(200);
  MetadataBatch batch;
  batch.put(MetadataKind::kVhost, "/", "not written");
  batch.put(bogus, "k", "v");
  CHECK(store.write(batch, Durability::kFsync).code() == StorageErrc::kInvalidArgument);
  CHECK(list_of(store, MetadataKind::kVhost).empty());  // atomic: nothing written
  CHECK(store.list(bogus).status().code() == StorageErrc::kInvalidArgument);
  CHECK(store.get(bogus, "k").status().code() == StorageErrc::kInvalidArgument);
}

TEMPLATE_TEST_CASE("message and metadata stores do not see each other", "[storage]",
                   STORAGE_BACKENDS) {
  TestType backend;
  MessageBatch messages;
  messages.append(0, 0, "m");
  REQUIRE_OK(backend.stores.messages->write(messages, Durability::kFsync));
  REQUIRE_OK(backend.stores.metadata->put(MetadataKind::kVhost, "", "v", Durability::kFsync));
  CHECK(list_of(*backend.stores.metadata, MetadataKind::kVhost).size() == 1);
  std::vector<StoredMessage> out;
  REQUIRE_OK(backend.stores.messages->read(0, 0, 10, out));
  CHECK(out == std::vector<StoredMessage>{{0, "m"}});
}

}  // namespace warren::storage::test
