// /api/definitions: export (GET) and import (POST) of users, vhosts,
// permissions, exchanges, queues and bindings in RabbitMQ's format, so a
// RabbitMQ 3.10 export imports unchanged. Imports go through the same
// Broker and VHost methods as the API and AMQP.

#include "admin/handlers.hpp"
#include "admin/json_convert.hpp"
#include "admin/shapes.hpp"
#include "broker.hpp"
#include "log.hpp"
#include "password.hpp"
#include "version.hpp"
#include "vhost.hpp"

namespace warren::admin {

namespace {

bool exported_exchange(const broker::Exchange& x) {
  return !x.name.empty() && !x.name.starts_with("amq.");
}

void export_vhost(const broker::VHost& vhost, bool with_vhost, json& out) {
  auto strip = [&](json j) {
    if (!with_vhost) j.erase("vhost");
    return j;
  };
  std::vector<json> queues, exchanges, bindings;
  for (const auto& [name, q] : vhost.queues()) {
    if (q->options().exclusive) continue;
    json j{{"name", name},
           {"vhost", vhost.name()},
           {"durable", q->options().durable},
           {"auto_delete", q->options().auto_delete},
           {"arguments", to_json(q->options().arguments)}};
    queues.push_back(strip(std::move(j)));
  }
  for (const auto& [name, x] : vhost.exchanges()) {
    if (!exported_exchange(x)) continue;
    json j{{"name", name},
           {"vhost", vhost.name()},
           {"type", x.type},
           {"durable", x.durable},
           {"auto_delete", x.auto_delete},
           {"internal", x.internal},
           {"arguments", to_json(x.arguments)}};
    exchanges.push_back(strip(std::move(j)));
  }
  for_each_binding(vhost, [&](const BindingView& b) {
    if (b.source.empty()) return;  // implicit default-exchange bindings
    if (!b.to_exchange) {
      auto q = vhost.find_queue(b.destination);
      if (!q || q->options().exclusive) return;
    }
    json j{
        {"source", b.source},           {"vhost", vhost.name()},
        {"destination", b.destination}, {"destination_type", b.to_exchange ? "exchange" : "queue"},
        {"routing_key", b.routing_key}, {"arguments", to_json(*b.arguments)}};
    bindings.push_back(strip(std::move(j)));
  });
  // A stable order: by the serialised object (each serialised once).
  auto sort_by_text = [](std::vector<json>& items) {
    std::vector<std::pair<std::string, json>> keyed;
    keyed.reserve(items.size());
    for (json& j : items)
      keyed.emplace_back(j.dump(), std::move(j));
    std::sort(keyed.begin(), keyed.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < items.size(); ++i)
      items[i] = std::move(keyed[i].second);
  };
  sort_by_text(queues);
  sort_by_text(exchanges);
  sort_by_text(bindings);
  for (auto& j : queues)
    out["queues"].push_back(std::move(j));
  for (auto& j : exchanges)
    out["exchanges"].push_back(std::move(j));
  for (auto& j : bindings)
    out["bindings"].push_back(std::move(j));
}

json export_all(broker::Broker& broker) {
  json out{{"rabbit_version", kManagementVersion},
           {"rabbitmq_version", kManagementVersion},
           {"product_name", "Warren"},
           {"product_version", broker::kVersion},
           {"users", json::array()},
           {"vhosts", json::array()},
           {"permissions", json::array()},
           {"topic_permissions", json::array()},
           {"parameters", json::array()},
           {"global_parameters", json::array()},
           {"policies", json::array()},
           {"queues", json::array()},
           {"exchanges", json::array()},
           {"bindings", json::array()}};
  for (const auto& [name, u] : broker.users()) {
    out["users"].push_back(json{{"name", u.name},
                                {"password_hash", u.password_hash},
                                {"hashing_algorithm", u.hashing_algorithm},
                                {"tags", u.tags},
                                {"limits", json::object()}});
  }
  for (const auto& [name, vhost] : broker.vhosts()) {
    json v{{"name", name}};
    if (const auto* meta = broker.vhost_metadata(name)) {
      v["metadata"] = json{{"description", meta->description}, {"tags", meta->tags}};
    }
    out["vhosts"].push_back(std::move(v));
  }
  for (const auto& [key, p] : broker.permissions()) {
    out["permissions"].push_back(json{{"user", key.second},
                                      {"vhost", key.first},
                                      {"configure", p.configure},
                                      {"write", p.write},
                                      {"read", p.read}});
  }
  for (const auto& [name, vhost] : broker.vhosts())
    export_vhost(*vhost, true, out);
  return out;
}

// --- import

const json& list_of(const json& defs, const char* key) {
  static const json kEmpty = json::array();
  auto it = defs.find(key);
  if (it == defs.end() || it->is_null()) return kEmpty;
  if (!it->is_array()) throw bad_request(std::string(key) + " must be a list");
  for (const auto& item : *it) {
    if (!item.is_object()) throw bad_request(std::string("each of ") + key + " must be an object");
  }
  return *it;
}

std::string required_string(const json& item, const char* key, const char* what) {
  auto it = item.find(key);
  if (it == item.end() || !it->is_string()) {
    throw bad_request(std::string(what) + ": '" + key + "' must be a string");
  }
  return it->get<std::string>();
}

std::vector<std::string> tags_of(const json& item) {
  std::vector<std::string> tags;
  auto it = item.find("tags");
  if (it == item.end() || it->is_null()) return tags;
  if (it->is_array()) {
    for (const auto& t : *it)
      if (t.is_string() && !t.get<std::string>().empty()) tags.push_back(t.get<std::string>());
    return tags;
  }
  if (!it->is_string()) throw bad_request("user tags must be a string or a list");
  const std::string& text = it->get_ref<const std::string&>();
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) tags.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return tags;
}

class Importer {
 public:
  Importer(broker::Broker& broker, const Request& request, const std::string* only_vhost)
      : broker_(broker), request_(request), only_vhost_(only_vhost) {}

