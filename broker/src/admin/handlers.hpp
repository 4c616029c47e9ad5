#pragma once
// Route registration, one function per resource file (api_*.cpp), and the
// lookups handlers share.

#include <cstdint>
#include <string>

#include "admin/router.hpp"

namespace warren::broker {
class Broker;
class VHost;
}  // namespace warren::broker

namespace warren::admin {

void add_all_routes(Router& router, broker::Broker& broker);

void add_overview_routes(Router& router, broker::Broker& broker);    // api_overview.cpp
void add_access_routes(Router& router, broker::Broker& broker);      // api_access.cpp
void add_exchange_routes(Router& router, broker::Broker& broker);    // api_exchanges.cpp
void add_queue_routes(Router& router, broker::Broker& broker);       // api_queues.cpp
void add_binding_routes(Router& router, broker::Broker& broker);     // api_bindings.cpp
void add_connection_routes(Router& router, broker::Broker& broker);  // api_connections.cpp
void add_definition_routes(Router& router, broker::Broker& broker);  // api_definitions.cpp
void add_metrics_routes(Router& router, broker::Broker& broker);     // metrics.cpp
void add_message_routes(Router& router, broker::Broker& broker);  // api_messages.cpp (DLQ tooling)
void add_waiting_routes(Router& router,
                        broker::Broker& broker);  // api_waiting.cpp (retry, delayed)

// The broker process's resident memory (/proc/self/statm), 0 when unknown (metrics.cpp).
std::uint64_t resident_bytes();

// The vhost named in a path; throws 404 {"error":"not_found","reason":"vhost_not_found"}... as
// RabbitMQ: a GET of something in an unknown vhost is the generic 404.
broker::VHost& vhost_or_404(broker::Broker& broker, const std::string& name);

}  // namespace warren::admin
