#include "access.hpp"

#include <boost/regex.hpp>
#include <map>
#include <optional>

#include "broker.hpp"

namespace warren::broker {

bool regex_allows(const std::string& pattern, std::string_view name) {
  if (pattern.empty()) return false;
  if (pattern == ".*") return true;  // the default grant: no regex needed
  // Patterns are few (one set per user and vhost); an invalid one is cached
  // as nullopt.
  static std::map<std::string, std::optional<boost::regex>, std::less<>> compiled;
  auto it = compiled.find(pattern);
  if (it == compiled.end()) {
    if (compiled.size() > 1000) compiled.clear();  // bounded
    std::optional<boost::regex> re;
    try {
      re.emplace(pattern, boost::regex::perl);
    } catch (const boost::regex_error&) {
    }
    it = compiled.emplace(pattern, std::move(re)).first;
  }
  return it->second && boost::regex_search(name.begin(), name.end(), *it->second);
}

bool permits(const Permission& permission, Permit permit, std::string_view name) {
  const std::string& pattern = permit == Permit::kConfigure ? permission.configure
                               : permit == Permit::kWrite   ? permission.write
                                                            : permission.read;
  return regex_allows(pattern, name.empty() ? std::string_view("amq.default") : name);
}

}  // namespace warren::broker
