#include "vhost.hpp"

#include <algorithm>
#include <random>

#include "channel.hpp"
#include "consumer.hpp"
#include "dead_letter.hpp"
#include "definition_records.hpp"
#include "log.hpp"
#include "persister.hpp"
#include "sender_selected.hpp"
#include "warren/protocol/properties.hpp"
#include "warren/routing/exchange_type_registry.hpp"
#include "warren/routing/exchange_types.hpp"

namespace warren::broker {

using protocol::FieldTable;
using routing::DestinationKind;

namespace {

const char* bool_text(bool b) {
  return b ? "true" : "false";
}

std::string field_text(const protocol::FieldValue* v) {
  if (v == nullptr) return "none";
  if (auto s = v->as_string()) return "'" + *s + "'";
  if (auto i = v->as_int()) return "'" + std::to_string(*i) + "'";
  return std::string("a value of type '") + v->type_letter() + "'";
}

// Queue arguments RabbitMQ compares on redeclaration.
constexpr std::string_view kEquivalentQueueArgs[] = {
    "x-dead-letter-exchange",
    "x-dead-letter-routing-key",
    "x-expires",
    "x-max-length",
    "x-max-length-bytes",
    "x-max-priority",
    "x-message-ttl",
    "x-overflow",
    "x-queue-mode",
    "x-queue-type",
    "x-single-active-consumer",
    "x-delivery-limit",
    "x-delayed-retry-type",
    "x-delayed-retry-min",
    "x-delayed-retry-max",
};

std::string generated_queue_name() {
  static std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string name = "amq.gen-";
  for (int i = 0; i < 22; ++i)
    name += kAlphabet[rng() % 64];
  return name;
}

bool has_reserved_prefix(std::string_view name) {
  return name.starts_with("amq.");
}

}  // namespace

VHost::VHost(boost::asio::io_context& io, std::string name) : io_(io), name_(std::move(name)) {
  // The default exchange and the predeclared amq.* ones, as RabbitMQ has them.
  add_exchange(Exchange{0, "", "direct", true, false, false, {}, {}});
  add_exchange(Exchange{0, "amq.direct", "direct", true, false, false, {}, {}});
  add_exchange(Exchange{0, "amq.fanout", "fanout", true, false, false, {}, {}});
  add_exchange(Exchange{0, "amq.topic", "topic", true, false, false, {}, {}});
  add_exchange(Exchange{0, "amq.headers", "headers", true, false, false, {}, {}});
  add_exchange(Exchange{0, "amq.match", "headers", true, false, false, {}, {}});
}

std::uint64_t VHost::exchange_id(std::string_view name) {
  auto [it, inserted] = exchange_ids_.try_emplace(std::string(name), next_exchange_id_);
  if (inserted) ++next_exchange_id_;
  return it->second;
}

void VHost::add_exchange(Exchange exchange) {
  exchange.id = exchange_id(exchange.name);
  exchange.routing_type = exchange.type;
  if (exchange.delayed()) {
    const auto* routing = protocol::find_field(exchange.arguments, "x-delayed-type");
    exchange.routing_type = *routing->as_string();  // checked by declare_exchange
  }
  std::optional<std::uint64_t> alternate;
  if (auto* ae = protocol::find_field(exchange.arguments, "alternate-exchange")) {
    if (auto* s = ae->as_string()) alternate = exchange_id(*s);
  }
  router_.add_exchange(exchange.id,
                       routing::ExchangeTypeRegistry::builtin().create(exchange.routing_type),
                       alternate);
  if (exchange.delayed()) {
    router_.set_holding(exchange.id, true);
    ++delayed_exchanges_;
  }
  exchange_names_[exchange.id] = exchange.name;
  std::string key = exchange.name;
  exchanges_.insert_or_assign(std::move(key), std::move(exchange));
}

const Exchange* VHost::find_exchange(std::string_view name) const {
  auto it = exchanges_.find(std::string(name));
  return it == exchanges_.end() ? nullptr : &it->second;
}

AmqpError VHost::no_exchange(std::string_view name) const {
  return amqp_error(protocol::kNotFound, "no exchange '{}' in vhost '{}'", name, name_);
}

MaybeError VHost::declare_exchange(const ExchangeDeclare& spec, const Exchange** out) {
  if (spec.name.empty()) {
    return amqp_error(protocol::kAccessRefused, "operation not permitted on the default exchange");
  }
  const Exchange* existing = find_exchange(spec.name);
  if (spec.passive) {
    if (existing == nullptr) return no_exchange(spec.name);
    *out = existing;
    return std::nullopt;
  }
  if (spec.type == Exchange::kDelayedMessageType) {
    // As the retired plugin: x-delayed-type names an existing routing type.
    const auto* routing = protocol::find_field(spec.arguments, "x-delayed-type");
    const std::string* routing_type = routing != nullptr ? routing->as_string() : nullptr;
    if (routing_type == nullptr) {
      return amqp_error(protocol::kPreconditionFailed,
                        "Invalid argument, 'x-delayed-type' must be an existing exchange type");
    }
    if (*routing_type == Exchange::kDelayedMessageType) {
      return amqp_error(protocol::kPreconditionFailed,
                        "Invalid argument, 'x-delayed-message' can't be used for "
                        "'x-delayed-type'");
    }
    if (!routing::ExchangeTypeRegistry::builtin().contains(*routing_type)) {
      return amqp_error(protocol::kCommandInvalid, "unknown exchange type '{}'", *routing_type);
    }
  } else if (!routing::ExchangeTypeRegistry::builtin().contains(spec.type)) {
    return amqp_error(protocol::kCommandInvalid, "unknown exchange type '{}'", spec.type);
  }
  if (auto* ae = protocol::find_field(spec.arguments, "alternate-exchange");
      ae != nullptr && ae->as_string() == nullptr) {
    return amqp_error(protocol::kPreconditionFailed,
                      "invalid arg 'alternate-exchange' for exchange '{}' in vhost '{}': expected "
                      "a string",
                      spec.name, name_);
  }
  if (existing != nullptr) {
    auto inequivalent = [&](std::string_view arg, const std::string& got, const std::string& have) {
      return amqp_error(protocol::kPreconditionFailed,
                        "inequivalent arg '{}' for exchange '{}' in vhost '{}': received '{}' but "
                        "current is '{}'",
                        arg, spec.name, name_, got, have);
    };
    if (existing->type != spec.type) return inequivalent("type", spec.type, existing->type);
    if (existing->durable != spec.durable)
      return inequivalent("durable", bool_text(spec.durable), bool_text(existing->durable));
    if (existing->auto_delete != spec.auto_delete)
      return inequivalent("auto_delete", bool_text(spec.auto_delete),
                          bool_text(existing->auto_delete));
    if (existing->internal != spec.internal)
      return inequivalent("internal", bool_text(spec.internal), bool_text(existing->internal));
    const auto* got = protocol::find_field(spec.arguments, "alternate-exchange");
    const auto* have = protocol::find_field(existing->arguments, "alternate-exchange");
    if ((got == nullptr) != (have == nullptr) || (got && !(*got == *have))) {
      return amqp_error(protocol::kPreconditionFailed,
                        "inequivalent arg 'alternate-exchange' for exchange '{}' in vhost '{}': "
                        "received {} but current is {}",
                        spec.name, name_, field_text(got), field_text(have));
    }
    *out = existing;
    return std::nullopt;
  }
  if (has_reserved_prefix(spec.name)) {
    return amqp_error(protocol::kAccessRefused,
                      "exchange name '{}' contains reserved prefix 'amq.*'", spec.name);
  }
  add_exchange(Exchange{
      0, spec.name, spec.type, spec.durable, spec.auto_delete, spec.internal, spec.arguments, {}});
  if (spec.durable && persister_ != nullptr && !restoring_) {
    persister_->put_definition(
        storage::MetadataKind::kExchange, name_key(name_, spec.name),
        encode_exchange_value(ExchangeRecord{name_, spec.name, spec.type, spec.auto_delete,
                                             spec.internal, spec.arguments}));
  }
  *out = find_exchange(spec.name);
  return std::nullopt;
}

void VHost::restore_exchange(const ExchangeDeclare& spec) {
  restoring_ = true;
  const Exchange* out = nullptr;
  if (auto err = declare_exchange(spec, &out)) {
    log_warning("recovery: exchange '{}' in vhost '{}' not restored: {}", spec.name, name_,
                err->text);
  }
  restoring_ = false;
}

MaybeError VHost::delete_exchange(std::string_view name, bool if_unused) {
  if (name.empty()) {
    return amqp_error(protocol::kAccessRefused, "operation not permitted on the default exchange");
  }
  if (has_reserved_prefix(name) && find_exchange(name) != nullptr) {
    return amqp_error(protocol::kAccessRefused,
                      "deletion of system exchange '{}' in vhost '{}' not allowed", name, name_);
  }
  const Exchange* exchange = find_exchange(name);
  if (exchange == nullptr) return std::nullopt;  // idempotent, as in RabbitMQ
  if (if_unused && router_.table(exchange->id)->size() > 0) {
    return amqp_error(protocol::kPreconditionFailed, "exchange '{}' in vhost '{}' in use", name,
                      name_);
  }
  remove_exchange(*exchange);
  return std::nullopt;
}

void VHost::remove_exchange(const Exchange& exchange) {
  const std::uint64_t id = exchange.id;
  if (exchange.durable && persister_ != nullptr) {
    persister_->remove_definition(storage::MetadataKind::kExchange, name_key(name_, exchange.name));
    forget_bindings_of(exchange.name, DestinationKind::kExchange);
  }
  if (exchange.routing_type == "headers") headers_bindings_ -= router_.table(id)->size();
  if (exchange.delayed()) --delayed_exchanges_;
  router_.remove_exchange(id);
  exchange_names_.erase(id);
  exchanges_.erase(exchange.name);  // `exchange` dangles from here on
  // Exchanges bound to it lost a binding; auto-delete ones may now go.
  delete_unused_auto_delete_exchanges();
}

void VHost::delete_unused_auto_delete_exchanges() {
  // Ids first: deleting changes the map (and may cascade).
  std::vector<std::uint64_t> candidates;
  for (auto& [name, x] : exchanges_) {
    if (x.auto_delete) candidates.push_back(x.id);
  }
  for (std::uint64_t id : candidates)
    maybe_auto_delete_exchange(id);
}

void VHost::maybe_auto_delete_exchange(std::uint64_t id) {
  auto name_it = exchange_names_.find(id);
  if (name_it == exchange_names_.end()) return;
  auto it = exchanges_.find(name_it->second);
  if (it == exchanges_.end() || !it->second.auto_delete) return;
  // RabbitMQ deletes an auto-delete exchange when its last source binding goes.
  if (router_.table(id)->size() == 0) remove_exchange(it->second);
}

MaybeError VHost::declare_queue(const QueueDeclare& spec, Connection* requester,
                                std::shared_ptr<Queue>* out) {
  std::shared_ptr<Queue> existing = spec.name.empty() ? nullptr : find_queue(spec.name);
  if (spec.passive) {
    if (spec.name.empty()) {
      return amqp_error(protocol::kNotFound, "no queue '' in vhost '{}'", name_);
    }
    return lookup_queue(spec.name, requester, out);
  }
  if (existing) {
    if (existing->options().exclusive &&
        (existing->exclusive_owner() != requester || !spec.options.exclusive)) {
      return amqp_error(protocol::kResourceLocked,
                        "cannot obtain exclusive access to locked queue '{}' in vhost '{}'. It "
                        "could be originally declared on another connection or the exclusive "
                        "property value does not match that of the original declaration.",
                        spec.name, name_);
    }
    const QueueOptions& have = existing->options();
    auto inequivalent = [&](std::string_view arg, bool got, bool current) {
      return amqp_error(protocol::kPreconditionFailed,
                        "inequivalent arg '{}' for queue '{}' in vhost '{}': received '{}' but "
                        "current is '{}'",
                        arg, spec.name, name_, bool_text(got), bool_text(current));
    };
    if (have.durable != spec.options.durable)
      return inequivalent("durable", spec.options.durable, have.durable);
    if (have.auto_delete != spec.options.auto_delete)
      return inequivalent("auto_delete", spec.options.auto_delete, have.auto_delete);
    if (have.exclusive != spec.options.exclusive)
      return inequivalent("exclusive", spec.options.exclusive, have.exclusive);
    for (std::string_view arg : kEquivalentQueueArgs) {
      const auto* got = protocol::find_field(spec.options.arguments, arg);
      const auto* cur = protocol::find_field(have.arguments, arg);
      if ((got == nullptr) != (cur == nullptr) || (got && !(*got == *cur))) {
        return amqp_error(protocol::kPreconditionFailed,
                          "inequivalent arg '{}' for queue '{}' in vhost '{}': received {} but "
                          "current is {}",
                          arg, spec.name, name_, field_text(got), field_text(cur));
      }
    }
    existing->touch();
    *out = existing;
    return std::nullopt;
  }
  if (auto problem = Queue::validate_arguments(spec.options.arguments)) {
    return amqp_error(protocol::kPreconditionFailed, "{} for queue '{}' in vhost '{}'", *problem,
                      spec.name, name_);
  }
  std::string name = spec.name;
  if (name.empty()) {
    do
      name = generated_queue_name();
    while (queues_.contains(name));
  } else if (has_reserved_prefix(name)) {
    return amqp_error(protocol::kAccessRefused, "queue name '{}' contains reserved prefix 'amq.*'",
                      name);
  }
  auto queue = std::make_shared<Queue>(*this, allocate_queue_id(), name, spec.options,
                                       spec.options.exclusive ? requester : nullptr);
  record_queue(*queue);
  queues_by_id_[queue->id()] = queue.get();
  queues_[name] = queue;
  // Every queue is bound to the default exchange by its name.
  router_.table(exchange_id(""))
      ->bind(routing::Binding{{DestinationKind::kQueue, queue->id()}, name, {}});
  queue->touch();
  *out = std::move(queue);
  return std::nullopt;
}

std::shared_ptr<Queue> VHost::find_queue(std::string_view name) const {
  auto it = queues_.find(std::string(name));
  return it == queues_.end() ? nullptr : it->second;
}

MaybeError VHost::lookup_queue(std::string_view name, const Connection* requester,
                               std::shared_ptr<Queue>* out) const {
  std::shared_ptr<Queue> queue = find_queue(name);
  if (!queue) return amqp_error(protocol::kNotFound, "no queue '{}' in vhost '{}'", name, name_);
  if (queue->options().exclusive && queue->exclusive_owner() != requester) {
    return amqp_error(protocol::kResourceLocked,
                      "cannot obtain exclusive access to locked queue '{}' in vhost '{}'. It "
                      "could be originally declared on another connection or the exclusive "
                      "property value does not match that of the original declaration.",
                      name, name_);
  }
  *out = std::move(queue);
  return std::nullopt;
}

void VHost::record_queue(const Queue& queue) {
  const QueueOptions& options = queue.options();
  if (!options.durable || options.exclusive || persister_ == nullptr || restoring_) return;
  persister_->put_definition(
      storage::MetadataKind::kQueue, name_key(name_, queue.name()),
      encode_queue_value(
          QueueRecord{name_, queue.name(), queue.id(), options.auto_delete, options.arguments}));
}

std::shared_ptr<Queue> VHost::restore_queue(const std::string& name, std::uint64_t id,
                                            QueueOptions options) {
  options.durable = true;
  options.exclusive = false;
  auto queue = std::make_shared<Queue>(*this, id, name, std::move(options), nullptr);
  queues_by_id_[queue->id()] = queue.get();
  queues_[name] = queue;
  router_.table(exchange_id(""))
      ->bind(routing::Binding{{DestinationKind::kQueue, queue->id()}, name, {}});
  queue->touch();
  return queue;
}

bool VHost::restore_binding(const BindingRecord& record) {
  BindingSpec spec{record.source, record.destination, record.kind, record.routing_key,
                   record.arguments};
  restoring_ = true;
  const MaybeError err = bind(spec, nullptr);
  restoring_ = false;
  if (err) return false;
  durable_bindings_[binding_key(record)] = std::move(spec);
  return true;
}

bool VHost::binding_is_durable(const BindingSpec& spec) const {
  const Exchange* source = find_exchange(spec.source);
  if (source == nullptr || !source->durable) return false;
  if (spec.kind == DestinationKind::kExchange) {
    const Exchange* dest = find_exchange(spec.destination);
    return dest != nullptr && dest->durable;
  }
  auto queue = find_queue(spec.destination);
  return queue && queue->options().durable && !queue->options().exclusive;
}

void VHost::record_binding(const BindingSpec& spec, bool bound) {
  if (persister_ == nullptr || restoring_ || !binding_is_durable(spec)) return;
  std::string key = binding_key(BindingRecord{name_, spec.source, spec.kind, spec.destination,
                                              spec.routing_key, spec.arguments});
  if (bound) {
    persister_->put_definition(storage::MetadataKind::kBinding, key, {});
    durable_bindings_[std::move(key)] = spec;
  } else if (durable_bindings_.erase(key) > 0) {
    persister_->remove_definition(storage::MetadataKind::kBinding, std::move(key));
  }
}

void VHost::forget_bindings_of(std::string_view name, DestinationKind kind) {
  for (auto it = durable_bindings_.begin(); it != durable_bindings_.end();) {
    const BindingSpec& b = it->second;
    const bool touches = (b.kind == kind && b.destination == name) ||
                         (kind == DestinationKind::kExchange && b.source == name);
    if (touches) {
      persister_->remove_definition(storage::MetadataKind::kBinding, it->first);
      it = durable_bindings_.erase(it);
    } else {
      ++it;
    }
  }
}

void VHost::forget_definitions() {
  if (persister_ == nullptr) return;
  for (auto& [key, spec] : durable_bindings_)
    persister_->remove_definition(storage::MetadataKind::kBinding, key);
  durable_bindings_.clear();
  for (auto& [name, x] : exchanges_) {
    if (x.durable) {
      persister_->remove_definition(storage::MetadataKind::kExchange, name_key(name_, name));
    }
  }
}

void VHost::delete_queue(const std::shared_ptr<Queue>& queue) {
  if (queue->deleted()) return;
  if (queue->options().durable && !queue->options().exclusive && persister_ != nullptr) {
    persister_->remove_definition(storage::MetadataKind::kQueue, name_key(name_, queue->name()));
    persister_->delete_queue(queue->id());
    forget_bindings_of(queue->name(), DestinationKind::kQueue);
  } else if (queue->wrote_transient_pages() && persister_ != nullptr) {
    persister_->delete_queue(queue->id());  // what it paged out under memory pressure
  }
  // Consumers are told (basic.cancel) and dropped by their channels.
  std::vector<Consumer*> consumers = queue->consumers();
  queue->mark_deleted();  // first, so nothing is dispatched while consumers go
  for (Consumer* c : consumers)
    c->channel->cancel_by_server(*c);
  headers_bindings_ = 0;
  router_.remove_queue(queue->id());
  for (auto& [name, x] : exchanges_) {
    if (x.routing_type == "headers") headers_bindings_ += router_.table(x.id)->size();
  }
  queues_by_id_.erase(queue->id());
  queues_.erase(queue->name());
  delete_unused_auto_delete_exchanges();
}

void VHost::delete_exclusive_queues(const Connection* owner) {
  std::vector<std::shared_ptr<Queue>> owned;
  for (auto& [name, q] : queues_) {
    if (q->exclusive_owner() == owner) owned.push_back(q);
  }
  for (auto& q : owned)
    delete_queue(q);
}

void VHost::delete_all_queues() {
  std::vector<std::shared_ptr<Queue>> all;
  for (auto& [name, q] : queues_)
    all.push_back(q);
  for (auto& q : all)
    delete_queue(q);
}

void VHost::consumer_removed(const std::shared_ptr<Queue>& queue) {
  if (queue->options().auto_delete && queue->consumer_count() == 0 && queue->ever_had_consumers()) {
    delete_queue(queue);
  }
}

MaybeError VHost::resolve_binding(const BindingSpec& spec, const Connection* requester,
                                  const Exchange** source, routing::Binding* binding) {
  if (spec.source.empty() ||
      (spec.kind == DestinationKind::kExchange && spec.destination.empty())) {
    return amqp_error(protocol::kAccessRefused, "operation not permitted on the default exchange");
  }
  if (spec.kind == DestinationKind::kQueue) {
    std::shared_ptr<Queue> queue;
    if (auto err = lookup_queue(spec.destination, requester, &queue)) return err;
    binding->destination = {DestinationKind::kQueue, queue->id()};
  } else {
    const Exchange* dest = find_exchange(spec.destination);
    if (dest == nullptr) return no_exchange(spec.destination);
    binding->destination = {DestinationKind::kExchange, dest->id};
  }
  *source = find_exchange(spec.source);
  if (*source == nullptr) return no_exchange(spec.source);
  binding->routing_key = spec.routing_key;
  binding->arguments = spec.arguments;
  return std::nullopt;
}

MaybeError VHost::bind(const BindingSpec& spec, const Connection* requester) {
  const Exchange* source = nullptr;
  routing::Binding binding;
  if (auto err = resolve_binding(spec, requester, &source, &binding)) return err;
  if (source->routing_type == "headers") {
    if (auto problem = routing::validate_headers_binding(binding.arguments)) {
      return amqp_error(protocol::kPreconditionFailed, "{}", *problem);
    }
  }
  if (router_.table(source->id)->bind(binding) && source->routing_type == "headers") {
    ++headers_bindings_;
  }
  record_binding(spec, true);
  return std::nullopt;
}

MaybeError VHost::unbind(const BindingSpec& spec, const Connection* requester) {
  const Exchange* source = nullptr;
  routing::Binding binding;
  if (auto err = resolve_binding(spec, requester, &source, &binding)) {
    // Unbinding from or to something that does not exist succeeds, as in RabbitMQ.
    if (err->code == protocol::kNotFound) return std::nullopt;
    return err;
  }
  if (router_.table(source->id)->unbind(binding)) {
    record_binding(spec, false);
    if (source->routing_type == "headers") --headers_bindings_;
    maybe_auto_delete_exchange(source->id);
  }
  return std::nullopt;
}

void VHost::route_message(const Exchange& exchange, MessagePtr& message,
                          std::vector<Queue*>& queues_out, std::vector<const Exchange*>* held_out) {
  const std::vector<std::string> extra_keys = take_sender_selected_keys(message);
  route(exchange, message->routing_key, message->properties, queues_out, held_out);
  for (const std::string& key : extra_keys) {
    route(exchange, key, message->properties, cc_scratch_, held_out ? &held_scratch_ : nullptr);
    if (held_out != nullptr) {
      for (const Exchange* x : held_scratch_) {
        if (std::find(held_out->begin(), held_out->end(), x) == held_out->end()) {
          held_out->push_back(x);
        }
      }
    }
    for (Queue* q : cc_scratch_) {
      if (std::find(queues_out.begin(), queues_out.end(), q) == queues_out.end()) {
        queues_out.push_back(q);
      }
    }
  }
}

void VHost::route(const Exchange& exchange, std::string_view routing_key,
                  const protocol::Bytes& encoded_properties, std::vector<Queue*>& queues_out,
                  std::vector<const Exchange*>* held_out) {
  queues_out.clear();
  if (held_out != nullptr) held_out->clear();
  protocol::BasicProperties props;
  const protocol::FieldTable* headers = nullptr;
  if (headers_bindings_ > 0 && protocol::decode_properties(encoded_properties, props) &&
      props.headers) {
    headers = &*props.headers;
  }
  const bool may_hold = held_out != nullptr && delayed_exchanges_ > 0;
  router_.route(exchange.id, routing_key, headers, route_scratch_,
                may_hold ? &held_ids_scratch_ : nullptr);
  for (std::uint64_t id : route_scratch_) {
    if (Queue* q = queue_by_id(id)) queues_out.push_back(q);
  }
  if (!may_hold) return;
  for (std::uint64_t id : held_ids_scratch_) {
    const std::string* name = exchange_name(id);
    if (const Exchange* x = name != nullptr ? find_exchange(*name) : nullptr) {
      held_out->push_back(x);
    }
  }
}

}  // namespace warren::broker

