#include "admin/router.hpp"

#include <exception>

#include "log.hpp"

namespace warren::admin {

namespace {

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const char* verb_name(Verb verb) {
  switch (verb) {
    case Verb::kGet:
      return "GET";
    case Verb::kPut:
      return "PUT";
    case Verb::kPost:
      return "POST";
    case Verb::kDelete:
      return "DELETE";
    case Verb::kHead:
      return "HEAD";
    case Verb::kOptions:
      return "OPTIONS";
    case Verb::kOther:
      break;
  }
  return "OTHER";
}

bool url_decode(std::string_view in, std::string* out, bool plus_is_space) {
  out->clear();
  out->reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

std::string url_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : in) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

bool parse_target(std::string_view target, std::vector<std::string>* segments,
                  std::map<std::string, std::string>* query) {
  std::string_view path = target;
  std::string_view query_text;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query_text = target.substr(q + 1);
  }
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  // A trailing slash names the same resource.
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  segments->clear();
  for (const std::string& raw : split(path)) {
    std::string decoded;
    if (!url_decode(raw, &decoded, false)) return false;
    segments->push_back(std::move(decoded));
  }
  query->clear();
  std::size_t start = 0;
  while (start < query_text.size()) {
    auto end = query_text.find('&', start);
    if (end == std::string_view::npos) end = query_text.size();
    std::string_view pair = query_text.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    std::string key, value;
    auto eq = pair.find('=');
    if (!url_decode(pair.substr(0, eq), &key, true)) return false;
    if (eq != std::string_view::npos && !url_decode(pair.substr(eq + 1), &value, true)) {
      return false;
    }
    (*query)[key] = value;
  }
  return true;
}

void Router::add(Verb verb, std::string_view pattern, Access access, Handler handler) {
  std::string_view p = pattern;
  if (!p.empty() && p.front() == '/') p.remove_prefix(1);
  routes_.push_back(Route{verb, split(p), access, std::move(handler)});
}

bool Router::match(const std::vector<std::string>& pattern,
                   const std::vector<std::string>& segments,
                   std::map<std::string, std::string>* params) {
  if (pattern.size() != segments.size()) return false;
  params->clear();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
      (*params)[p.substr(1, p.size() - 2)] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  return true;
}

Response Router::handle(Request& request) {
  try {
    const Verb verb = request.verb == Verb::kHead ? Verb::kGet : request.verb;
    const Route* found = nullptr;
    std::string allow;
    std::map<std::string, std::string> params;
    for (const Route& route : routes_) {
      if (!match(route.pattern, request.segments, &params)) continue;
      if (route.verb == verb) {
        found = &route;
        request.params = params;
        break;
      }
      if (!allow.empty()) allow += ", ";
      allow += verb_name(route.verb);
    }
    if (found == nullptr) {
      if (allow.empty()) return error_response(not_found());
      if (allow.find("GET") != std::string::npos) allow += ", HEAD";
      allow += ", OPTIONS";
      if (request.verb == Verb::kOptions) {
        Response r = no_content();
        r.status = 200;
        r.headers.emplace_back("allow", allow);
        return r;
      }
      Response r = no_content();
      r.status = 405;
      r.headers.emplace_back("allow", allow);
      return r;
    }
    if (found->access != Access::kPublic) {
      if (auto refused = authenticate(broker_, request)) return *refused;
      if (auto err = check_tags(*request.user, found->access)) return error_response(*err);
    }
    return found->handler(request);
  } catch (const ApiError& e) {
    return error_response(e);
  } catch (const std::exception& e) {
    // A bug, not bad input: report it without taking the broker down.
    broker::log_error("admin API: {} {} failed: {}", verb_name(request.verb), request.target,
                      e.what());
    return error_response(ApiError{500, "internal_error", e.what()});
  }
}

}  // namespace warren::admin
