// /api/vhosts, /api/users, /api/permissions. Every change goes through the
// Broker's add_vhost / delete_vhost / put_user / delete_user /
// set_permissions / clear_permissions.

#include <boost/regex.hpp>

#include "admin/handlers.hpp"
#include "admin/listing.hpp"
#include "admin/shapes.hpp"
#include "broker.hpp"
#include "password.hpp"
#include "vhost.hpp"

namespace warren::admin {

namespace {

std::vector<std::string> parse_tags(const json& body, const char* key) {
  std::vector<std::string> tags;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return tags;
  auto add = [&](std::string tag) {
    auto b = tag.find_first_not_of(" \t");
    auto e = tag.find_last_not_of(" \t");
    if (b == std::string::npos) return;
    tags.push_back(tag.substr(b, e - b + 1));
  };
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    std::size_t start = 0;
    while (start <= text.size()) {
      auto end = text.find(',', start);
      if (end == std::string::npos) end = text.size();
      add(text.substr(start, end - start));
      start = end + 1;
    }
  } else if (it->is_array()) {
    for (const auto& t : *it) {
      if (!t.is_string()) throw bad_request(json::array({"not_string", t}));
      add(t.get<std::string>());
    }
  } else {
    throw bad_request(json::array({"not_string", *it}));
  }
  return tags;
}

json vhost_json(const broker::Broker& broker, const broker::VHost& vhost) {
  const broker::VHostMetadata* meta = broker.vhost_metadata(vhost.name());
  const std::string description = meta ? meta->description : std::string();
  const std::vector<std::string> tags = meta ? meta->tags : std::vector<std::string>{};
  std::uint64_t ready = 0, unacked = 0, waiting = 0;
  for (const auto& [name, q] : vhost.queues()) {
    ready += q->ready_count();
    unacked += q->unacked_count();
    waiting += q->waiting_count();
  }
  const json zero{{"rate", 0.0}};
  return json{
      {"name", vhost.name()},
      {"description", description},
      {"tags", tags},
      {"default_queue_type", meta && !meta->default_queue_type.empty() ? meta->default_queue_type
                                                                       : std::string("undefined")},
      {"metadata", json{{"description", description}, {"tags", tags}}},
      {"tracing", false},
      {"cluster_state", json{{kNodeName, "running"}}},
      {"messages", ready + unacked + waiting},
      {"messages_details", zero},
      {"messages_ready", ready},
      {"messages_ready_details", zero},
      {"messages_unacknowledged", unacked},
      {"messages_unacknowledged_details", zero}};
}

json user_json(const broker::User& user) {
  return json{{"name", user.name},
              {"password_hash", user.password_hash},
              {"hashing_algorithm", user.hashing_algorithm},
              {"tags", user.tags},
              {"limits", json::object()}};
}

json permission_json(const std::string& vhost, const std::string& user,
                     const broker::Permission& p) {
  return json{{"user", user},
              {"vhost", vhost},
              {"configure", p.configure},
              {"write", p.write},
              {"read", p.read}};
}

void check_regex(const std::string& pattern) {
  try {
    boost::regex re(pattern);
  } catch (const boost::regex_error&) {
    throw bad_request(json::array({"invalid_regexp", pattern}));
  }
}

Response put_vhost(broker::Broker& broker, Request& request) {
  const std::string& name = request.param("vhost");
  json body = parse_body(request);
  broker::VHostMetadata meta;
  if (const auto* old = broker.vhost_metadata(name)) meta = *old;
  if (body.contains("description")) meta.description = string_field(body, "description");
  if (body.contains("tags")) meta.tags = parse_tags(body, "tags");
  if (body.contains("default_queue_type")) {
    meta.default_queue_type = string_field(body, "default_queue_type");
  }
  if (name.empty()) throw bad_request("vhost name must not be empty");
  const bool is_new = broker.add_vhost(name, std::move(meta));
  if (!is_new) return no_content();
  // As RabbitMQ: the user who creates a vhost gets full permissions on it.
  broker.set_permissions(name, request.user->name, broker::Permission{});
  return created();
}

Response put_user(broker::Broker& broker, Request& request) {
  const std::string& name = request.param("user");
  json body = parse_body(request);
  const broker::User* existing = broker.find_user(name);
  broker::User user = existing ? *existing : broker::User{};
  user.name = name;
  if (body.contains("tags") || !existing) user.tags = parse_tags(body, "tags");
  std::string algorithm =
      string_field(body, "hashing_algorithm", std::string(broker::kDefaultHashingAlgorithm));
  if (!broker::known_hashing_algorithm(algorithm)) {
    throw bad_request("unknown hashing algorithm '" + algorithm + "'");
  }
  if (body.contains("password")) {
    user.password_hash = broker::hash_password(string_field(body, "password"), algorithm);
    user.hashing_algorithm = algorithm;
  } else if (body.contains("password_hash")) {
    user.password_hash = string_field(body, "password_hash");
    user.hashing_algorithm = algorithm;
    std::string raw;
    if (!user.password_hash.empty() && !broker::base64_decode(user.password_hash, &raw)) {
      throw bad_request("invalid password_hash");
    }
  } else if (!existing) {
    user.password_hash.clear();  // a user without a password cannot log in with one
  }
  broker.put_user(std::move(user));
  return existing ? no_content() : created();
}

Response put_permission(broker::Broker& broker, Request& request) {
  const std::string& vhost = request.param("vhost");
  const std::string& user = request.param("user");
  json body = parse_body(request);
  require_keys(body, {"configure", "write", "read"});
  broker::Permission p{string_field(body, "configure"), string_field(body, "write"),
                       string_field(body, "read")};
  check_regex(p.configure);
  check_regex(p.write);
  check_regex(p.read);
  if (broker.find_vhost(vhost) == nullptr || broker.find_user(user) == nullptr) {
    throw bad_request("vhost_or_user_not_found");
  }
  const bool existed = broker.find_permissions(vhost, user) != nullptr;
  broker.set_permissions(vhost, user, std::move(p));
  return existed ? no_content() : created();
}

}  // namespace

