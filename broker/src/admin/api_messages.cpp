// Warren's own DLQ tooling (docs/API.md): browse a queue's ready messages
// without consuming them, read one by id, delete or move selected ones, and
// redrive a dead-letter queue to the queues its messages died in, as a
// background task with a rate limit, progress and cancel.
//
// A message's id is its per-queue sequence number, stable while it stays
// in the queue. Browsing goes through Queue::browse, which changes nothing
// (no redelivered flag, no counts, no reordering). A move publishes the
// message into the target queue first and removes it from the source
// afterwards, in the same broker-thread turn, so both land in one storage
// batch: a crash loses nothing (at worst the message is in both queues).

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>

#include "admin/handlers.hpp"
#include "admin/json_convert.hpp"
#include "admin/message_json.hpp"
#include "admin/shapes.hpp"
#include "broker.hpp"
#include "log.hpp"
#include "password.hpp"
#include "vhost.hpp"
#include "warren/protocol/properties.hpp"

namespace warren::admin {

std::optional<std::int64_t> query_int(const Request& r, const char* key) {
  auto it = r.query.find(key);
  if (it == r.query.end() || it->second.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (char c : it->second) {
    if (c < '0' || c > '9' || it->second.size() > 18) {
      throw bad_request(std::string(key) + " must be a non-negative integer");
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

json message_fields(const broker::Message& m, const protocol::BasicProperties& p,
                    std::optional<std::size_t> truncate) {
  std::string payload(m.body.begin(), m.body.end());
  if (truncate && payload.size() > *truncate) payload.resize(*truncate);
  json j{{"exchange", m.exchange},
         {"routing_key", m.routing_key},
         {"payload_bytes", m.body.size()},
         {"properties", to_json(p)}};
  if (const auto* deaths = p.headers ? protocol::find_field(*p.headers, "x-death") : nullptr) {
    j["x_death"] = to_json(*deaths);
  } else {
    j["x_death"] = json::array();
  }
  if (is_utf8(payload)) {
    j["payload"] = payload;
    j["payload_encoding"] = "string";
    if (p.content_type && p.content_type->starts_with("application/json")) {
      json parsed = json::parse(payload, nullptr, false);
      if (!parsed.is_discarded()) j["payload_json"] = std::move(parsed);
    }
  } else {
    j["payload"] = broker::base64_encode(payload);
    j["payload_encoding"] = "base64";
  }
  return j;
}

json message_json(const broker::Queue::Entry& e, const protocol::BasicProperties& p,
                  std::size_t position, std::optional<std::size_t> truncate) {
  json j = message_fields(*e.message, p, truncate);
  j["id"] = e.seq;
  j["position"] = position;
  j["redelivered"] = e.redelivered;
  j["delivery_count"] = e.delivery_count;
  j["acquired_count"] = e.acquired_count;
  return j;
}

namespace {

constexpr std::size_t kMaxBrowse = 1000;     // items per page
constexpr std::size_t kMaxScan = 1'000'000;  // entries examined per request
constexpr const char* kRedriveHeader = "x-warren-redrive-count";

struct Filter {
  std::string routing_key;
  std::string reason;
  std::string original_queue;
  std::optional<std::int64_t> since, until;  // seconds since the epoch
  std::string contains;

  bool empty() const {
    return routing_key.empty() && reason.empty() && original_queue.empty() && !since && !until &&
           contains.empty();
  }
};

// The newest x-death entry (RabbitMQ keeps them newest first).
const protocol::FieldTable* first_death(const protocol::BasicProperties& p) {
  if (!p.headers) return nullptr;
  const auto* deaths = protocol::find_field(*p.headers, "x-death");
  if (deaths == nullptr || deaths->as_array() == nullptr || deaths->as_array()->empty()) {
    return nullptr;
  }
  return deaths->as_array()->front().as_table();
}

std::string table_string(const protocol::FieldTable* t, const char* key) {
  if (t == nullptr) return {};
  const auto* v = protocol::find_field(*t, key);
  return v != nullptr && v->as_string() != nullptr ? *v->as_string() : std::string();
}

std::optional<std::int64_t> death_time(const protocol::FieldTable* t) {
  if (t == nullptr) return std::nullopt;
  const auto* v = protocol::find_field(*t, "time");
  if (v == nullptr) return std::nullopt;
  if (const auto* ts = std::get_if<protocol::Timestamp>(&v->value)) {
    return static_cast<std::int64_t>(ts->seconds);
  }
  return v->as_int();
}

bool matches(const Filter& f, const broker::Queue::Entry& e, const protocol::BasicProperties& p) {
  const broker::Message& m = *e.message;
  if (!f.routing_key.empty() && m.routing_key != f.routing_key) return false;
  const protocol::FieldTable* death = first_death(p);
  if (!f.reason.empty() && table_string(death, "reason") != f.reason) return false;
  if (!f.original_queue.empty() && table_string(death, "queue") != f.original_queue) return false;
  if (f.since || f.until) {
    std::optional<std::int64_t> t = death_time(death);
    if (!t && p.timestamp) t = static_cast<std::int64_t>(*p.timestamp);
    if (!t || (f.since && *t < *f.since) || (f.until && *t > *f.until)) return false;
  }
  if (!f.contains.empty()) {
    std::string_view body(reinterpret_cast<const char*>(m.body.data()), m.body.size());
    if (body.find(f.contains) == std::string_view::npos) return false;
  }
  return true;
}

struct Target {
  broker::VHost* vhost;
  std::shared_ptr<broker::Queue> queue;
};

Target target(broker::Broker& broker, const Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  require_vhost_access(broker, r, vhost.name());
  auto queue = vhost.find_queue(r.param("queue"));
  if (!queue) throw not_found();
  return Target{&vhost, std::move(queue)};
}

std::uint64_t parse_id(const std::string& text) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 19) throw not_found();
  for (char c : text) {
    if (c < '0' || c > '9') throw not_found();
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

Response browse_messages(broker::Broker& broker, Request& r) {
  Target t = target(broker, r);
  require_permission(broker, r, t.vhost->name(), Permit::kRead, t.queue->name());
  const std::size_t offset = static_cast<std::size_t>(query_int(r, "offset").value_or(0));
  const std::size_t limit = std::min<std::size_t>(
      static_cast<std::size_t>(query_int(r, "limit").value_or(50)), kMaxBrowse);
  std::optional<std::size_t> truncate;
  if (auto v = query_int(r, "truncate")) truncate = static_cast<std::size_t>(*v);
  Filter f{r.query_or("routing_key"), r.query_or("reason"),  r.query_or("original_queue"),
           query_int(r, "since"),     query_int(r, "until"), r.query_or("contains")};
  json items = json::array();
  std::size_t position = offset, scanned = 0;
  std::optional<std::size_t> next;
  t.queue->browse(offset, [&](const broker::Queue::Entry& e) {
    if (items.size() == limit || ++scanned > kMaxScan) {
      next = position;
      return false;
    }
    protocol::BasicProperties p;
    protocol::decode_properties(e.message->properties, p);
    if (f.empty() || matches(f, e, p)) items.push_back(message_json(e, p, position, truncate));
    ++position;
    return true;
  });
  json body{{"vhost", t.vhost->name()},
            {"queue", t.queue->name()},
            {"messages_ready", t.queue->ready_count()},
            {"offset", offset},
            {"limit", limit},
            {"next_offset", next ? json(*next) : json(nullptr)},
            {"items", std::move(items)}};
  return json_response(body);
}

Response one_message(broker::Broker& broker, Request& r) {
  Target t = target(broker, r);
  require_permission(broker, r, t.vhost->name(), Permit::kRead, t.queue->name());
  const std::uint64_t id = parse_id(r.param("id"));
  std::optional<json> found;
  std::size_t position = 0;
  t.queue->browse(0, [&](const broker::Queue::Entry& e) {
    if (e.seq == id) {
      protocol::BasicProperties p;
      protocol::decode_properties(e.message->properties, p);
      found = message_json(e, p, position, std::nullopt);
      return false;
    }
    ++position;
    return true;
  });
  if (!found) throw not_found();
  return json_response(*found);
}

// {"filter": {...}} of a selection: the browse filters, as JSON fields.
Filter body_filter(const json& body) {
  auto it = body.find("filter");
  if (it == body.end() || it->is_null()) return Filter{};
  if (!it->is_object()) throw bad_request("filter must be an object");
  const json& f = *it;
  auto seconds = [&](const char* key) -> std::optional<std::int64_t> {
    auto v = int_field(f, key);
    if (v && *v < 0) throw bad_request(std::string(key) + " must be a non-negative integer");
    return v;
  };
  return Filter{string_field(f, "routing_key"),
                string_field(f, "reason"),
                string_field(f, "original_queue"),
                seconds("since"),
                seconds("until"),
                string_field(f, "contains")};
}

// The ids named in a body ({"ids": [...]}) or every ready message ({"all": true}), or every
// one that matches a filter ({"all": true, "filter": {...}}, the browse filters).
std::vector<std::uint64_t> selected_ids(const json& body, const broker::Queue& queue) {
  std::vector<std::uint64_t> ids;
  if (bool_field(body, "all", false)) {
    const Filter f = body_filter(body);
    queue.browse(0, [&](const broker::Queue::Entry& e) {
      if (!f.empty()) {
        protocol::BasicProperties p;
        protocol::decode_properties(e.message->properties, p);
        if (!matches(f, e, p)) return true;
      }
      ids.push_back(e.seq);
      return true;
    });
    return ids;
  }
  auto it = body.find("ids");
  if (it == body.end() || !it->is_array())
    throw bad_request("give \"ids\": [...] or \"all\": true");
  for (const auto& v : *it) {
    if (!v.is_number_unsigned() && !v.is_number_integer())
      throw bad_request("ids must be integers");
    ids.push_back(v.get<std::uint64_t>());
  }
  return ids;
}

// Copies the message into `to` with the redrive counter raised (when
// `count_redrive`), then removes it from `from`. False when `to` refused it
// (x-overflow reject-publish): then it stays where it was.
bool move_one(broker::Queue& from, std::uint64_t id, broker::Queue& to, bool count_redrive) {
  // Checked before taking it: a refused publish would dead-letter a copy
  // (reject-publish-dlx), and a message taken from the paged region could
  // not be requeued into memory (the store still holds it).
  const auto peeked = from.find_ready(id);
  if (!peeked || to.refuses(*peeked->message)) return false;
  broker::Queue::Entry entry;
  if (!from.remove_ready(id, &entry)) return false;
  broker::MessagePtr message = entry.message;
  if (count_redrive) {
    protocol::BasicProperties p;
    protocol::decode_properties(message->properties, p);
    protocol::FieldTable headers = p.headers.value_or(protocol::FieldTable{});
    const auto* old = protocol::find_field(headers, kRedriveHeader);
    protocol::set_field(headers, kRedriveHeader,
                        std::int64_t{(old ? old->as_int().value_or(0) : 0) + 1});
    p.headers = std::move(headers);
    message = broker::copy_with_properties(*message, p);
  }
  to.publish(message);
  from.discard_stored(entry.seq, *entry.message);
  return true;
}

Response remove_messages(broker::Broker& broker, Request& r, bool single) {
  Target t = target(broker, r);
  require_permission(broker, r, t.vhost->name(), Permit::kRead, t.queue->name());
  std::vector<std::uint64_t> ids;
  if (single) {
    ids.push_back(parse_id(r.param("id")));
  } else {
    ids = selected_ids(parse_body(r), *t.queue);
  }
  std::size_t deleted = 0;
  for (std::uint64_t id : ids) {
    broker::Queue::Entry entry;
    if (!t.queue->remove_ready(id, &entry)) continue;
    t.queue->discard_stored(entry.seq, *entry.message);
    ++deleted;
  }
  if (single) {
    if (deleted == 0) throw not_found();
    return no_content();
  }
  return json_response(json{{"deleted", deleted}});
}

Response move_messages(broker::Broker& broker, Request& r) {
  Target t = target(broker, r);
  json body = parse_body(r);
  require_keys(body, {"to"});
  const std::string to_name = string_field(body, "to");
  auto to = t.vhost->find_queue(to_name);
  if (!to)
    throw ApiError{404, "not_found",
                   "no queue '" + to_name + "' in vhost '" + t.vhost->name() + "'"};
  if (to == t.queue) throw bad_request("source and target are the same queue");
  require_permission(broker, r, t.vhost->name(), Permit::kRead, t.queue->name());
  require_permission(broker, r, t.vhost->name(), Permit::kWrite, to->name());
  std::size_t moved = 0, refused = 0;
  for (std::uint64_t id : selected_ids(body, *t.queue)) {
    if (move_one(*t.queue, id, *to, false)) {
      ++moved;
    } else {
      ++refused;
    }
  }
  t.queue->dispatch();
  return json_response(json{{"moved", moved}, {"not_moved", refused}});
}

// --- redrive: a background task per request, driven by a timer on the broker thread.

struct Redrive {
  std::uint64_t id = 0;
  std::string vhost, queue;
  std::string only_to;  // empty: each message to the queue it died in
  double rate = 100;    // messages per second
  std::size_t total = 0, moved = 0, skipped = 0;
  std::string state = "running";  // running, finished, cancelled, failed
  std::string error;
  std::int64_t started_at = 0, finished_at = 0;
  std::unique_ptr<boost::asio::steady_timer> timer;
  std::deque<std::uint64_t> pending;  // ids still to move, in order
};

class Redrives {
 public:
  explicit Redrives(broker::Broker& broker) : broker_(broker) {}

  Response start(Request& r) {
    Target t = target(broker_, r);
    require_permission(broker_, r, t.vhost->name(), Permit::kRead, t.queue->name());
    json body = parse_body(r);
    auto task = std::make_unique<Redrive>();
    task->id = next_id_++;
    task->vhost = t.vhost->name();
    task->queue = t.queue->name();
    task->only_to = string_field(body, "to");
    if (auto rate = body.find("rate"); rate != body.end() && !rate->is_null()) {
      if (!rate->is_number() || rate->get<double>() <= 0) throw bad_request("rate must be > 0");
      task->rate = rate->get<double>();
    }
    if (!task->only_to.empty() && !t.vhost->find_queue(task->only_to)) {
      throw ApiError{404, "not_found", "no queue '" + task->only_to + "'"};
    }
    json selection = body;
    if (!body.contains("ids")) selection["all"] = true;  // no ids: all, or all that match
    for (std::uint64_t id : selected_ids(selection, *t.queue))
      task->pending.push_back(id);
    task->total = task->pending.size();
    task->started_at = now_ms();
    task->timer = std::make_unique<boost::asio::steady_timer>(broker_.io());
    Redrive* raw = task.get();
    tasks_[task->id] = std::move(task);
    tick(raw->id);
    Response res = json_response(to_json_(*raw), 202);
    res.headers.emplace_back("location", "/api/redrives/" + std::to_string(raw->id));
    return res;
  }

  Response list(Request&) {
    json items = json::array();
    for (auto& [id, task] : tasks_)
      items.push_back(to_json_(*task));
    return json_response(items);
  }

  Response get(Request& r) { return json_response(to_json_(find(r))); }

  Response cancel(Request& r) {
    Redrive& task = find(r);
    if (task.state == "running") {
      task.state = "cancelled";
      task.finished_at = now_ms();
      task.timer->cancel();
    }
    return json_response(to_json_(task));
  }

 private:
  Redrive& find(Request& r) {
    std::uint64_t id = parse_id(r.param("id"));
    auto it = tasks_.find(id);
    if (it == tasks_.end()) throw not_found();
    return *it->second;
  }

  static json to_json_(const Redrive& t) {
    return json{{"id", t.id},
                {"vhost", t.vhost},
                {"queue", t.queue},
                {"to", t.only_to.empty() ? json(nullptr) : json(t.only_to)},
                {"rate", t.rate},
                {"state", t.state},
                {"total", t.total},
                {"moved", t.moved},
                {"skipped", t.skipped},
                {"remaining", t.pending.size()},
                {"error", t.error},
                {"started_at", t.started_at},
                {"finished_at", t.finished_at ? json(t.finished_at) : json(nullptr)}};
  }

  void finish(Redrive& t, const std::string& state, const std::string& error = {}) {
    t.state = state;
    t.error = error;
    t.finished_at = now_ms();
    t.pending.clear();
  }

  // Moves up to rate/10 messages every 100 ms.
  void tick(std::uint64_t id) {
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return;
    Redrive& t = *it->second;
    if (t.state != "running") return;
    broker::VHost* vhost = broker_.find_vhost(t.vhost);
    std::shared_ptr<broker::Queue> source = vhost ? vhost->find_queue(t.queue) : nullptr;
    if (!source) return finish(t, "failed", "the queue is gone");
    std::size_t budget = std::max<std::size_t>(1, static_cast<std::size_t>(t.rate / 10.0));
    std::size_t done = 0;
    std::vector<std::shared_ptr<broker::Queue>> touched;
    while (done < budget && !t.pending.empty()) {
      const std::uint64_t msg_id = t.pending.front();
      t.pending.pop_front();
      ++done;
      std::string dest_name = t.only_to;
      if (dest_name.empty()) {
        if (const auto e = source->find_ready(msg_id)) {
          protocol::BasicProperties p;
          protocol::decode_properties(e->message->properties, p);
          dest_name = table_string(first_death(p), "queue");
        }
      }
      auto dest = dest_name.empty() ? nullptr : vhost->find_queue(dest_name);
      if (!dest || dest == source || !move_one(*source, msg_id, *dest, true)) {
        ++t.skipped;  // consumed meanwhile, no origin, origin gone or full
        continue;
      }
      ++t.moved;
      if (std::find(touched.begin(), touched.end(), dest) == touched.end()) touched.push_back(dest);
    }
    for (auto& q : touched)
      q->dispatch();
    if (t.pending.empty()) return finish(t, "finished");
    t.timer->expires_after(std::chrono::milliseconds(100));
    t.timer->async_wait([this, id](boost::system::error_code ec) {
      if (!ec) tick(id);
    });
  }

  broker::Broker& broker_;
  std::map<std::uint64_t, std::unique_ptr<Redrive>> tasks_;
  std::uint64_t next_id_ = 1;
};

}  // namespace

void add_message_routes(Router& router, broker::Broker& broker) {
  router.add(Verb::kGet, "/api/queues/{vhost}/{queue}/messages", Access::kManagement,
             [&broker](Request& r) { return browse_messages(broker, r); });
  router.add(Verb::kGet, "/api/queues/{vhost}/{queue}/messages/{id}", Access::kManagement,
             [&broker](Request& r) { return one_message(broker, r); });
  router.add(Verb::kDelete, "/api/queues/{vhost}/{queue}/messages/{id}", Access::kManagement,
             [&broker](Request& r) { return remove_messages(broker, r, true); });
  router.add(Verb::kPost, "/api/queues/{vhost}/{queue}/messages/delete", Access::kManagement,
             [&broker](Request& r) { return remove_messages(broker, r, false); });
  router.add(Verb::kPost, "/api/queues/{vhost}/{queue}/messages/move", Access::kManagement,
             [&broker](Request& r) { return move_messages(broker, r); });
  // The tasks live as long as the router (the server).
  auto redrives = std::make_shared<Redrives>(broker);
  router.add(Verb::kPost, "/api/queues/{vhost}/{queue}/redrive", Access::kManagement,
             [redrives](Request& r) { return redrives->start(r); });
  router.add(Verb::kGet, "/api/redrives", Access::kManagement,
             [redrives](Request& r) { return redrives->list(r); });
  router.add(Verb::kGet, "/api/redrives/{id}", Access::kManagement,
             [redrives](Request& r) { return redrives->get(r); });
  router.add(Verb::kDelete, "/api/redrives/{id}", Access::kManagement,
             [redrives](Request& r) { return redrives->cancel(r); });
}

}  // namespace warren::admin
