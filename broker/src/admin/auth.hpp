#pragma once
// Who may do what through the admin API, as RabbitMQ's management plugin
// decides it: HTTP basic auth against the broker's users, user tags for the
// kind of access, vhost permissions (configure/write/read regexes) for
// objects in a vhost. Failed authentication is 401 (with the Basic challenge);
// an authenticated user refused for want of a tag or permission gets 403
// not_authorised, as issue #5 asks (RabbitMQ 3.10 answers 401 there).

#include <optional>
#include <string>
#include <string_view>

#include "access.hpp"
#include "admin/api.hpp"

namespace warren::broker {
class Broker;
struct User;
}  // namespace warren::broker

namespace warren::admin {

// The tag a route needs. management < policymaker, monitoring < administrator.
enum class Access { kPublic, kManagement, kPolicymaker, kMonitoring, kAdministrator };

// Sets request.user, or returns the 401 response to send (an empty body
// without credentials, {"error":"not_authorized","reason":"Login failed"}
// with wrong ones).
std::optional<Response> authenticate(broker::Broker& broker, Request& request);
// 403 "Not management user" / "Not policymaker user" / "Not monitor user" /
// "Not administrator user".
std::optional<ApiError> check_tags(const broker::User& user, Access access);

// Whether the user sees everything (administrator, monitoring tags).
bool sees_all_vhosts(const broker::User& user);
// Whether the user may see objects of the vhost: administrators always,
// others with permissions there.
bool can_see_vhost(const broker::Broker& broker, const broker::User& user, std::string_view vhost);
// Throws 403 "User not authorised to access virtual host" unless the user
// has permissions there (administrators included, as RabbitMQ).
void require_vhost_access(const broker::Broker& broker, const Request& request,
                          std::string_view vhost);
// For reading objects of one vhost: throws 403 unless can_see_vhost().
void require_vhost_visible(const broker::Broker& broker, const Request& request,
                           std::string_view vhost);

using broker::Permit;
// Throws 403 "Access refused." unless the user's regex for `permit` in the
// vhost matches the resource name (RabbitMQ: queue/exchange names; the
// default exchange counts as "amq.default").
void require_permission(const broker::Broker& broker, const Request& request,
                        std::string_view vhost, Permit permit, std::string_view resource);

}  // namespace warren::admin
