// /api/bindings (queue and exchange destinations), and the per-object
// binding lists under /api/exchanges and /api/queues. Binding and
// unbinding go through VHost::bind / unbind, as queue.bind and exchange.bind do.

#include "admin/handlers.hpp"
#include "admin/json_convert.hpp"
#include "admin/listing.hpp"
#include "admin/shapes.hpp"
#include "broker.hpp"
#include "vhost.hpp"

namespace warren::admin {

namespace {

using routing::DestinationKind;

DestinationKind kind_of(const std::string& letter) {
  if (letter == "q") return DestinationKind::kQueue;
  if (letter == "e") return DestinationKind::kExchange;
  throw not_found();
}

// A binding copied on the broker thread (its arguments too), so that the
// listing's JSON is built elsewhere.
struct BindingCopy {
  std::string vhost;
  BindingView view;  // view.arguments is null: the copy's own `arguments` count
  protocol::FieldTable arguments;
};

template <typename Pred>
std::vector<BindingCopy> bindings_where(const broker::VHost& vhost, Pred pred) {
  std::vector<BindingCopy> copies;
  for_each_binding(vhost, [&](const BindingView& b) {
    if (!pred(b)) return;
    BindingCopy copy{vhost.name(), b, *b.arguments};
    copy.view.arguments = nullptr;
    copies.push_back(std::move(copy));
  });
  return copies;
}

// Lists the copies off the broker thread, in a stable order (vhost, source,
// destination, key: the router's tables are unordered) unless sorted.
Response list_bindings(const Request& r, std::vector<BindingCopy> copies) {
  const Paging paging = parse_paging(r);
  return finish_elsewhere([query = query_only(r), copies = std::move(copies), paging]() {
    std::vector<json> items;
    items.reserve(copies.size());
    for (const BindingCopy& copy : copies) {
      BindingView view = copy.view;
      view.arguments = &copy.arguments;
      items.push_back(binding_json(copy.vhost, view));
    }
    std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
      auto key = [](const json& j) {
        return std::tie(j["vhost"].get_ref<const std::string&>(),
                        j["source"].get_ref<const std::string&>(),
                        j["destination_type"].get_ref<const std::string&>(),
                        j["destination"].get_ref<const std::string&>(),
                        j["properties_key"].get_ref<const std::string&>());
      };
      return key(a) < key(b);
    });
    return filter_sort_and_finish(query, std::move(items), paging);
  });
}

struct Endpoints {
  broker::VHost* vhost;
  std::string source;
  std::string destination;
  DestinationKind kind;
};

// Resolves /api/bindings/{vhost}/e/{source}/{kind}/{destination}: 404 when
// the vhost, the source or the destination does not exist.
Endpoints endpoints(broker::Broker& broker, const Request& r) {
  Endpoints e;
  e.vhost = &vhost_or_404(broker, r.param("vhost"));
  e.kind = kind_of(r.param("kind"));
  e.source = amqp_exchange_name(r.param("source"));
  e.destination = r.param("destination");
  if (e.kind == DestinationKind::kExchange) e.destination = amqp_exchange_name(e.destination);
  return e;
}

bool between(const BindingView& b, const Endpoints& e) {
  return b.source == e.source && b.destination == e.destination &&
         b.to_exchange == (e.kind == DestinationKind::kExchange);
}

Response create(broker::Broker& broker, Request& r) {
  Endpoints e = endpoints(broker, r);
  json body = parse_body(r);
  require_vhost_access(broker, r, e.vhost->name());
  broker::BindingSpec spec;
  spec.source = e.source;
  spec.destination = e.destination;
  spec.kind = e.kind;
  spec.routing_key = string_field(body, "routing_key");
  spec.arguments = to_field_table(body.value("arguments", json::object()));
  // As queue.bind: write on the destination, read on the source.
  require_permission(broker, r, e.vhost->name(), Permit::kWrite, e.destination);
  require_permission(broker, r, e.vhost->name(), Permit::kRead, e.source);
  if (auto err = e.vhost->bind(spec, nullptr)) throw from_amqp(*err);
  Response res = created();
  res.headers.emplace_back("location",
                           url_encode(r.param("destination")) + "/" +
                               url_encode(properties_key(spec.routing_key, spec.arguments)));
  return res;
}

const BindingView* find_binding(const Endpoints& e, const std::string& props,
                                std::vector<BindingView>& scratch) {
  for_each_binding(*e.vhost, [&](const BindingView& b) {
    if (between(b, e) && properties_key(b.routing_key, *b.arguments) == props) {
      scratch.push_back(b);
    }
  });
  return scratch.empty() ? nullptr : &scratch.front();
}

