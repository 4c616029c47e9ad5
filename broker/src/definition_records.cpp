#include "definition_records.hpp"

#include <span>

#include "warren/protocol/codec.hpp"

namespace warren::broker {

namespace {

constexpr std::uint8_t kAutoDelete = 1;
constexpr std::uint8_t kInternal = 2;

std::string to_string(const protocol::Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Decodes vhost and name from a name_key.
bool decode_name_key(const std::string& key, std::string& vhost, std::string& name) {
  protocol::Decoder in(as_bytes(key));
  vhost = in.shortstr();
  name = in.shortstr();
  return !in.failed() && in.remaining() == 0;
}

}  // namespace

std::string name_key(const std::string& vhost, const std::string& name) {
  protocol::Bytes out;
  protocol::Encoder enc(out);
  enc.shortstr(vhost);
  enc.shortstr(name);
  return to_string(out);
}

std::string encode_exchange_value(const ExchangeRecord& record) {
  protocol::Bytes out;
  protocol::Encoder enc(out);
  enc.shortstr(record.type);
  enc.u8((record.auto_delete ? kAutoDelete : 0) | (record.internal ? kInternal : 0));
  enc.table(record.arguments);
  return to_string(out);
}

std::optional<ExchangeRecord> decode_exchange(const std::string& key, const std::string& value) {
  ExchangeRecord record;
  if (!decode_name_key(key, record.vhost, record.name)) return std::nullopt;
  protocol::Decoder in(as_bytes(value));
  record.type = in.shortstr();
  const std::uint8_t flags = in.u8();
  record.auto_delete = (flags & kAutoDelete) != 0;
  record.internal = (flags & kInternal) != 0;
  record.arguments = in.table();
  if (in.failed()) return std::nullopt;
  return record;
}

std::string encode_queue_value(const QueueRecord& record) {
  protocol::Bytes out;
  protocol::Encoder enc(out);
  enc.u64(record.id);
  enc.u8(record.auto_delete ? kAutoDelete : 0);
  enc.table(record.arguments);
  return to_string(out);
}

std::optional<QueueRecord> decode_queue(const std::string& key, const std::string& value) {
  QueueRecord record;
  if (!decode_name_key(key, record.vhost, record.name)) return std::nullopt;
  protocol::Decoder in(as_bytes(value));
  record.id = in.u64();
  record.auto_delete = (in.u8() & kAutoDelete) != 0;
  record.arguments = in.table();
  if (in.failed()) return std::nullopt;
  return record;
}

std::string binding_key(const BindingRecord& record) {
  protocol::Bytes out;
  protocol::Encoder enc(out);
  enc.shortstr(record.vhost);
  enc.shortstr(record.source);
  enc.u8(record.kind == routing::DestinationKind::kQueue ? 'q' : 'e');
  enc.shortstr(record.destination);
  enc.shortstr(record.routing_key);
  enc.table(record.arguments);
  return to_string(out);
}

std::optional<BindingRecord> decode_binding(const std::string& key) {
  BindingRecord record;
  protocol::Decoder in(as_bytes(key));
  record.vhost = in.shortstr();
  record.source = in.shortstr();
  const std::uint8_t kind = in.u8();
  record.destination = in.shortstr();
  record.routing_key = in.shortstr();
  record.arguments = in.table();
  if (in.failed() || (kind != 'q' && kind != 'e')) return std::nullopt;
  record.kind =
      kind == 'q' ? routing::DestinationKind::kQueue : routing::DestinationKind::kExchange;
  return record;
}

}  // namespace warren::broker
