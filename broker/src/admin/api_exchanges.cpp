// /api/exchanges: list, declare (PUT), delete, publish. Declaring and
// deleting go through VHost::declare_exchange / delete_exchange, so the
// checks and error texts are the AMQP ones.

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

std::vector<json> exchanges_of(broker::Broker& broker, const Request& r, const broker::VHost& v) {
  std::vector<json> items;
  for (const auto& [name, x] : v.exchanges()) {
    if (passes_name_filter(r, name)) items.push_back(exchange_json(v, x));
  }
  (void)broker;
  return items;
}

Response list_all(broker::Broker& broker, Request& r) {
  std::vector<json> items;
  for (const auto& [name, vhost] : broker.vhosts()) {
    if (!can_see_vhost(broker, *r.user, name)) continue;
    auto part = exchanges_of(broker, r, *vhost);
    items.insert(items.end(), std::make_move_iterator(part.begin()),
                 std::make_move_iterator(part.end()));
  }
  if (!r.query.contains("sort")) {
    std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
      return std::tie(a["vhost"].get_ref<const std::string&>(),
                      a["name"].get_ref<const std::string&>()) <
             std::tie(b["vhost"].get_ref<const std::string&>(),
                      b["name"].get_ref<const std::string&>());
    });
  }
  return list_response(r, std::move(items));
}

Response put_exchange(broker::Broker& broker, Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  const std::string name = amqp_exchange_name(r.param("exchange"));
  json body = parse_body(r);
  require_vhost_access(broker, r, vhost.name());
  require_permission(broker, r, vhost.name(), Permit::kConfigure, name);
  broker::ExchangeDeclare spec;
  spec.name = name;
  spec.type = string_field(body, "type", "direct");
  spec.durable = bool_field(body, "durable", false);
  spec.auto_delete = bool_field(body, "auto_delete", false);
  spec.internal = bool_field(body, "internal", false);
  spec.arguments = to_field_table(body.value("arguments", json::object()));
  const bool existed = vhost.find_exchange(name) != nullptr;
  const broker::Exchange* out = nullptr;
  if (auto err = vhost.declare_exchange(spec, &out)) throw from_amqp(*err);
  return existed ? no_content() : created();
}

Response delete_exchange(broker::Broker& broker, Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  const std::string name = amqp_exchange_name(r.param("exchange"));
  require_vhost_access(broker, r, vhost.name());
  if (vhost.find_exchange(name) == nullptr) throw not_found();
  require_permission(broker, r, vhost.name(), Permit::kConfigure, name);
  const bool if_unused = r.query_or("if-unused") == "true";
  if (auto err = vhost.delete_exchange(name, if_unused)) throw from_amqp(*err);
  return no_content();
}

// The expiration property as the AMQP path reads it: decimal milliseconds.
std::optional<std::int64_t> parse_expiration(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t ttl = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    ttl = ttl * 10 + (c - '0');
  }
  return ttl;
}

Response publish(broker::Broker& broker, Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  json body = parse_body(r);
  require_keys(body, {"properties", "routing_key", "payload", "payload_encoding"});
  require_vhost_access(broker, r, vhost.name());
  const std::string name = amqp_exchange_name(r.param("exchange"));
  const broker::Exchange* exchange = vhost.find_exchange(name);
  if (exchange == nullptr) {
    throw bad_request("404 " + vhost.no_exchange(name).text);
  }
  require_permission(broker, r, vhost.name(), Permit::kWrite, name);
  if (exchange->internal) {
    throw bad_request(
        fmt::format("403 ACCESS_REFUSED - cannot publish to internal exchange '{}' in vhost '{}'",
                    exchange->name, vhost.name()));
  }
  const std::string encoding = string_field(body, "payload_encoding");
  const std::string payload = string_field(body, "payload");
  std::string bytes;
  if (encoding == "string") {
    bytes = payload;
  } else if (encoding == "base64") {
    if (!broker::base64_decode(payload, &bytes)) throw bad_request("invalid base64 payload");
  } else {
    throw bad_request("payload_encoding must be \"string\" or \"base64\"");
  }
  protocol::BasicProperties props = to_properties(body["properties"]);
  auto message = std::make_shared<broker::Message>();
  if (props.expiration) {
    auto ttl = parse_expiration(*props.expiration);
    if (!ttl) {
      throw bad_request("406 PRECONDITION_FAILED - invalid expiration '" + *props.expiration + "'");
    }
    message->ttl_ms = *ttl;
  }
  if (props.priority) message->priority = *props.priority;
  message->persistent = props.delivery_mode.value_or(0) == 2;
  if (props.user_id && *props.user_id != r.user->name) {
    throw bad_request(fmt::format(
        "406 PRECONDITION_FAILED - user_id property set to '{}' but authenticated user was '{}'",
        *props.user_id, r.user->name));
  }
  message->exchange = exchange->name;
  message->routing_key = string_field(body, "routing_key");
  {
    protocol::Encoder enc(message->properties);
    protocol::encode_properties(props, enc);
  }
  message->body.assign(bytes.begin(), bytes.end());
  message->body_size = message->body.size();
  message->account();
  std::vector<broker::Queue*> targets;
  vhost.route(*exchange, message->routing_key, message->properties, targets);
  broker::MessagePtr shared = std::move(message);
  for (broker::Queue* q : targets)
    (void)q->publish(shared);
  return json_response(json{{"routed", !targets.empty()}});
}

}  // namespace

void add_exchange_routes(Router& router, broker::Broker& broker) {
  router.add(Verb::kGet, "/api/exchanges", Access::kManagement,
             [&broker](Request& r) { return list_all(broker, r); });
  router.add(Verb::kGet, "/api/exchanges/{vhost}", Access::kManagement, [&broker](Request& r) {
    broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
    require_vhost_visible(broker, r, vhost.name());
    auto items = exchanges_of(broker, r, vhost);
    if (!r.query.contains("sort")) {
      std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
        return a["name"].get_ref<const std::string&>() < b["name"].get_ref<const std::string&>();
      });
    }
    return list_response(r, std::move(items));
  });
  router.add(
      Verb::kGet, "/api/exchanges/{vhost}/{exchange}", Access::kManagement, [&broker](Request& r) {
        broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
        require_vhost_visible(broker, r, vhost.name());
        const broker::Exchange* x = vhost.find_exchange(amqp_exchange_name(r.param("exchange")));
        if (x == nullptr) throw not_found();
        return json_response(exchange_json(vhost, *x));
      });
  router.add(Verb::kPut, "/api/exchanges/{vhost}/{exchange}", Access::kManagement,
             [&broker](Request& r) { return put_exchange(broker, r); });
  router.add(Verb::kDelete, "/api/exchanges/{vhost}/{exchange}", Access::kManagement,
             [&broker](Request& r) { return delete_exchange(broker, r); });
  router.add(Verb::kPost, "/api/exchanges/{vhost}/{exchange}/publish", Access::kManagement,
             [&broker](Request& r) { return publish(broker, r); });
}

}  // namespace warren::admin
