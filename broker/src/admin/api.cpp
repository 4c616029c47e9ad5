#include "admin/api.hpp"

#include <chrono>

namespace warren::admin {

ApiError not_found() {
  return ApiError{404, "Object Not Found", "Not Found"};
}

ApiError bad_request(json reason) {
  return ApiError{400, "bad_request", std::move(reason)};
}

ApiError not_authorised(std::string reason) {
  return ApiError{403, "not_authorised", std::move(reason)};
}

std::string strip_code_name(const std::string& text) {
  auto pos = text.find(" - ");
  if (pos == std::string::npos) return text;
  // Only an upper-case CODE_NAME prefix is stripped.
  for (std::size_t i = 0; i < pos; ++i) {
    const char c = text[i];
    if (!(c == '_' || (c >= 'A' && c <= 'Z'))) return text;
  }
  return text.substr(pos + 3);
}

ApiError from_amqp(const broker::AmqpError& error) {
  switch (error.code) {
    case 404:
      return ApiError{404, "not_found", strip_code_name(error.text)};
    case 403:
      return not_authorised("Access refused.");
    default:
      return bad_request(strip_code_name(error.text));
  }
}

Response json_response(const json& body, unsigned status) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

Response finish_elsewhere(std::function<Response()> work) {
  Response r;
  r.finish_elsewhere = std::move(work);
  return r;
}

Response no_content() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Response created() {
  Response r;
  r.status = 201;
  r.content_type.clear();
  return r;
}

Response error_response(const ApiError& error) {
  return json_response(json{{"error", error.error}, {"reason", error.reason}}, error.status);
}

json parse_json(std::string_view text) {
  // Depth first, in one pass that skips strings, so nothing recursive ever
  // sees a hostile nesting.
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return json(json::value_t::discarded);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return json::parse(text, nullptr, false);
}

json parse_body(const Request& request) {
  if (request.body.empty()) return json::object();
  json body = parse_json(request.body);
  if (body.is_discarded() || !body.is_object()) throw bad_request("not_json");
  return body;
}

bool bool_field(const json& body, const char* key, bool fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  throw bad_request(json::array({"not_boolean", *it}));
}

std::string string_field(const json& body, const char* key, std::string fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw bad_request(json::array({"not_string", *it}));
  return it->get<std::string>();
}

std::optional<std::int64_t> int_field(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    std::int64_t v = 0;
    bool ok = !s.empty() && s.size() < 19;
    for (char c : s) {
      if (c < '0' || c > '9') {
        ok = false;
        break;
      }
      v = v * 10 + (c - '0');
    }
    if (ok) return v;
  }
  throw bad_request(json::array({"not_integer", *it}));
}

void require_keys(const json& body, std::initializer_list<const char*> keys) {
  std::string missing;
  for (const char* key : keys) {
    if (body.contains(key)) continue;
    if (!missing.empty()) missing += ",\n ";
    missing += std::string("{key_missing,") + key + "}";
  }
  if (!missing.empty()) throw bad_request("[" + missing + "]");
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace warren::admin