  void run(const json& defs) {
    // Validate the shape of everything first, so a malformed file changes nothing.
    for (const char* key : {"users", "vhosts", "permissions", "exchanges", "queues", "bindings",
                            "policies", "parameters", "global_parameters", "topic_permissions"}) {
      (void)list_of(defs, key);
    }
    for (const auto& q : list_of(defs, "queues"))
      (void)required_string(q, "name", "queue");
    for (const auto& x : list_of(defs, "exchanges")) {
      (void)required_string(x, "name", "exchange");
      (void)required_string(x, "type", "exchange");
    }
    for (const auto& b : list_of(defs, "bindings")) {
      (void)required_string(b, "source", "binding");
      (void)required_string(b, "destination", "binding");
    }
    if (only_vhost_ == nullptr) {
      for (const auto& u : list_of(defs, "users"))
        (void)required_string(u, "name", "user");
      for (const auto& v : list_of(defs, "vhosts"))
        (void)required_string(v, "name", "vhost");
      for (const auto& p : list_of(defs, "permissions")) {
        (void)required_string(p, "user", "permission");
        (void)required_string(p, "vhost", "permission");
      }
      import_vhosts(defs);
      import_users(defs);
      import_permissions(defs);
    }
    for (const char* key : {"policies", "parameters"}) {
      if (!list_of(defs, key).empty()) {
        broker::log_warning("definitions import: {} are not supported yet; skipped", key);
      }
    }
    import_exchanges(defs);
    import_queues(defs);
    import_bindings(defs);
  }

 private:
  broker::VHost& vhost_for(const json& item) {
    std::string name = only_vhost_ ? *only_vhost_ : item.value("vhost", std::string("/"));
    broker::VHost* vhost = broker_.find_vhost(name);
    if (vhost == nullptr) throw bad_request("vhost '" + name + "' not found");
    return *vhost;
  }

  // Inequivalent redeclarations are skipped (and logged), as RabbitMQ's import does.
  void check(const broker::MaybeError& err, const std::string& what) {
    if (!err) return;
    if (err->code == protocol::kPreconditionFailed) {
      broker::log_warning("definitions import: {} skipped: {}", what, err->text);
      return;
    }
    throw from_amqp(*err);
  }

  void import_vhosts(const json& defs) {
    for (const auto& v : list_of(defs, "vhosts")) {
      broker::VHostMetadata meta;
      const json* source = &v;
      if (auto it = v.find("metadata"); it != v.end() && it->is_object()) source = &*it;
      if (auto it = source->find("description"); it != source->end() && it->is_string()) {
        meta.description = it->get<std::string>();
      }
      meta.tags = tags_of(*source);
      const std::string name = v["name"].get<std::string>();
      if (broker_.find_vhost(name) != nullptr && meta.description.empty()) {
        if (const auto* old = broker_.vhost_metadata(name)) meta = *old;
      }
      broker_.add_vhost(name, std::move(meta));
    }
  }

  void import_users(const json& defs) {
    for (const auto& u : list_of(defs, "users")) {
      broker::User user;
      user.name = u["name"].get<std::string>();
      if (const broker::User* existing = broker_.find_user(user.name)) user = *existing;
      user.tags = tags_of(u);
      std::string algorithm = u.value("hashing_algorithm", std::string());
      if (algorithm.empty()) algorithm = std::string(broker::kDefaultHashingAlgorithm);
      if (!broker::known_hashing_algorithm(algorithm)) {
        throw bad_request("unknown hashing algorithm '" + algorithm + "'");
      }
      if (auto it = u.find("password"); it != u.end() && it->is_string()) {
        user.password_hash = broker::hash_password(it->get<std::string>(), algorithm);
      } else if (auto h = u.find("password_hash"); h != u.end() && h->is_string()) {
        user.password_hash = h->get<std::string>();
      }
      user.hashing_algorithm = algorithm;
      broker_.put_user(std::move(user));
    }
  }

