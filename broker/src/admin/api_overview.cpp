// /api/overview, /api/whoami, /api/health/checks/alarms, /api/aliveness-test,
// and the small endpoints the web UI and rabbitmqadmin probe.

#include <filesystem>
#include <map>

#include "admin/dead_letter_targets.hpp"
#include "admin/handlers.hpp"
#include "admin/shapes.hpp"
#include "broker.hpp"
#include "channel.hpp"
#include "connection.hpp"
#include "delayed_messages.hpp"
#include "message.hpp"
#include "version.hpp"
#include "vhost.hpp"

namespace warren::admin {

namespace {

json exchange_types() {
  json types = json::array();
  for (const char* name : {"direct", "fanout", "headers", "topic"}) {
    types.push_back(json{
        {"name", name},
        {"description", std::string("AMQP ") + name + " exchange, as per the AMQP specification"},
        {"enabled", true}});
  }
  return types;
}

// Per user: the last two samples of the message totals, for the rates.
// Broker thread only.
std::map<std::string, broker::QueueStats> overview_history;

Response overview(broker::Broker& broker, Request& request) {
  const broker::User& user = *request.user;
  std::uint64_t ready = 0, unacked = 0, waiting = 0, queues = 0, exchanges = 0, consumers = 0,
                delayed = 0;
  // Warren's own: the queues that receive dead letters, their depth, and the
  // messages they have received (the web console charts the rate).
  std::uint64_t dlq_count = 0, dlq_messages = 0, dlq_received = 0;
  broker::QueueStats totals;
  for (const auto& [name, vhost] : broker.vhosts()) {
    if (!can_see_vhost(broker, user, name)) continue;
    if (broker.delayed() != nullptr) delayed += broker.delayed()->pending_in(name);
    exchanges += vhost->exchange_count();
    for (const auto& [target, sources] : dead_letter_targets(*vhost).sources) {
      auto q = vhost->find_queue(target);
      if (!q) continue;
      ++dlq_count;
      dlq_messages += q->depth();
      dlq_received += q->stats().publish;
    }
    for (const auto& [qname, q] : vhost->queues()) {
      ++queues;
      ready += q->ready_count();
      unacked += q->unacked_count();
      waiting += q->waiting_count();
      consumers += q->consumer_count();
      totals.add_counters(q->stats());
    }
  }
  std::uint64_t connections = 0, channels = 0;
  for (const broker::Connection* c : broker.connections()) {
    const broker::VHost* vhost = c->vhost_or_null();
    if (!sees_all_vhosts(user) && (vhost == nullptr || c->user() != user.name)) continue;
    ++connections;
    for (const auto& ch : c->channels())
      channels += ch != nullptr ? 1 : 0;
  }
  // Rates come from this user's previous samples of the totals (users see
  // different vhosts, so their totals differ).
  broker::QueueStats& history = overview_history[user.name];
  totals.sample = history.sample;
  totals.previous = history.previous;
  json stats = message_stats_json(totals);
  history = totals;
  const auto& config = broker.config();
  const auto amqp = broker.amqp_endpoint();
  json body{
      {"management_version", kManagementVersion},
      {"rates_mode", "basic"},
      {"exchange_types", exchange_types()},
      {"product_name", "Warren"},
      {"product_version", broker::kVersion},
      {"rabbitmq_version", kManagementVersion},
      {"cluster_name", "warren"},
      {"node", kNodeName},
      {"erlang_version", "none (Warren is C++20)"},
      {"disable_stats", false},
      {"enable_queue_totals", false},
      {"statistics_db_event_queue", 0},
      {"message_stats", std::move(stats)},
      {"queue_totals", json{{"messages", ready + unacked + waiting},
                            {"messages_details", json{{"rate", 0.0}}},
                            {"messages_ready", ready},
                            {"messages_ready_details", json{{"rate", 0.0}}},
                            {"messages_unacknowledged", unacked},
                            {"messages_unacknowledged_details", json{{"rate", 0.0}}},
                            {"messages_waiting", waiting}}},
      {"object_totals", json{{"connections", connections},
                             {"channels", channels},
                             {"exchanges", exchanges},
                             {"queues", queues},
                             {"consumers", consumers}}},
      {"dead_letter_queues",
       json{{"queues", dlq_count}, {"messages", dlq_messages}, {"received", dlq_received}}},
      // Warren: messages of x-delayed-message exchanges waiting to be routed, in the vhosts the
      // user sees.
      {"delayed_messages", delayed},
      {"listeners", json::array({json{{"node", kNodeName},
                                      {"protocol", "amqp"},
                                      {"ip_address", config.bind},
                                      {"port", amqp.port()}}})},
      {"contexts", json::array()},
  };
  return json_response(body);
}

Response whoami(Request& request) {
  return json_response(json{{"name", request.user->name}, {"tags", request.user->tags}});
}

Response alarms(broker::Broker& broker) {
  if (!broker.memory_alarm()) return json_response(json{{"status", "ok"}});
  return json_response(
      json{{"status", "failed"},
           {"reason", "resource alarm(s) in effect in the cluster"},
           {"alarms", json::array({json{{"node", kNodeName}, {"resource", "memory"}}})}},
      503);
}

// As RabbitMQ: declare "aliveness-test", publish to it, get it back.
Response aliveness(broker::Broker& broker, Request& request) {
  const std::string& name = request.param("vhost");
  broker::VHost* vhost = broker.find_vhost(name);
  if (vhost == nullptr) throw not_found();
  require_vhost_access(broker, request, name);
  broker::QueueDeclare declare;
  declare.name = "aliveness-test";
  std::shared_ptr<broker::Queue> queue;
  if (auto err = vhost->declare_queue(declare, nullptr, &queue)) throw from_amqp(*err);
  auto message = std::make_shared<broker::Message>();
  message->routing_key = declare.name;
  message->body = protocol::Bytes{'t', 'e', 's', 't'};
  message->body_size = message->body.size();
  message->properties = protocol::Bytes{0, 0};  // no properties
  message->account();
  if (!queue->publish(std::move(message))) {
    return json_response(json{{"status", "failed"}, {"reason", "publish refused"}}, 503);
  }
  broker::Queue::Entry entry;
  if (!queue->take(entry)) {
    return json_response(json{{"status", "failed"}, {"reason", "message not received"}}, 503);
  }
  return json_response(json{{"status", "ok"}});
}

}  // namespace

void add_overview_routes(Router& router, broker::Broker& broker) {
  router.add(Verb::kGet, "/api/overview", Access::kManagement,
             [&broker](Request& r) { return overview(broker, r); });
  router.add(Verb::kGet, "/api/whoami", Access::kManagement, [](Request& r) { return whoami(r); });
  router.add(Verb::kGet, "/api/health/checks/alarms", Access::kManagement,
             [&broker](Request&) { return alarms(broker); });
  router.add(Verb::kGet, "/api/health/checks/local-alarms", Access::kManagement,
             [&broker](Request&) { return alarms(broker); });
  router.add(Verb::kGet, "/api/aliveness-test/{vhost}", Access::kManagement,
             [&broker](Request& r) { return aliveness(broker, r); });
  router.add(Verb::kGet, "/api/extensions", Access::kManagement,
             [](Request&) { return json_response(json::array()); });
  router.add(Verb::kGet, "/api/cluster-name", Access::kManagement, [](Request&) {
    return json_response(json{{"name", "warren"}});
  });
  router.add(Verb::kGet, "/api/nodes", Access::kMonitoring, [&broker](Request& r) {
    (void)r;
    std::error_code ec;
    const auto space = std::filesystem::space(broker.config().data_dir, ec);
    json node{{"name", kNodeName},
              {"type", "disc"},
              {"running", true},
              {"mem_used", resident_bytes()},
              {"mem_alarm", broker.memory_alarm()},
              {"mem_limit", broker.memory_limit()},
              {"message_bytes", broker::message_bytes_in_use()},
              {"disk_free", ec ? json(nullptr) : json(space.available)},
              {"disk_free_limit", broker.config().disk_free_limit},
              {"disk_free_alarm", broker.storage_alarm()}};
    return json_response(json::array({node}));
  });
}

broker::VHost& vhost_or_404(broker::Broker& broker, const std::string& name) {
  broker::VHost* vhost = broker.find_vhost(name);
  if (vhost == nullptr) throw not_found();
  return *vhost;
}

void add_all_routes(Router& router, broker::Broker& broker) {
  add_overview_routes(router, broker);
  add_access_routes(router, broker);
  add_exchange_routes(router, broker);
  add_queue_routes(router, broker);
  add_binding_routes(router, broker);
  add_connection_routes(router, broker);
  add_definition_routes(router, broker);
  add_metrics_routes(router, broker);
  add_message_routes(router, broker);
  add_waiting_routes(router, broker);
}

}  // namespace warren::admin
