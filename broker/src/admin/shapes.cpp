#include "admin/shapes.hpp"

#include <chrono>

#include "admin/json_convert.hpp"
#include "admin/router.hpp"
#include "channel.hpp"
#include "connection.hpp"
#include "consumer.hpp"
#include "password.hpp"
#include "queue.hpp"
#include "vhost.hpp"

namespace warren::admin {

namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Rates are computed from the counters now and at the previous sample; a
// sample is taken at most every 5 s, on demand (no timer per queue).
constexpr std::int64_t kSampleIntervalMs = 5000;

}  // namespace

std::string http_exchange_name(const std::string& name) {
  return name.empty() ? "amq.default" : name;
}

std::string amqp_exchange_name(const std::string& http_name) {
  return http_name == "amq.default" ? std::string() : http_name;
}

json exchange_json(const broker::VHost& vhost, const broker::Exchange& x) {
  return json{{"name", x.name},
              {"vhost", vhost.name()},
              {"type", x.type},
              {"durable", x.durable},
              {"auto_delete", x.auto_delete},
              {"internal", x.internal},
              {"arguments", to_json(x.arguments)},
              {"user_who_performed_action", ""},
              {"policy", nullptr}};
}

StatsSnapshot sample_stats(broker::QueueStats& s) {
  using Sample = broker::QueueStats::Sample;
  const std::int64_t now = steady_ms();
  const Sample current{s.publish,
                       s.deliver + s.deliver_no_ack + s.get + s.get_no_ack,
                       s.ack,
                       s.redeliver,
                       s.dead_lettered_total(),
                       now};
  if (s.sample.at_ms == 0) {
    s.sample = current;
    s.previous = current;
  } else if (now - s.sample.at_ms >= kSampleIntervalMs) {
    s.previous = s.sample;
    s.sample = current;
  }
  return StatsSnapshot{s, now};
}

json message_stats_json(broker::QueueStats& s) {
  return message_stats_json(sample_stats(s));
}

json message_stats_json(const StatsSnapshot& snapshot) {
  const broker::QueueStats& s = snapshot.stats;
  const std::uint64_t deliver_get = s.deliver + s.deliver_no_ack + s.get + s.get_no_ack;
  const std::uint64_t dead_lettered = s.dead_lettered_total();
  const double seconds = static_cast<double>(snapshot.at_ms - s.previous.at_ms) / 1000.0;
  auto r = [&](std::uint64_t cur, std::uint64_t prev) {
    return seconds > 0.0 ? static_cast<double>(cur - prev) / seconds : 0.0;
  };
  // Built by assignment: nlohmann's initializer lists copy every nested value.
  json j = json::object();
  auto put = [&j](const char* name, std::uint64_t value, double rate_value) {
    j[name] = value;
    json& details = j[std::string(name) + "_details"];
    details["rate"] = rate_value;
  };
  put("publish", s.publish, r(s.publish, s.previous.publish));
  put("deliver", s.deliver, 0.0);
  put("deliver_no_ack", s.deliver_no_ack, 0.0);
  put("get", s.get, 0.0);
  put("get_no_ack", s.get_no_ack, 0.0);
  put("get_empty", s.get_empty, 0.0);
  put("deliver_get", deliver_get, r(deliver_get, s.previous.deliver_get));
  put("ack", s.ack, r(s.ack, s.previous.ack));
  put("redeliver", s.redeliver, r(s.redeliver, s.previous.redeliver));
  // Warren: messages that died here and went to the dead-letter exchange.
  put("dead_lettered", dead_lettered, r(dead_lettered, s.previous.dead_lettered));
  return j;
}

