#pragma once
// Maps (verb, path) to a handler. Patterns are slash-separated segments with
// {placeholders}; a request's path is split on '/' before URL-decoding, so a
// vhost named "/" arrives as %2F in one segment. Each route names the user
// tag it needs (auth.hpp). A path that matches with another verb gets 405
// and an Allow header, as RabbitMQ's.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/api.hpp"
#include "admin/auth.hpp"

namespace warren::admin {

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  explicit Router(broker::Broker& broker) : broker_(broker) {}

  void add(Verb verb, std::string_view pattern, Access access, Handler handler);
  // Authenticates, routes and runs the handler; every failure becomes a JSON
  // error response (never an exception out of here).
  Response handle(Request& request);

 private:
  struct Route {
    Verb verb;
    std::vector<std::string> pattern;
    Access access;
    Handler handler;
  };
  static bool match(const std::vector<std::string>& pattern,
                    const std::vector<std::string>& segments,
                    std::map<std::string, std::string>* params);

  broker::Broker& broker_;
  std::vector<Route> routes_;
};

// Splits a request target into URL-decoded path segments and query
// parameters. False when the target is malformed (bad %-escapes).
bool parse_target(std::string_view target, std::vector<std::string>* segments,
                  std::map<std::string, std::string>* query);
// %XX decoding; '+' becomes a space when `plus_is_space`.
bool url_decode(std::string_view in, std::string* out, bool plus_is_space);
std::string url_encode(std::string_view in);
const char* verb_name(Verb verb);

}  // namespace warren::admin
