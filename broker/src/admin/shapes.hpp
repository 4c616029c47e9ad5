#pragma once
// The JSON objects the API returns, shaped as RabbitMQ 3.10's management
// plugin shapes them (rabbit_mgmt_format), shared by listings, single-object
// GETs, definitions export and metrics.

#include <optional>
#include <string>

#include "admin/api.hpp"
#include "queue.hpp"
#include "warren/routing/binding_table.hpp"

namespace warren::broker {
class Broker;
class Channel;
class Connection;
class Queue;
class VHost;
struct Consumer;
struct Exchange;
}  // namespace warren::broker

namespace warren::admin {

inline constexpr const char* kNodeName = "warren@localhost";
inline constexpr const char* kManagementVersion = "3.10.8";

// The HTTP name of an exchange: the default exchange is "amq.default".
std::string http_exchange_name(const std::string& name);
std::string amqp_exchange_name(const std::string& http_name);

json exchange_json(const broker::VHost& vhost, const broker::Exchange& exchange);

// A queue's counters with the rate sample just taken, at `at_ms` (steady clock).
struct StatsSnapshot {
  broker::QueueStats stats;
  std::int64_t at_ms = 0;
};
// Takes a rate sample (at most every 5 s) and copies the counters.
StatsSnapshot sample_stats(broker::QueueStats& stats);
// {"publish": n, "publish_details": {"rate": r}, ...}.
json message_stats_json(const StatsSnapshot& snapshot);
json message_stats_json(broker::QueueStats& stats);  // samples, then the above

// What a queue's JSON shows, copied on the broker thread so that the JSON
// can be built anywhere (listings build it off the broker thread).
struct QueueView {
  std::string name;
  std::string vhost;
  broker::QueueOptions options;
  std::uint64_t messages = 0, ready = 0, unacked = 0, waiting = 0, waiting_in_memory = 0,
                ready_in_memory = 0;
  std::uint64_t ready_bytes = 0, consumers = 0;
  std::optional<std::string> exclusive_consumer_tag, single_active_consumer_tag, owner_name;
  std::optional<StatsSnapshot> stats;
  std::optional<bool> dead_letter_target;  // Warren's mark, when the caller worked it out
  json consumer_details;                   // detailed views only
};
// `detailed` adds consumer_details (single-queue GET); without `with_stats`
// there is no message_stats (a listing whose columns leave it out).
QueueView queue_view(const broker::VHost& vhost, broker::Queue& queue, bool detailed,
                     bool with_stats = true);
json queue_json(const QueueView& view);

// One binding as RabbitMQ lists it, properties_key included.
struct BindingView {
  std::string source;
  std::string destination;
  bool to_exchange = false;
  std::string routing_key;
  const protocol::FieldTable* arguments = nullptr;
};
json binding_json(const broker::VHost& vhost, const BindingView& binding);
json binding_json(const std::string& vhost, const BindingView& binding);
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