  void import_permissions(const json& defs) {
    for (const auto& p : list_of(defs, "permissions")) {
      const std::string user = p["user"].get<std::string>();
      const std::string vhost = p["vhost"].get<std::string>();
      if (broker_.find_user(user) == nullptr || broker_.find_vhost(vhost) == nullptr) {
        throw bad_request("permission for user '" + user + "' in vhost '" + vhost +
                          "': vhost_or_user_not_found");
      }
      broker_.set_permissions(
          vhost, user,
          broker::Permission{p.value("configure", std::string()), p.value("write", std::string()),
                             p.value("read", std::string())});
    }
  }

  void import_exchanges(const json& defs) {
    for (const auto& x : list_of(defs, "exchanges")) {
      broker::VHost& vhost = vhost_for(x);
      broker::ExchangeDeclare spec;
      spec.name = x["name"].get<std::string>();
      spec.type = x["type"].get<std::string>();
      spec.durable = bool_field(x, "durable", true);
      spec.auto_delete = bool_field(x, "auto_delete", false);
      spec.internal = bool_field(x, "internal", false);
      spec.arguments = to_field_table(x.value("arguments", json::object()));
      const broker::Exchange* out = nullptr;
      check(vhost.declare_exchange(spec, &out), "exchange '" + spec.name + "'");
    }
  }

  void import_queues(const json& defs) {
    for (const auto& q : list_of(defs, "queues")) {
      broker::VHost& vhost = vhost_for(q);
      broker::QueueDeclare spec;
      spec.name = q["name"].get<std::string>();
      spec.options.durable = bool_field(q, "durable", true);
      spec.options.auto_delete = bool_field(q, "auto_delete", false);
      spec.options.arguments = to_field_table(q.value("arguments", json::object()));
      std::shared_ptr<broker::Queue> out;
      check(vhost.declare_queue(spec, nullptr, &out), "queue '" + spec.name + "'");
    }
  }

  void import_bindings(const json& defs) {
    for (const auto& b : list_of(defs, "bindings")) {
      broker::VHost& vhost = vhost_for(b);
      broker::BindingSpec spec;
      spec.source = b["source"].get<std::string>();
      spec.destination = b["destination"].get<std::string>();
      spec.kind = b.value("destination_type", std::string("queue")) == "exchange"
                      ? routing::DestinationKind::kExchange
                      : routing::DestinationKind::kQueue;
      spec.routing_key = b.value("routing_key", std::string());
      spec.arguments = to_field_table(b.value("arguments", json::object()));
      check(vhost.bind(spec, nullptr), "binding from '" + spec.source + "'");
    }
  }

  broker::Broker& broker_;
  [[maybe_unused]] const Request& request_;
  const std::string* only_vhost_;
};

Response import(broker::Broker& broker, Request& r, const std::string* vhost) {
  json defs = parse_json(r.body);
  if (defs.is_discarded() || !defs.is_object()) throw bad_request("failed_to_parse_json");
  if (vhost != nullptr) vhost_or_404(broker, *vhost);
  Importer(broker, r, vhost).run(defs);
  return no_content();
}

}  // namespace

void add_definition_routes(Router& router, broker::Broker& broker) {
  router.add(Verb::kGet, "/api/definitions", Access::kAdministrator, [&broker](Request& r) {
    std::optional<std::string> download;
    if (r.query.contains("download")) download = r.query_or("download");
    // Serialised off the broker thread: with 10,000 queues it is megabytes.
    return finish_elsewhere([defs = export_all(broker), download]() {
      Response res = json_response(defs);
      if (download) {
        res.headers.emplace_back("content-disposition",
                                 "attachment; filename=\"" + *download + "\"");
      }
      return res;
    });
  });
  router.add(Verb::kGet, "/api/definitions/{vhost}", Access::kAdministrator, [&broker](Request& r) {
    broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
    json out{{"rabbit_version", kManagementVersion},
             {"rabbitmq_version", kManagementVersion},
             {"product_name", "Warren"},
             {"product_version", broker::kVersion},
             {"parameters", json::array()},
             {"policies", json::array()},
             {"queues", json::array()},
             {"exchanges", json::array()},
             {"bindings", json::array()}};
    export_vhost(vhost, false, out);
    return finish_elsewhere([out = std::move(out)]() { return json_response(out); });
  });
  router.add(Verb::kPost, "/api/definitions", Access::kAdministrator,
             [&broker](Request& r) { return import(broker, r, nullptr); });
  router.add(Verb::kPost, "/api/definitions/{vhost}", Access::kAdministrator,
             [&broker](Request& r) { return import(broker, r, &r.param("vhost")); });
}

}  // namespace warren::admin
