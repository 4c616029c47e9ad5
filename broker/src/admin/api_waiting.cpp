// Warren's own endpoints for messages that wait (docs/API.md, issue #5): a queue's messages
// waiting to be retried (nack with delay, x-delayed-retry-*), and the messages of
// x-delayed-message exchanges waiting to be routed. List them with their due time, count them,
// and cancel a wait: a retrying message becomes ready at once, a delayed one is dropped.
//
// Messages are shown in the DLQ browser's shape (message_json.hpp). Permissions follow the
// message endpoints: access to the vhost, and `read` on the queue for a queue's messages; a
// delayed message belongs to no queue yet, so it needs `read` on the exchange it was published
// to (listings leave out the ones the user may not read).

#include <algorithm>
#include <ctime>

#include "admin/handlers.hpp"
#include "admin/message_json.hpp"
#include "broker.hpp"
#include "delayed_messages.hpp"
#include "vhost.hpp"

namespace warren::admin {

namespace {

constexpr std::size_t kDefaultLimit = 50;
constexpr std::size_t kMaxLimit = 1000;

struct Page {
  std::size_t offset;
  std::size_t limit;
};

Page page_of(const Request& r) {
  const auto offset = static_cast<std::size_t>(query_int(r, "offset").value_or(0));
  const auto limit = std::min<std::size_t>(
      static_cast<std::size_t>(query_int(r, "limit").value_or(kDefaultLimit)), kMaxLimit);
  return Page{offset, limit};
}

// "2025-11-23T21:06:45.123Z"
std::string iso_utc(std::int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(n), text,
                static_cast<int>(unix_ms % 1000));
  return out;
}

void add_due(json& j, std::int64_t due_unix_ms, std::int64_t now) {
  j["due_unix_ms"] = due_unix_ms;
  j["due"] = iso_utc(due_unix_ms);
  // Negative when it is due and about to be released.
  j["due_in_ms"] = due_unix_ms - now;
}

bool may(broker::Broker& broker, const Request& r, const std::string& vhost, Permit permit,
         const std::string& resource) {
  try {
    require_permission(broker, r, vhost, permit, resource);
    return true;
  } catch (const ApiError&) {
    return false;
  }
}

std::uint64_t parse_number(std::string_view text) {
  if (text.empty() || text.size() > 19) throw not_found();
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') throw not_found();
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// --- a queue's messages waiting to be retried

std::shared_ptr<broker::Queue> readable_queue(broker::Broker& broker, const Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  require_vhost_access(broker, r, vhost.name());
  auto queue = vhost.find_queue(r.param("queue"));
  if (!queue) throw not_found();
  require_permission(broker, r, vhost.name(), Permit::kRead, queue->name());
  return queue;
}

Response list_waiting(broker::Broker& broker, Request& r) {
  auto queue = readable_queue(broker, r);
  const Page page = page_of(r);
  const std::int64_t now = now_ms();
  json items = json::array();
  std::size_t position = page.offset;
  std::optional<std::size_t> next;
  queue->browse_waiting(page.offset, [&](const broker::Queue::Entry& e, std::uint64_t due) {
    if (items.size() == page.limit) {
      next = position;
      return false;
    }
    protocol::BasicProperties p;
    protocol::decode_properties(e.message->properties, p);
    json j = message_json(e, p, position, std::nullopt);
    add_due(j, static_cast<std::int64_t>(due), now);
    items.push_back(std::move(j));
    ++position;
    return true;
  });
  return json_response(json{{"vhost", r.param("vhost")},
                            {"queue", queue->name()},
                            {"messages_waiting", queue->waiting_count()},
                            {"offset", page.offset},
                            {"limit", page.limit},
                            {"next_offset", next ? json(*next) : json(nullptr)},
                            {"items", std::move(items)}});
}

Response release_waiting(broker::Broker& broker, Request& r) {
  auto queue = readable_queue(broker, r);
  const std::string& seq_text = r.param("seq");
  const std::uint64_t seq = parse_number(seq_text);
  if (!queue->release_waiting(seq)) {
    throw ApiError{404, "not_found",
                   "no message " + seq_text + " waiting to be retried in queue '" + queue->name() +
                       "' in vhost '" + r.param("vhost") + "'; it may have been retried already"};
  }
  return no_content();
}

// --- delayed messages (x-delayed-message exchanges)

broker::DelayedMessages& delayed_of(broker::Broker& broker) {
  broker::DelayedMessages* d = broker.delayed();
  if (d == nullptr) throw ApiError{500, "internal_error", "no delayed-message store"};
  return *d;
}

// The API's id of a delayed message: "<due_unix_ms>-<id>" (the timeline's key).
std::string delayed_id(const broker::DelayedMessages::Listed& m) {
  return std::to_string(m.due_unix_ms) + "-" + std::to_string(m.id);
}

Response delayed_total(broker::Broker& broker, Request& r) {
  const broker::DelayedMessages& delayed = delayed_of(broker);
  std::uint64_t total = 0;
  json per_vhost = json::object();
  for (const auto& [name, vhost] : broker.vhosts()) {
    if (!can_see_vhost(broker, *r.user, name)) continue;
    const std::uint64_t n = delayed.pending_in(name);
    per_vhost[name] = n;
    total += n;
  }
  return json_response(json{{"delayed_messages", total}, {"vhosts", std::move(per_vhost)}});
}

Response list_delayed(broker::Broker& broker, Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  require_vhost_access(broker, r, vhost.name());
  broker::DelayedMessages& delayed = delayed_of(broker);
  const Page page = page_of(r);
  const std::int64_t now = now_ms();
  // One more than asked for says whether there is a next page.
  auto listed = delayed.list(vhost.name(), page.offset, page.limit + 1);
  std::optional<std::size_t> next;
  if (listed.size() > page.limit) {
    listed.resize(page.limit);
    next = page.offset + page.limit;
  }
  json items = json::array();
  std::size_t position = page.offset, hidden = 0;
  for (const auto& m : listed) {
    const std::size_t at = position++;
    if (!may(broker, r, vhost.name(), Permit::kRead, m.message->exchange)) {
      ++hidden;
      continue;
    }
    protocol::BasicProperties p;
    protocol::decode_properties(m.message->properties, p);
    json j = message_fields(*m.message, p, std::nullopt);
    j["id"] = delayed_id(m);
    j["position"] = at;
    j["vhost"] = m.vhost;
    add_due(j, m.due_unix_ms, now);
    items.push_back(std::move(j));
  }
  return json_response(json{{"vhost", vhost.name()},
                            {"delayed_messages", delayed.pending_in(vhost.name())},
                            {"offset", page.offset},
                            {"limit", page.limit},
                            {"next_offset", next ? json(*next) : json(nullptr)},
                            {"not_shown", hidden},
                            {"items", std::move(items)}});
}

Response cancel_delayed(broker::Broker& broker, Request& r) {
  broker::VHost& vhost = vhost_or_404(broker, r.param("vhost"));
  require_vhost_access(broker, r, vhost.name());
  broker::DelayedMessages& delayed = delayed_of(broker);
  const std::string& text = r.param("id");
  const auto dash = text.find('-');
  if (dash == std::string::npos) throw not_found();
  const std::uint64_t due = parse_number(std::string_view(text).substr(0, dash));
  const std::uint64_t id = parse_number(std::string_view(text).substr(dash + 1));
  auto missing = [&] {
    return ApiError{404, "not_found",
                    "no delayed message " + text + " in vhost '" + vhost.name() +
                        "'; it may have been routed or cancelled already"};
  };
  // The permission names the exchange, which only the message knows.
  const auto found = delayed.find(vhost.name(), due, id);
  if (!found) throw missing();
  require_permission(broker, r, vhost.name(), Permit::kRead, found->message->exchange);
  if (!delayed.cancel(vhost.name(), due, id)) throw missing();
  return no_content();
}

}  // namespace

void add_waiting_routes(Router& router, broker::Broker& broker) {
  router.add(Verb::kGet, "/api/queues/{vhost}/{queue}/waiting", Access::kManagement,
             [&broker](Request& r) { return list_waiting(broker, r); });
  router.add(Verb::kDelete, "/api/queues/{vhost}/{queue}/waiting/{seq}", Access::kManagement,
             [&broker](Request& r) { return release_waiting(broker, r); });
  router.add(Verb::kGet, "/api/delayed", Access::kManagement,
             [&broker](Request& r) { return delayed_total(broker, r); });
  router.add(Verb::kGet, "/api/delayed/{vhost}", Access::kManagement,
             [&broker](Request& r) { return list_delayed(broker, r); });
  router.add(Verb::kDelete, "/api/delayed/{vhost}/{id}", Access::kManagement,
             [&broker](Request& r) { return cancel_delayed(broker, r); });
}

}  // namespace warren::admin
