#pragma once
// The JSON objects the API returns, shaped as RabbitMQ 3.10's management
// plugin shapes them (rabbit_mgmt_format), shared by listings, single-object
// GETs, definitions export and metrics.

#include <string>

#include "admin/api.hpp"
#include "warren/routing/binding_table.hpp"

namespace warren::broker {
class Broker;
class Channel;
class Connection;
class Queue;
class VHost;
struct Consumer;
struct Exchange;
struct QueueStats;
}  // namespace warren::broker

namespace warren::admin {

inline constexpr const char* kNodeName = "warren@localhost";
inline constexpr const char* kManagementVersion = "3.10.8";

// The HTTP name of an exchange: the default exchange is "amq.default".
std::string http_exchange_name(const std::string& name);
std::string amqp_exchange_name(const std::string& http_name);

json exchange_json(const broker::VHost& vhost, const broker::Exchange& exchange);
// `detailed` adds consumer_details (single-queue GET); without `with_stats`
// there is no message_stats (a listing whose columns leave it out).
json queue_json(const broker::VHost& vhost, broker::Queue& queue, bool detailed,
                bool with_stats = true);
// {"publish": n, "publish_details": {"rate": r}, ...}; updates the rate sample.
json message_stats_json(broker::QueueStats& stats);

// One binding as RabbitMQ lists it, properties_key included.
struct BindingView {
  std::string source;
  std::string destination;
  bool to_exchange = false;
  std::string routing_key;
  const protocol::FieldTable* arguments = nullptr;
};
json binding_json(const broker::VHost& vhost, const BindingView& binding);
// RabbitMQ's properties_key: the quoted routing key, plus "~" and a hash of
// the arguments when there are any; "~" for an empty key without arguments.
std::string properties_key(const std::string& routing_key, const protocol::FieldTable& arguments);
// Visits every binding of the vhost (default-exchange ones included).
template <typename F>
void for_each_binding(const broker::VHost& vhost, F&& visit);

// "127.0.0.1:51234 -> 127.0.0.1:5672", as RabbitMQ names connections.
std::string connection_name(const broker::Connection& connection);
json connection_json(const broker::Connection& connection);
json channel_json(const broker::Channel& channel);
json consumer_json(const broker::Consumer& consumer, const broker::VHost& vhost);

}  // namespace warren::admin

#include "admin/shapes_inl.hpp"
