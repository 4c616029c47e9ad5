#pragma once
// A virtual host: its exchanges, queues and the routing graph between them.
// Owned by the Broker and used only on the broker thread. Every topology
// change from AMQP (and later the admin API) goes through these methods, so
// the checks and the RabbitMQ-compatible error texts live in one place.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "amqp_error.hpp"
#include "queue.hpp"
#include "warren/protocol/field_table.hpp"
#include "warren/routing/router.hpp"

namespace warren::broker {

class Channel;
class Connection;
class DelayedMessages;
class Persister;
struct BindingRecord;

struct Exchange {
  std::uint64_t id = 0;
  std::string name;
  std::string type;
  bool durable = false;
  bool auto_delete = false;
  bool internal = false;
  protocol::FieldTable arguments;
  // How it routes: `type`, except for x-delayed-message (its x-delayed-type).
  std::string routing_type;
  bool delayed() const { return type == kDelayedMessageType; }
  static constexpr std::string_view kDelayedMessageType = "x-delayed-message";
};

struct ExchangeDeclare {
  std::string name;
  std::string type;
  bool passive = false;
  bool durable = false;
  bool auto_delete = false;
  bool internal = false;
  protocol::FieldTable arguments;
};

struct QueueDeclare {
  std::string name;  // empty: the server picks amq.gen-...
  bool passive = false;
  QueueOptions options;
};

struct BindingSpec {
  std::string source;       // exchange
  std::string destination;  // queue or exchange
  routing::DestinationKind kind = routing::DestinationKind::kQueue;
  std::string routing_key;
  protocol::FieldTable arguments;
};

class VHost {
 public:
  VHost(boost::asio::io_context& io, std::string name);
  VHost(const VHost&) = delete;
  VHost& operator=(const VHost&) = delete;

  const std::string& name() const { return name_; }
  boost::asio::io_context& io() { return io_; }

  // --- durability: definitions of durable exchanges, queues and bindings are
  // recorded through the persister (none when null, e.g. in unit tests).
  void set_persister(Persister* persister) { persister_ = persister; }
  Persister* persister() const { return persister_; }
  void set_delayed(DelayedMessages* delayed) { delayed_ = delayed; }
  // Where messages published to x-delayed-message exchanges wait.
  DelayedMessages* delayed() const { return delayed_; }
  // Start-up: recreate recorded definitions without recording them again.
  void restore_exchange(const ExchangeDeclare& spec);
  std::shared_ptr<Queue> restore_queue(const std::string& name, std::uint64_t id,
                                       QueueOptions options);
  // False when an end of the binding no longer exists (the record is stale).
  bool restore_binding(const BindingRecord& record);
  // Deletes every definition record of this vhost (it is being deleted).
  void forget_definitions();

  // --- exchanges
  // On success `*out` is the declared (or existing, equivalent) exchange.
  MaybeError declare_exchange(const ExchangeDeclare& spec, const Exchange** out);
  MaybeError delete_exchange(std::string_view name, bool if_unused);
  const Exchange* find_exchange(std::string_view name) const;
  // A NOT_FOUND error for a missing exchange, with RabbitMQ's text.
  AmqpError no_exchange(std::string_view name) const;

  // --- queues
  // `requester` is the declaring connection (for exclusivity). On success
  // `*out` is the queue.
  MaybeError declare_queue(const QueueDeclare& spec, Connection* requester,
                           std::shared_ptr<Queue>* out);
  // Finds a queue the requester may use (exclusive queues: owner only).
  MaybeError lookup_queue(std::string_view name, const Connection* requester,
                          std::shared_ptr<Queue>* out) const;
  std::shared_ptr<Queue> find_queue(std::string_view name) const;
  Queue* queue_by_id(std::uint64_t id) const {
    auto it = queues_by_id_.find(id);
    return it == queues_by_id_.end() ? nullptr : it->second;
  }
  // Deletes the queue: its consumers are cancelled (and told), bindings go.
  void delete_queue(const std::shared_ptr<Queue>& queue);
  // Deletes every exclusive queue owned by `owner` (its connection closed).
  void delete_exclusive_queues(const Connection* owner);
  // A consumer left; deletes an auto-delete queue that has none left.
  void consumer_removed(const std::shared_ptr<Queue>& queue);
  std::size_t queue_count() const { return queues_.size(); }
  std::size_t exchange_count() const { return exchanges_.size(); }
  // Deletes every queue (the vhost is being deleted).
  void delete_all_queues();