QueueView queue_view(const broker::VHost& vhost, broker::Queue& q, bool detailed, bool with_stats) {
  QueueView v;
  v.name = q.name();
  v.vhost = vhost.name();
  v.options = q.options();
  v.messages = q.depth();
  v.ready = q.ready_count();
  v.unacked = q.unacked_count();
  v.waiting = q.waiting_count();
  v.waiting_in_memory = q.waiting_in_memory();
  v.ready_in_memory = q.ready_in_memory();
  v.ready_bytes = q.ready_bytes();
  v.consumers = q.consumer_count();
  for (const broker::Consumer* c : q.consumers()) {
    if (c->exclusive) v.exclusive_consumer_tag = c->tag;
  }
  if (const auto* sac = protocol::find_field(v.options.arguments, "x-single-active-consumer");
      sac != nullptr && sac->as_bool().value_or(false) && !q.consumers().empty()) {
    v.single_active_consumer_tag = q.consumers().front()->tag;
  }
  if (with_stats) v.stats = sample_stats(q.stats());
  if (v.options.exclusive && q.exclusive_owner() != nullptr) {
    v.owner_name = connection_name(*q.exclusive_owner());
  }
  if (detailed) {
    v.consumer_details = json::array();
    for (const broker::Consumer* c : q.consumers())
      v.consumer_details.push_back(consumer_json(*c, vhost));
  }
  return v;
}

json queue_json(const QueueView& v) {
  const auto& o = v.options;
  json j = json::object();
  j["name"] = v.name;
  j["vhost"] = v.vhost;
  j["durable"] = o.durable;
  j["auto_delete"] = o.auto_delete;
  j["exclusive"] = o.exclusive;
  j["arguments"] = to_json(o.arguments);
  j["node"] = kNodeName;
  j["type"] = "classic";
  j["state"] = "running";
  j["policy"] = nullptr;
  j["operator_policy"] = nullptr;
  j["effective_policy_definition"] = json::object();
  auto count = [&j](const char* name, std::uint64_t value) {
    j[name] = value;
    j[std::string(name) + "_details"]["rate"] = 0.0;
  };
  count("messages", v.messages);
  count("messages_ready", v.ready);
  count("messages_unacknowledged", v.unacked);
  // Warren: waiting to be retried (nack with delay, x-delayed-retry-*).
  count("messages_waiting", v.waiting);
  // Of them, held in memory (the rest are in the store only).
  j["messages_waiting_ram"] = v.waiting_in_memory;
  // As RabbitMQ's classic queues: ready messages held in memory, and those
  // only in the store (paging).
  j["messages_ready_ram"] = v.ready_in_memory;
  j["messages_paged_out"] = v.ready - v.ready_in_memory;
  j["message_bytes"] = v.ready_bytes;
  j["message_bytes_ready"] = v.ready_bytes;
  j["consumers"] = v.consumers;
  j["exclusive_consumer_tag"] =
      v.exclusive_consumer_tag ? json(*v.exclusive_consumer_tag) : json(nullptr);
  j["single_active_consumer_tag"] =
      v.single_active_consumer_tag ? json(*v.single_active_consumer_tag) : json(nullptr);
  if (v.stats) j["message_stats"] = message_stats_json(*v.stats);
  if (v.owner_name) j["owner_pid_details"]["name"] = *v.owner_name;
  if (!v.consumer_details.is_null()) j["consumer_details"] = v.consumer_details;
  if (v.dead_letter_target) j["dead_letter_target"] = *v.dead_letter_target;
  return j;
}

std::string properties_key(const std::string& routing_key, const protocol::FieldTable& arguments) {
  // As rabbit_mgmt_format:pack_binding_props: the key with '%', '/' and '~'
  // escaped (so the key fits in one path segment), then "~" + a hash of
  // the arguments when there are any.
  std::string quoted;
  for (char c : routing_key) {
    if (c == '%') {
      quoted += "%25";
    } else if (c == '/') {
      quoted += "%2F";
    } else if (c == '~') {
      quoted += "%7E";
    } else {
      quoted += c;
    }
  }
  if (arguments.empty()) return routing_key.empty() ? "~" : quoted;
  const std::string text = to_json(arguments).dump();
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  std::string raw(reinterpret_cast<const char*>(&h), 5);
  std::string hash = broker::base64_encode(raw);
  for (char& c : hash) {
    if (c == '/') c = '_';
    if (c == '+') c = '-';
  }
  while (!hash.empty() && hash.back() == '=')
    hash.pop_back();
  return quoted + "~" + hash;
}

json binding_json(const broker::VHost& vhost, const BindingView& b) {
  return binding_json(vhost.name(), b);
}