Response remove(broker::Broker& broker, Request& r) {
  Endpoints e = endpoints(broker, r);
  require_vhost_access(broker, r, e.vhost->name());
  std::vector<BindingView> scratch;
  const BindingView* b = find_binding(e, r.param("props"), scratch);
  if (b == nullptr) throw not_found();
  require_permission(broker, r, e.vhost->name(), Permit::kWrite, e.destination);
  require_permission(broker, r, e.vhost->name(), Permit::kRead, e.source);
  broker::BindingSpec spec;
  spec.source = e.source;
  spec.destination = e.destination;
  spec.kind = e.kind;
  spec.routing_key = b->routing_key;
  spec.arguments = *b->arguments;
  if (auto err = e.vhost->unbind(spec, nullptr)) throw from_amqp(*err);
  return no_content();
}

}  // namespace

void add_binding_routes(Router& router, broker::Broker& broker) {
  router.add(Verb::kGet, "/api/bindings", Access::kManagement, [&broker](Request& r) {
    std::vector<BindingCopy> copies;
    for (const auto& [name, vhost] : broker.vhosts()) {
      if (!can_see_vhost(broker, *r.user, name)) continue;
      auto part = bindings_where(*vhost, [](const BindingView&) { return true; });
      copies.insert(copies.end(), std::make_move_iterator(part.begin()),
                    std::make_move_iterator(part.end()));
    }
    return list_bindings(r, std::move(copies));
  });
  router.add(Verb::kGet, "/api/bindings/{vhost}", Access::kManagement, [&broker](Request& r) {
    broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
    require_vhost_visible(broker, r, vhost.name());
    return list_bindings(r, bindings_where(vhost, [](const BindingView&) { return true; }));
  });
  router.add(Verb::kGet, "/api/bindings/{vhost}/e/{source}/{kind}/{destination}",
             Access::kManagement, [&broker](Request& r) {
               Endpoints e = endpoints(broker, r);
               require_vhost_visible(broker, r, e.vhost->name());
               // As RabbitMQ: missing ends just mean no bindings (200 []).
               return list_bindings(r, bindings_where(*e.vhost, [&](const BindingView& b) {
                                      return between(b, e);
                                    }));
             });
  router.add(Verb::kPost, "/api/bindings/{vhost}/e/{source}/{kind}/{destination}",
             Access::kManagement, [&broker](Request& r) { return create(broker, r); });
  router.add(Verb::kGet, "/api/bindings/{vhost}/e/{source}/{kind}/{destination}/{props}",
             Access::kManagement, [&broker](Request& r) {
               Endpoints e = endpoints(broker, r);
               require_vhost_visible(broker, r, e.vhost->name());
               std::vector<BindingView> scratch;
               const BindingView* b = find_binding(e, r.param("props"), scratch);
               if (b == nullptr) throw not_found();
               return json_response(binding_json(*e.vhost, *b));
             });
  router.add(Verb::kDelete, "/api/bindings/{vhost}/e/{source}/{kind}/{destination}/{props}",
             Access::kManagement, [&broker](Request& r) { return remove(broker, r); });

  router.add(Verb::kGet, "/api/exchanges/{vhost}/{exchange}/bindings/source", Access::kManagement,
             [&broker](Request& r) {
               broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
               require_vhost_visible(broker, r, vhost.name());
               const std::string name = amqp_exchange_name(r.param("exchange"));
               if (vhost.find_exchange(name) == nullptr) throw not_found();
               return list_bindings(r, bindings_where(vhost, [&](const BindingView& b) {
                                      return b.source == name;
                                    }));
             });
  router.add(Verb::kGet, "/api/exchanges/{vhost}/{exchange}/bindings/destination",
             Access::kManagement, [&broker](Request& r) {
               broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
               require_vhost_visible(broker, r, vhost.name());
               const std::string name = amqp_exchange_name(r.param("exchange"));
               if (vhost.find_exchange(name) == nullptr) throw not_found();
               return list_bindings(r, bindings_where(vhost, [&](const BindingView& b) {
                                      return b.to_exchange && b.destination == name;
                                    }));
             });
  router.add(Verb::kGet, "/api/queues/{vhost}/{queue}/bindings", Access::kManagement,
             [&broker](Request& r) {
               broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
               require_vhost_visible(broker, r, vhost.name());
               const std::string& name = r.param("queue");
               if (vhost.find_queue(name) == nullptr) throw not_found();
               return list_bindings(r, bindings_where(vhost, [&](const BindingView& b) {
                                      return !b.to_exchange && b.destination == name;
                                    }));
             });
}

}  // namespace warren::admin
