#include "admin/auth.hpp"

#include "access.hpp"
#include "broker.hpp"
#include "password.hpp"

namespace warren::admin {

namespace {

bool has_any(const broker::User& user, std::initializer_list<std::string_view> tags) {
  for (auto tag : tags)
    if (user.has_tag(tag)) return true;
  return false;
}

}  // namespace

std::optional<Response> authenticate(broker::Broker& broker, Request& request) {
  Response unauthorised;
  unauthorised.status = 401;
  unauthorised.headers.emplace_back("www-authenticate", "Basic realm=\"RabbitMQ Management\"");
  const std::string& header = request.authorization;
  constexpr std::string_view kBasic = "Basic ";
  if (header.size() <= kBasic.size() || !std::string_view(header).starts_with(kBasic)) {
    unauthorised.content_type.clear();
    return unauthorised;
  }
  std::string decoded;
  Response failed = error_response(ApiError{401, "not_authorized", "Login failed"});
  failed.headers = unauthorised.headers;
  // A Basic header that does not decode to user:password is a bad request (as Cowboy's).
  auto colon = std::string::npos;
  if (broker::base64_decode(std::string_view(header).substr(kBasic.size()), &decoded)) {
    colon = decoded.find(':');
  }
  if (colon == std::string::npos) {
    Response bad = no_content();
    bad.status = 400;
    return bad;
  }
  const broker::User* user = broker.authenticate(decoded.substr(0, colon),
                                                 decoded.substr(colon + 1), request.from_loopback);
  if (user == nullptr) return failed;
  request.user = user;
  return std::nullopt;
}

std::optional<ApiError> check_tags(const broker::User& user, Access access) {
  switch (access) {
    case Access::kPublic:
      return std::nullopt;
    case Access::kManagement:
      if (has_any(user, {"management", "policymaker", "monitoring", "administrator"})) {
        return std::nullopt;
      }
      return not_authorised("Not management user");
    case Access::kPolicymaker:
      if (has_any(user, {"policymaker", "administrator"})) return std::nullopt;
      return not_authorised("Not policymaker user");
    case Access::kMonitoring:
      if (has_any(user, {"monitoring", "administrator"})) return std::nullopt;
      return not_authorised("Not monitor user");
    case Access::kAdministrator:
      if (user.has_tag("administrator")) return std::nullopt;
      return not_authorised("Not administrator user");
  }
  return not_authorised("Not management user");
}

bool sees_all_vhosts(const broker::User& user) {
  return has_any(user, {"administrator", "monitoring"});
}

bool can_see_vhost(const broker::Broker& broker, const broker::User& user, std::string_view vhost) {
  // As RabbitMQ 3.10: only administrators see objects in vhosts they have
  // no permissions in (monitoring users see the vhost list, not the objects).
  return user.has_tag("administrator") || broker.find_permissions(vhost, user.name) != nullptr;
}

void require_vhost_access(const broker::Broker& broker, const Request& request,
                          std::string_view vhost) {
  if (broker.find_permissions(vhost, request.user->name) == nullptr) {
    throw not_authorised("User not authorised to access virtual host");
  }
}

void require_vhost_visible(const broker::Broker& broker, const Request& request,
                           std::string_view vhost) {
  if (!can_see_vhost(broker, *request.user, vhost)) {
    throw not_authorised("User not authorised to access virtual host");
  }
}

void require_permission(const broker::Broker& broker, const Request& request,
                        std::string_view vhost, Permit permit, std::string_view resource) {
  const broker::Permission* p = broker.find_permissions(vhost, request.user->name);
  if (p == nullptr) throw not_authorised("User not authorised to access virtual host");
  if (!broker::permits(*p, permit, resource)) throw not_authorised("Access refused.");
}

}  // namespace warren::admin