json binding_json(const std::string& vhost, const BindingView& b) {
  static const protocol::FieldTable kNone;
  const protocol::FieldTable& args = b.arguments ? *b.arguments : kNone;
  return json{{"source", b.source},
              {"vhost", vhost},
              {"destination", b.destination},
              {"destination_type", b.to_exchange ? "exchange" : "queue"},
              {"routing_key", b.routing_key},
              {"arguments", to_json(args)},
              {"properties_key", properties_key(b.routing_key, args)}};
}

std::string connection_name(const broker::Connection& c) {
  const auto remote = c.remote_endpoint();
  const auto local = c.local_endpoint();
  if (remote.port() == 0) return c.peer();
  return fmt::format("{}:{} -> {}:{}", remote.address().to_string(), remote.port(),
                     local.address().to_string(), local.port());
}

json connection_json(const broker::Connection& c) {
  const auto remote = c.remote_endpoint();
  const auto local = c.local_endpoint();
  std::size_t channels = 0;
  for (const auto& ch : c.channels())
    channels += ch != nullptr ? 1 : 0;
  const auto connected_at =
      std::chrono::duration_cast<std::chrono::milliseconds>(c.connected_at().time_since_epoch())
          .count();
  json client_properties = to_json(c.client_properties());
  return json{{"name", connection_name(c)},
              {"node", kNodeName},
              {"type", "network"},
              {"protocol", "AMQP 0-9-1"},
              {"state", c.is_open() ? "running" : "starting"},
              {"user", c.user()},
              {"user_who_performed_action", c.user()},
              {"vhost", c.vhost_or_null() ? json(c.vhost_or_null()->name()) : json(nullptr)},
              {"channels", channels},
              {"channel_max", c.channel_max()},
              {"frame_max", c.frame_max()},
              {"timeout", c.heartbeat()},
              {"auth_mechanism", "PLAIN"},
              {"ssl", false},
              {"host", local.address().to_string()},
              {"port", local.port()},
              {"peer_host", remote.address().to_string()},
              {"peer_port", remote.port()},
              {"connected_at", connected_at},
              {"client_properties", std::move(client_properties)}};
}

json channel_json(const broker::Channel& ch) {
  const broker::Connection& c = ch.connection();
  const auto remote = c.remote_endpoint();
  return json{
      {"name", fmt::format("{} ({})", connection_name(c), ch.id())},
      {"number", ch.id()},
      {"node", kNodeName},
      {"user", c.user()},
      {"user_who_performed_action", c.user()},
      {"vhost", c.vhost_or_null() ? json(c.vhost_or_null()->name()) : json(nullptr)},
      {"connection_details", json{{"name", connection_name(c)},
                                  {"peer_host", remote.address().to_string()},
                                  {"peer_port", remote.port()}}},
      {"consumer_count", ch.consumers().size()},
      {"messages_unacknowledged", ch.unacked_count()},
      {"messages_unconfirmed", 0},
      {"messages_uncommitted", 0},
      {"acks_uncommitted", 0},
      {"prefetch_count", ch.consumer_prefetch()},
      {"global_prefetch_count", ch.channel_prefetch()},
      {"confirm", ch.confirm_mode()},
      {"transactional", ch.tx_mode()},
      {"state", ch.closing() ? "closing" : "running"},
  };
}

json consumer_json(const broker::Consumer& consumer, const broker::VHost& vhost) {
  const broker::Channel& ch = *consumer.channel;
  const broker::Connection& c = ch.connection();
  const auto remote = c.remote_endpoint();
  const std::string conn_name = connection_name(c);
  return json{
      {"consumer_tag", consumer.tag},
      {"queue", json{{"name", consumer.queue ? consumer.queue->name() : std::string()},
                     {"vhost", vhost.name()}}},
      {"channel_details", json{{"name", fmt::format("{} ({})", conn_name, ch.id())},
                               {"number", ch.id()},
                               {"connection_name", conn_name},
                               {"peer_host", remote.address().to_string()},
                               {"peer_port", remote.port()},
                               {"user", c.user()},
                               {"node", kNodeName}}},
      {"ack_required", !consumer.no_ack},
      {"exclusive", consumer.exclusive},
      {"prefetch_count", consumer.prefetch},
      {"arguments",
       consumer.priority != 0 ? json{{"x-priority", consumer.priority}} : json::object()},
      {"active", true},
      {"activity_status", "up"},
      {"consumer_timeout", nullptr},
  };
}

}  // namespace warren::admin
