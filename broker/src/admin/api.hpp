#pragma once
// The admin HTTP API's shared vocabulary: a parsed request, a response, the
// JSON error shape ({"error": ..., "reason": ...}) and the context every
// handler gets. Handlers run on the broker thread (the HTTP server shares the
// io_context), so they may read and change broker state directly; they must
// stay cheap because the message path waits while they run. What grows with
// the number of objects (building and serialising a listing of 10,000
// queues) goes in Response::finish_elsewhere, which runs off that thread.

#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amqp_error.hpp"

namespace warren::broker {
class Broker;
struct User;
}  // namespace warren::broker

namespace warren::admin {

using nlohmann::json;

enum class Verb { kGet, kPut, kPost, kDelete, kHead, kOptions, kOther };

struct Request {
  Verb verb = Verb::kGet;
  std::string target;                         // as received
  std::vector<std::string> segments;          // path split on '/', each URL-decoded
  std::map<std::string, std::string> query;   // decoded
  std::map<std::string, std::string> params;  // filled by the router from {placeholders}
  std::string body;
  std::string content_type;
  std::string x_reason;                // the X-Reason header (connection close reason)
  std::string authorization;           // the Authorization header
  const broker::User* user = nullptr;  // set once authenticated
  bool from_loopback = false;

  const std::string& param(const std::string& name) const { return params.at(name); }
  // A query parameter, or `fallback` when absent.
  std::string query_or(const std::string& name, std::string fallback = {}) const {
    auto it = query.find(name);
    return it == query.end() ? fallback : it->second;
  }
};

struct Response {
  unsigned status = 200;
  std::string body;  // JSON unless content_type says otherwise
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the server runs it on its finishing thread and sends what it
  // returns instead (it may throw ApiError). It must use only what it
  // captured (copies: no broker state), since the broker thread goes on.
  std::function<Response()> finish_elsewhere;
};

// A response to be built off the broker thread from `work`'s captures.
Response finish_elsewhere(std::function<Response()> work);

// An API failure; handlers return it (or throw it from deep helpers: the
// router catches ApiError, and nothing else, at the top of each request).
struct ApiError {
  unsigned status = 400;
  std::string error;
  json reason;
};

ApiError not_found();  // 404 {"error":"Object Not Found","reason":"Not Found"}
ApiError bad_request(json reason);
// 403 {"error":"not_authorised","reason":...}: an authenticated user without
// the tag or the vhost permission (issue #5; RabbitMQ 3.10 answers 401).
ApiError not_authorised(std::string reason);
// How the admin API reports an AMQP error raised by an operation:
// 404 not_found, 403 ACCESS_REFUSED -> 403 not_authorised "Access refused."
// (RabbitMQ 3.10: 401), else 400 bad_request; the reason is the text
// without its "CODE_NAME - " prefix.
ApiError from_amqp(const broker::AmqpError& error);
// The text without the "NOT_FOUND - " style prefix.
std::string strip_code_name(const std::string& text);

Response json_response(const json& body, unsigned status = 200);
Response no_content();  // 204
Response created();     // 201
Response error_response(const ApiError& error);

// Body parsing with RabbitMQ's errors: not_json for a body that is not a
// JSON object (or nests deeper than kMaxJsonDepth).
json parse_body(const Request& request);
// Parses `text`; a discarded value when it is not JSON or nests deeper than
// kMaxJsonDepth (the conversions to field tables recurse per level).
inline constexpr int kMaxJsonDepth = 64;
json parse_json(std::string_view text);
// Booleans as RabbitMQ's API takes them: JSON true/false or the strings
// "true"/"false". Absent: `fallback`. Else 400 ["not_boolean", value].
bool bool_field(const json& body, const char* key, bool fallback);
// Strings: absent -> fallback; non-string -> 400.
std::string string_field(const json& body, const char* key, std::string fallback = {});
// Integers: a JSON number or a numeric string.
std::optional<std::int64_t> int_field(const json& body, const char* key);
// 400 "[{key_missing,KEY}]" (RabbitMQ's text) unless every key is present.
void require_keys(const json& body, std::initializer_list<const char*> keys);

// Milliseconds since the epoch (the API's timestamps).
std::int64_t now_ms();

}  // namespace warren::admin