namespace warren::broker {

void VHost::dead_letter(const Queue& source, const Message& message, std::string_view reason,
                        const std::string& dlx, const std::optional<std::string>& dlx_routing_key) {
  const Exchange* exchange = find_exchange(dlx);
  if (exchange == nullptr) return;  // as RabbitMQ: a missing DLX drops the message
  std::shared_ptr<Message> copy =
      dead_lettered_copy(message, source.name(), reason, dlx, dlx_routing_key);
  if (!copy) return;
  std::vector<Queue*> targets;
  route(*exchange, copy->routing_key, copy->properties, targets);
  protocol::BasicProperties props;
  protocol::decode_properties(copy->properties, props);
  const protocol::FieldTable* headers = props.headers ? &*props.headers : nullptr;
  if (!dlx_routing_key && headers != nullptr) {
    // As RabbitMQ: without x-dead-letter-routing-key, the original keys
    // route again, CC ones included.
    std::vector<Queue*> more;
    for (const std::string& key : cc_keys(*headers)) {
      route(*exchange, key, copy->properties, more);
      for (Queue* q : more) {
        if (std::find(targets.begin(), targets.end(), q) == targets.end()) targets.push_back(q);
      }
    }
  }
  if (targets.empty()) return;
  MessagePtr shared = std::move(copy);
  for (Queue* q : targets) {
    // A refusal (reject-publish) just drops the copy: nobody waits on it.
    if (!dead_letter_cycle(headers, q->name())) (void)q->publish(shared);
  }
}

}  // namespace warren::broker
