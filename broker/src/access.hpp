#pragma once
// Resource permissions, as RabbitMQ's: a user's configure, write and read
// regexes in a vhost (Permission, broker.hpp), checked against the name of
// the exchange or queue an operation touches. Used by the AMQP methods
// (channel.cpp) and the admin API alike.

#include <string>
#include <string_view>

namespace warren::broker {

struct Permission;

enum class Permit { kConfigure, kWrite, kRead };

// As rabbit_access_control: re:run(Name, Regex), a search, so a regex must
// anchor itself ("^amq\\." ...) to restrict; "" grants nothing; an invalid
// regex grants nothing. Compiled regexes are cached (broker thread only).
bool regex_allows(const std::string& pattern, std::string_view name);

// Whether `permission` grants `permit` on the resource `name` (the default
// exchange, "", is checked as "amq.default", as RabbitMQ does).
bool permits(const Permission& permission, Permit permit, std::string_view name);

}  // namespace warren::broker