void add_access_routes(Router& router, broker::Broker& broker) {
  // --- vhosts
  router.add(Verb::kGet, "/api/vhosts", Access::kManagement, [&broker](Request& r) {
    std::vector<json> items;
    for (const auto& [name, vhost] : broker.vhosts()) {
      // Monitoring users list every vhost (not the objects in them).
      if (sees_all_vhosts(*r.user) || can_see_vhost(broker, *r.user, name)) {
        items.push_back(vhost_json(broker, *vhost));
      }
    }
    return list_response(r, std::move(items));
  });
  router.add(Verb::kGet, "/api/vhosts/{vhost}", Access::kManagement, [&broker](Request& r) {
    broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
    if (!sees_all_vhosts(*r.user)) require_vhost_visible(broker, r, vhost.name());
    return json_response(vhost_json(broker, vhost));
  });
  router.add(Verb::kPut, "/api/vhosts/{vhost}", Access::kAdministrator,
             [&broker](Request& r) { return put_vhost(broker, r); });
  router.add(Verb::kDelete, "/api/vhosts/{vhost}", Access::kAdministrator, [&broker](Request& r) {
    if (!broker.delete_vhost(r.param("vhost"))) throw not_found();
    return no_content();
  });
  router.add(Verb::kGet, "/api/vhosts/{vhost}/permissions", Access::kAdministrator,
             [&broker](Request& r) {
               vhost_or_404(broker, r.param("vhost"));
               std::vector<json> items;
               for (const auto& [key, p] : broker.permissions()) {
                 if (key.first == r.param("vhost")) {
                   items.push_back(permission_json(key.first, key.second, p));
                 }
               }
               return list_response(r, std::move(items));
             });

  // --- users
  router.add(Verb::kGet, "/api/users", Access::kAdministrator, [&broker](Request& r) {
    std::vector<json> items;
    for (const auto& [name, user] : broker.users())
      items.push_back(user_json(user));
    return list_response(r, std::move(items));
  });
  router.add(Verb::kGet, "/api/users/without-permissions", Access::kAdministrator,
             [&broker](Request& r) {
               std::vector<json> items;
               for (const auto& [name, user] : broker.users()) {
                 bool any = false;
                 for (const auto& [key, p] : broker.permissions())
                   any = any || key.second == name;
                 if (!any) items.push_back(user_json(user));
               }
               return list_response(r, std::move(items));
             });
  router.add(Verb::kPost, "/api/users/bulk-delete", Access::kAdministrator, [&broker](Request& r) {
    json body = parse_body(r);
    require_keys(body, {"users"});
    if (!body["users"].is_array()) throw bad_request("users must be a list");
    for (const auto& name : body["users"]) {
      if (name.is_string()) broker.delete_user(name.get<std::string>());
    }
    return no_content();
  });
  router.add(Verb::kGet, "/api/users/{user}", Access::kAdministrator, [&broker](Request& r) {
    const broker::User* user = broker.find_user(r.param("user"));
    if (user == nullptr) throw not_found();
    return json_response(user_json(*user));
  });
  router.add(Verb::kPut, "/api/users/{user}", Access::kAdministrator,
             [&broker](Request& r) { return put_user(broker, r); });
  router.add(Verb::kDelete, "/api/users/{user}", Access::kAdministrator, [&broker](Request& r) {
    if (!broker.delete_user(r.param("user"))) throw not_found();
    return no_content();
  });
  router.add(Verb::kGet, "/api/users/{user}/permissions", Access::kAdministrator,
             [&broker](Request& r) {
               if (broker.find_user(r.param("user")) == nullptr) throw not_found();
               std::vector<json> items;
               for (const auto& [key, p] : broker.permissions()) {
                 if (key.second == r.param("user")) {
                   items.push_back(permission_json(key.first, key.second, p));
                 }
               }
               return list_response(r, std::move(items));
             });

  // --- permissions
  router.add(Verb::kGet, "/api/permissions", Access::kAdministrator, [&broker](Request& r) {
    std::vector<json> items;
    for (const auto& [key, p] : broker.permissions())
      items.push_back(permission_json(key.first, key.second, p));
    return list_response(r, std::move(items));
  });
  router.add(
      Verb::kGet, "/api/permissions/{vhost}/{user}", Access::kAdministrator, [&broker](Request& r) {
        const broker::Permission* p = broker.find_permissions(r.param("vhost"), r.param("user"));
        if (p == nullptr) throw not_found();
        return json_response(permission_json(r.param("vhost"), r.param("user"), *p));
      });
  router.add(Verb::kPut, "/api/permissions/{vhost}/{user}", Access::kAdministrator,
             [&broker](Request& r) { return put_permission(broker, r); });
  router.add(Verb::kDelete, "/api/permissions/{vhost}/{user}", Access::kAdministrator,
             [&broker](Request& r) {
               if (!broker.clear_permissions(r.param("vhost"), r.param("user"))) {
                 throw not_found();
               }
               return no_content();
             });
}

}  // namespace warren::admin
