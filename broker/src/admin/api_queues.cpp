// /api/queues: list, declare (PUT), delete, purge (DELETE .../contents) and
// get (POST .../get). Declare and delete go through the VHost, as
// queue.declare and queue.delete do.

#include "admin/dead_letter_targets.hpp"
#include "admin/handlers.hpp"
#include "admin/json_convert.hpp"
#include "admin/listing.hpp"
#include "admin/shapes.hpp"
#include "broker.hpp"
#include "password.hpp"
#include "vhost.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::admin {

namespace {

using QueueRow = std::pair<const broker::VHost*, std::shared_ptr<broker::Queue>>;

void queues_of(const broker::VHost& vhost, std::vector<QueueRow>& rows) {
  const std::size_t first = rows.size();
  for (const auto& [name, q] : vhost.queues())
    rows.emplace_back(&vhost, q);
  // Default order: by name (RabbitMQ lists by vhost and name).
  std::sort(
      rows.begin() + static_cast<std::ptrdiff_t>(first), rows.end(),
      [](const QueueRow& a, const QueueRow& b) { return a.second->name() < b.second->name(); });
}

// Sort fields that need no JSON: the common ones of the web UI and rabbitmqadmin.
std::optional<json> queue_key(const QueueRow& row, const std::string& field) {
  const broker::Queue& q = *row.second;
  if (field == "name") return json(q.name());
  if (field == "vhost") return json(row.first->name());
  if (field == "messages") return json(q.depth());
  if (field == "messages_ready") return json(q.ready_count());
  if (field == "messages_unacknowledged") return json(q.unacked_count());
  if (field == "consumers") return json(q.consumer_count());
  if (field == "message_bytes") return json(q.ready_bytes());
  if (field == "durable") return json(q.options().durable);
  return std::nullopt;
}

Response list_queues(const Request& r, std::vector<QueueRow> rows) {
  const bool stats = wants_column(r, "message_stats");
  // Warren's own "dead_letter_target" mark, worked out once per vhost on the page.
  std::map<const broker::VHost*, DeadLetterTargets> targets;
  return list_rows(
      r, std::move(rows),
      [](const QueueRow& row) -> const std::string& { return row.second->name(); }, queue_key,
      [stats, &targets](const QueueRow& row) {
        QueueView view = queue_view(*row.first, *row.second, false, stats);
        auto it = targets.find(row.first);
        if (it == targets.end())
          it = targets.emplace(row.first, dead_letter_targets(*row.first)).first;
        view.dead_letter_target = it->second.is_target(row.second->name());
        return view;
      },
      [](const QueueView& view) { return queue_json(view); });
}

std::shared_ptr<broker::Queue> queue_or_404(broker::VHost& vhost, const std::string& name) {
  auto q = vhost.find_queue(name);
  if (!q) throw not_found();
  return q;
}

Response put_queue(broker::Broker& broker, Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  json body = parse_body(r);
  require_vhost_access(broker, r, vhost.name());
  const std::string& name = r.param("queue");
  require_permission(broker, r, vhost.name(), Permit::kConfigure, name);
  broker::QueueDeclare spec;
  spec.name = name;
  spec.options.durable = bool_field(body, "durable", false);
  spec.options.auto_delete = bool_field(body, "auto_delete", false);
  // Exclusive needs an owning connection; RabbitMQ's API ignores it too.
  (void)bool_field(body, "exclusive", false);
  spec.options.arguments = to_field_table(body.value("arguments", json::object()));
  const bool existed = vhost.find_queue(name) != nullptr;
  std::shared_ptr<broker::Queue> out;
  if (auto err = vhost.declare_queue(spec, nullptr, &out)) throw from_amqp(*err);
  return existed ? no_content() : created();
}

Response delete_queue(broker::Broker& broker, Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  require_vhost_access(broker, r, vhost.name());
  auto queue = queue_or_404(vhost, r.param("queue"));
  require_permission(broker, r, vhost.name(), Permit::kConfigure, queue->name());
  if (r.query_or("if-unused") == "true" && queue->consumer_count() > 0) {
    throw bad_request(fmt::format("queue '{}' in vhost '{}' in use", queue->name(), vhost.name()));
  }
  if (r.query_or("if-empty") == "true" && queue->ready_count() > 0) {
    throw bad_request(
        fmt::format("queue '{}' in vhost '{}' not empty", queue->name(), vhost.name()));
  }
  vhost.delete_queue(queue);
  return no_content();
}

Response purge(broker::Broker& broker, Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  require_vhost_access(broker, r, vhost.name());
  auto queue = queue_or_404(vhost, r.param("queue"));
  require_permission(broker, r, vhost.name(), Permit::kRead, queue->name());
  queue->purge();
  return no_content();
}

// The properties a consumer would see: redeliveries carry the counts, as
// Channel::delivery_properties adds them.
protocol::BasicProperties delivered_properties(const broker::Queue::Entry& entry) {
  protocol::BasicProperties props;
  protocol::decode_properties(entry.message->properties, props);
  if (entry.acquired_count > 0 || entry.delivery_count > 0) {
    protocol::FieldTable headers = props.headers.value_or(protocol::FieldTable{});
    if (entry.delivery_count > 0) {
      protocol::set_field(headers, "x-delivery-count", std::int64_t{entry.delivery_count});
    }
    if (entry.acquired_count > 0) {
      protocol::set_field(headers, "x-acquired-count", std::int64_t{entry.acquired_count});
    }
    props.headers = std::move(headers);
  }
  return props;
}

Response get_messages(broker::Broker& broker, Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  json body = parse_body(r);
  require_keys(body, {"count", "ackmode", "encoding"});
  require_vhost_access(broker, r, vhost.name());
  auto queue = vhost.find_queue(r.param("queue"));
  if (!queue) {
    throw ApiError{
        404, "not_found",
        fmt::format("NOT_FOUND - no queue '{}' in vhost '{}'", r.param("queue"), vhost.name())};
  }
  require_permission(broker, r, vhost.name(), Permit::kRead, queue->name());
  if (queue->options().exclusive) {
    throw bad_request(fmt::format(
        "405 RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '{}' in vhost '{}'",
        queue->name(), vhost.name()));
  }
  const std::string ackmode = string_field(body, "ackmode");
  enum class Mode { kAckRequeueTrue, kAckRequeueFalse, kRejectRequeueTrue, kRejectRequeueFalse };
  Mode mode;
  if (ackmode == "ack_requeue_true") {
    mode = Mode::kAckRequeueTrue;
  } else if (ackmode == "ack_requeue_false") {
    mode = Mode::kAckRequeueFalse;
  } else if (ackmode == "reject_requeue_true") {
    mode = Mode::kRejectRequeueTrue;
  } else if (ackmode == "reject_requeue_false") {
    mode = Mode::kRejectRequeueFalse;
  } else {
    throw bad_request("invalid ackmode '" + ackmode + "'");
  }
  const std::string encoding = string_field(body, "encoding");
  if (encoding != "auto" && encoding != "base64") {
    throw bad_request("invalid encoding '" + encoding + "'");
  }
  const auto count = int_field(body, "count").value_or(1);
  if (count < 0) throw bad_request("count must not be negative");
  std::optional<std::int64_t> truncate = int_field(body, "truncate");

  // Take them all first, then settle, so one call returns distinct messages
  // even when they are requeued (as RabbitMQ's basic.get loop does).
  std::vector<broker::Queue::Entry> taken;
  json out = json::array();
  for (std::int64_t i = 0; i < count; ++i) {
    broker::Queue::Entry entry;
    if (!queue->take(entry)) {
      if (i == 0) ++queue->stats().get_empty;
      break;
    }
    ++queue->stats().get;
    if (entry.redelivered) ++queue->stats().redeliver;
    const broker::Message& m = *entry.message;
    std::string payload(m.body.begin(), m.body.end());
    if (truncate && *truncate >= 0 && payload.size() > static_cast<std::size_t>(*truncate)) {
      payload.resize(static_cast<std::size_t>(*truncate));
    }
    json item{{"payload_bytes", m.body.size()},
              {"redelivered", entry.redelivered},
              {"exchange", m.exchange},
              {"routing_key", m.routing_key},
              {"message_count", queue->ready_count()},
              {"properties", to_json(delivered_properties(entry))}};
    if (encoding == "auto" && is_utf8(payload)) {
      item["payload"] = payload;
      item["payload_encoding"] = "string";
    } else {
      item["payload"] = broker::base64_encode(payload);
      item["payload_encoding"] = "base64";
    }
    out.push_back(std::move(item));
    taken.push_back(std::move(entry));
  }
  for (auto& entry : taken) {
    switch (mode) {
      case Mode::kAckRequeueFalse:
        ++queue->stats().ack;
        queue->discard_stored(entry.seq, *entry.message);
        break;
      case Mode::kRejectRequeueFalse:
        // As Channel::settle_one: the dead-lettered copy and the removal together.
        queue->dead_letter(entry.message, broker::DeathReason::kRejected);
        queue->discard_stored(entry.seq, *entry.message);
        break;
      case Mode::kAckRequeueTrue:  // a nack with requeue: a return, not a failure
        ++entry.acquired_count;
        queue->requeue(std::move(entry));
        break;
      case Mode::kRejectRequeueTrue:  // a failed delivery attempt
        ++entry.acquired_count;
        ++entry.delivery_count;
        queue->requeue(std::move(entry));
        break;
    }
  }
  if (mode == Mode::kAckRequeueTrue || mode == Mode::kRejectRequeueTrue) queue->dispatch();
  return json_response(out);
}

}  // namespace

