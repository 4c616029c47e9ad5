#pragma once
// MetadataStore: durable definitions (vhosts, exchanges, queues, bindings,
// users, permissions) as opaque byte records, addressed by (kind, key). The
// broker chooses the key (e.g. "<vhost>/<name>") and serialises the value.
//
// Threads: not internally synchronised; one owner (the persister thread)
// serialises every call, together with the MessageStore opened alongside.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "warren/storage/message_store.hpp"  // Durability
#include "warren/storage/status.hpp"

namespace warren::storage {

enum class MetadataKind : std::uint8_t {
  kVhost = 0,
  kExchange,
  kQueue,
  kBinding,
  kUser,
  kPermission,
};
inline constexpr std::size_t kMetadataKindCount = 6;

// One mutation in a MetadataBatch.
struct MetadataOp {
  enum class Kind { kPut, kRemove };
  Kind op = Kind::kPut;
  MetadataKind kind = MetadataKind::kVhost;
  std::string key;
  std::string value;  // kPut only
};

// An ordered list of mutations applied atomically by MetadataStore::write.
class MetadataBatch {
 public:
  // Stores `value` under (kind, key), replacing any existing record.
  void put(MetadataKind kind, std::string key, std::string value) {
    ops_.push_back({MetadataOp::Kind::kPut, kind, std::move(key), std::move(value)});
  }
  // Deletes (kind, key); removing a missing record is not an error.
  void remove(MetadataKind kind, std::string key) {
    ops_.push_back({MetadataOp::Kind::kRemove, kind, std::move(key), {}});
  }

  bool empty() const noexcept { return ops_.empty(); }
  std::size_t size() const noexcept { return ops_.size(); }
  const std::vector<MetadataOp>& ops() const noexcept { return ops_; }
  void clear() noexcept { ops_.clear(); }

 private:
  std::vector<MetadataOp> ops_;
};

struct MetadataRecord {
  std::string key;
  std::string value;
  friend bool operator==(const MetadataRecord&, const MetadataRecord&) = default;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Applies every operation of `batch` atomically, in order. Keys may be any
  // bytes, including empty. Empty batch: OK, writes nothing.
  // Errors: kInvalidArgument (a kind outside MetadataKind; nothing written),
  // kIoError / kNoSpace (nothing written).
  virtual Status write(const MetadataBatch& batch, Durability durability) = 0;

  // The record's value. Errors: kNotFound, kInvalidArgument (bad kind), kIoError.
  virtual Result<std::string> get(MetadataKind kind, const std::string& key) = 0;

  // Every record of `kind`, sorted by key (bytewise). Records of other kinds
  // never appear. Errors: kInvalidArgument (bad kind), kIoError, kCorruption.
  virtual Result<std::vector<MetadataRecord>> list(MetadataKind kind) = 0;

  // Conveniences: a one-operation batch.
  Status put(MetadataKind kind, std::string key, std::string value, Durability durability) {
    MetadataBatch batch;
    batch.put(kind, std::move(key), std::move(value));
    return write(batch, durability);
  }
  Status remove(MetadataKind kind, std::string key, Durability durability) {
    MetadataBatch batch;
    batch.remove(kind, std::move(key));
    return write(batch, durability);
  }
};

}  // namespace warren::storage