  // --- read-only views for listings (the admin API); unordered.
  const std::unordered_map<std::string, Exchange>& exchanges() const { return exchanges_; }
  const std::unordered_map<std::string, std::shared_ptr<Queue>>& queues() const { return queues_; }
  const routing::Router& router() const { return router_; }
  // The name of the exchange with that id, or null.
  const std::string* exchange_name(std::uint64_t id) const {
    auto it = exchange_names_.find(id);
    return it == exchange_names_.end() ? nullptr : &it->second;
  }

  // Routes a dead-lettered copy of `message` from `source` through `dlx`.
  void dead_letter(const Queue& source, const Message& message, std::string_view reason,
                   const std::string& dlx, const std::optional<std::string>& dlx_routing_key);

  // --- direct reply-to: tokens of channels consuming amq.rabbitmq.reply-to
  void register_reply_channel(const std::string& token, Channel* channel) {
    reply_channels_[token] = channel;
  }
  void unregister_reply_channel(const std::string& token) { reply_channels_.erase(token); }
  Channel* reply_channel(std::string_view token) const {
    auto it = reply_channels_.find(std::string(token));
    return it == reply_channels_.end() ? nullptr : it->second;
  }

  // --- bindings
  MaybeError bind(const BindingSpec& spec, const Connection* requester);
  MaybeError unbind(const BindingSpec& spec, const Connection* requester);

  // --- publishing
  // Fills `queues_out` with the queues a message reaches from `exchange`.
  // With `held_out`, delayed exchanges reached through bindings are not
  // routed through but listed there (the caller holds the message for
  // them; see routing::Router::set_holding).
  void route(const Exchange& exchange, std::string_view routing_key,
             const protocol::Bytes& encoded_properties, std::vector<Queue*>& queues_out,
             std::vector<const Exchange*>* held_out = nullptr);
  // The same for a message as published: its routing key and its CC and BCC
  // keys (sender-selected distribution; `message` loses its BCC header).
  void route_message(const Exchange& exchange, MessagePtr& message, std::vector<Queue*>& queues_out,
                     std::vector<const Exchange*>* held_out = nullptr);
  // Whether any exchange of this vhost is an x-delayed-message one.
  bool has_delayed_exchanges() const { return delayed_exchanges_ > 0; }

 private:
  std::uint64_t exchange_id(std::string_view name);
  void add_exchange(Exchange exchange);
  void remove_exchange(const Exchange& exchange);
  void maybe_auto_delete_exchange(std::uint64_t exchange_id);
  void delete_unused_auto_delete_exchanges();
  MaybeError resolve_binding(const BindingSpec& spec, const Connection* requester,
                             const Exchange** source, routing::Binding* binding);
  // Durable bindings: recorded when both ends are durable.
  bool binding_is_durable(const BindingSpec& spec) const;
  void record_binding(const BindingSpec& spec, bool bound);
  void forget_bindings_of(std::string_view name, routing::DestinationKind kind);
  void record_queue(const Queue& queue);

  Persister* persister_ = nullptr;
  DelayedMessages* delayed_ = nullptr;
  bool restoring_ = false;
  // Record keys of durable bindings, with their spec (for cascading deletes).
  std::unordered_map<std::string, BindingSpec> durable_bindings_;

  boost::asio::io_context& io_;
  const std::string name_;
  routing::Router router_;
  std::unordered_map<std::string, Exchange> exchanges_;
  std::unordered_map<std::uint64_t, std::string> exchange_names_;  // id -> name
  // Exchange ids are interned names, so an alternate exchange can be named
  // before it exists (routing follows names, as in RabbitMQ).
  std::unordered_map<std::string, std::uint64_t> exchange_ids_;
  std::uint64_t next_exchange_id_ = 1;
  std::unordered_map<std::string, std::shared_ptr<Queue>> queues_;
  std::unordered_map<std::uint64_t, Queue*> queues_by_id_;
  // Headers exchanges need the message's headers decoded; skip that work
  // when no headers exchange has bindings.
  std::size_t headers_bindings_ = 0;
  std::vector<std::uint64_t> route_scratch_;
  std::vector<Queue*> cc_scratch_;  // routes of CC/BCC keys
  std::vector<const Exchange*> held_scratch_;
  std::vector<std::uint64_t> held_ids_scratch_;
  std::size_t delayed_exchanges_ = 0;
  std::unordered_map<std::string, Channel*> reply_channels_;
};

}  // namespace warren::broker