void add_queue_routes(Router& router, broker::Broker& broker) {
  router.add(Verb::kGet, "/api/queues", Access::kManagement, [&broker](Request& r) {
    std::vector<QueueRow> rows;
    for (const auto& [name, vhost] : broker.vhosts()) {  // vhosts_ is ordered by name
      if (can_see_vhost(broker, *r.user, name)) queues_of(*vhost, rows);
    }
    return list_queues(r, std::move(rows));
  });
  router.add(Verb::kGet, "/api/queues/{vhost}", Access::kManagement, [&broker](Request& r) {
    broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
    require_vhost_visible(broker, r, vhost.name());
    std::vector<QueueRow> rows;
    queues_of(vhost, rows);
    return list_queues(r, std::move(rows));
  });
  router.add(Verb::kGet, "/api/queues/{vhost}/{queue}", Access::kManagement, [&broker](Request& r) {
    broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
    require_vhost_visible(broker, r, vhost.name());
    auto queue = queue_or_404(vhost, r.param("queue"));
    json j = queue_json(queue_view(vhost, *queue, true));
    const DeadLetterTargets targets = dead_letter_targets(vhost);
    auto it = targets.sources.find(queue->name());
    j["dead_letter_target"] = it != targets.sources.end();
    j["dead_letter_sources"] = it != targets.sources.end() ? json(it->second) : json::array();
    return json_response(j);
  });
  router.add(Verb::kPut, "/api/queues/{vhost}/{queue}", Access::kManagement,
             [&broker](Request& r) { return put_queue(broker, r); });
  router.add(Verb::kDelete, "/api/queues/{vhost}/{queue}", Access::kManagement,
             [&broker](Request& r) { return delete_queue(broker, r); });
  router.add(Verb::kDelete, "/api/queues/{vhost}/{queue}/contents", Access::kManagement,
             [&broker](Request& r) { return purge(broker, r); });
  router.add(Verb::kPost, "/api/queues/{vhost}/{queue}/get", Access::kManagement,
             [&broker](Request& r) { return get_messages(broker, r); });
}

}  // namespace warren::admin
