// /api/connections (DELETE closes one with 320 CONNECTION_FORCED),
// /api/channels, /api/consumers. Read-only views of live AMQP state, except
// the close.

#include "admin/handlers.hpp"
#include "admin/listing.hpp"
#include "admin/shapes.hpp"
#include "broker.hpp"
#include "channel.hpp"
#include "connection.hpp"
#include "consumer.hpp"
#include "vhost.hpp"

namespace warren::admin {

namespace {

// Connections the user may see: all for monitoring/administrator, their own otherwise.
bool visible(const broker::User& user, const broker::Connection& c) {
  return c.vhost_or_null() != nullptr && (sees_all_vhosts(user) || c.user() == user.name);
}

std::vector<const broker::Connection*> connections(broker::Broker& broker, const Request& r,
                                                   const std::string* vhost = nullptr) {
  std::vector<const broker::Connection*> out;
  for (const broker::Connection* c : broker.connections()) {
    if (!visible(*r.user, *c)) continue;
    if (vhost != nullptr && c->vhost_or_null()->name() != *vhost) continue;
    out.push_back(c);
  }
  return out;
}

broker::Connection* find_connection(broker::Broker& broker, const Request& r) {
  for (broker::Connection* c : broker.connections()) {
    if (visible(*r.user, *c) && connection_name(*c) == r.param("connection")) return c;
  }
  throw not_found();
}

Response list_connections(broker::Broker& broker, Request& r, const std::string* vhost) {
  std::vector<json> items;
  for (const broker::Connection* c : connections(broker, r, vhost))
    items.push_back(connection_json(*c));
  return list_response(r, std::move(items));
}

Response list_channels(broker::Broker& broker, Request& r, const std::string* vhost,
                       const broker::Connection* only = nullptr) {
  std::vector<json> items;
  for (const broker::Connection* c : connections(broker, r, vhost)) {
    if (only != nullptr && c != only) continue;
    for (const auto& ch : c->channels()) {
      if (ch != nullptr) items.push_back(channel_json(*ch));
    }
  }
  return list_response(r, std::move(items));
}

Response list_consumers(broker::Broker& broker, Request& r, const std::string* vhost_name) {
  std::vector<json> items;
  for (const auto& [name, vhost] : broker.vhosts()) {
    if (vhost_name != nullptr && name != *vhost_name) continue;
    if (!can_see_vhost(broker, *r.user, name)) continue;
    for (const auto& [qname, q] : vhost->queues()) {
      for (const broker::Consumer* c : q->consumers())
        items.push_back(consumer_json(*c, *vhost));
    }
  }
  return list_response(r, std::move(items));
}

}  // namespace

void add_connection_routes(Router& router, broker::Broker& broker) {
  router.add(Verb::kGet, "/api/connections", Access::kManagement,
             [&broker](Request& r) { return list_connections(broker, r, nullptr); });
  router.add(Verb::kGet, "/api/connections/{connection}", Access::kManagement,
             [&broker](Request& r) {
               return json_response(connection_json(*find_connection(broker, r)));
             });
  router.add(Verb::kDelete, "/api/connections/{connection}", Access::kManagement,
             [&broker](Request& r) {
               broker::Connection* c = find_connection(broker, r);
               const std::string reason =
                   r.x_reason.empty() ? std::string("Closed via management plugin") : r.x_reason;
               c->close(broker::amqp_error(protocol::kConnectionForced, "{}", reason));
               return no_content();
             });
  router.add(Verb::kGet, "/api/connections/{connection}/channels", Access::kManagement,
             [&broker](Request& r) {
               const broker::Connection* c = find_connection(broker, r);
               return list_channels(broker, r, nullptr, c);
             });
  router.add(Verb::kGet, "/api/vhosts/{vhost}/connections", Access::kManagement,
             [&broker](Request& r) {
               vhost_or_404(broker, r.param("vhost"));
               return list_connections(broker, r, &r.param("vhost"));
             });
  router.add(Verb::kGet, "/api/channels", Access::kManagement,
             [&broker](Request& r) { return list_channels(broker, r, nullptr); });
  router.add(Verb::kGet, "/api/vhosts/{vhost}/channels", Access::kManagement,
             [&broker](Request& r) {
               vhost_or_404(broker, r.param("vhost"));
               return list_channels(broker, r, &r.param("vhost"));
             });
  router.add(Verb::kGet, "/api/channels/{channel}", Access::kManagement, [&broker](Request& r) {
    for (const broker::Connection* c : connections(broker, r)) {
      for (const auto& ch : c->channels()) {
        if (ch == nullptr) continue;
        json j = channel_json(*ch);
        if (j["name"] == r.param("channel")) return json_response(j);
      }
    }
    throw not_found();
  });
  router.add(Verb::kGet, "/api/consumers", Access::kManagement,
             [&broker](Request& r) { return list_consumers(broker, r, nullptr); });
  router.add(Verb::kGet, "/api/consumers/{vhost}", Access::kManagement, [&broker](Request& r) {
    vhost_or_404(broker, r.param("vhost"));
    require_vhost_visible(broker, r, r.param("vhost"));
    return list_consumers(broker, r, &r.param("vhost"));
  });
}

}  // namespace warren::admin
