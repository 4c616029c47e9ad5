#include "warren/client/uri.hpp"

#include <fmt/core.h>

#include <cctype>
#include <charconv>
#include <limits>
#include <stdexcept>

namespace warren::client {

namespace {

std::string percent_decode(std::string_view s, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= s.size()) {
      throw std::invalid_argument(fmt::format("bad percent escape in the {}", what));
    }
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) {
      throw std::invalid_argument(fmt::format("bad percent escape in the {}", what));
    }
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

template <typename T>
T parse_number(std::string_view s, std::string_view what) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() ||
      v > std::numeric_limits<T>::max()) {
    throw std::invalid_argument(fmt::format("bad {} '{}'", what, s));
  }
  return static_cast<T>(v);
}

std::string percent_encode(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

}  // namespace

Uri Uri::parse(std::string_view text) {
  Uri u;
  constexpr std::string_view kScheme = "amqp://";
  if (text.starts_with("amqps://")) {
    throw std::invalid_argument("amqps:// (TLS) is not supported");
  }
  if (!text.starts_with(kScheme)) {
    throw std::invalid_argument(fmt::format("not an amqp:// URI: '{}'", text));
  }
  std::string_view rest = text.substr(kScheme.size());
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest;
  std::optional<std::string_view> path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      u.user = percent_decode(userinfo.substr(0, colon), "user");
      u.password = percent_decode(userinfo.substr(colon + 1), "password");
    } else {
      u.user = percent_decode(userinfo, "user");
      u.password.clear();
    }
  }
  std::string_view host = authority;
  if (authority.starts_with('[')) {  // [::1]:5672
    auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("unterminated IPv6 host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw std::invalid_argument("junk after the IPv6 host");
      u.port = parse_number<std::uint16_t>(after.substr(1), "port");
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    u.port = parse_number<std::uint16_t>(authority.substr(colon + 1), "port");
  }
  if (!host.empty()) u.host = percent_decode(host, "host");
  if (u.port == 0) throw std::invalid_argument("port 0");
  // "amqp://host/" means "/", as pika and amqp091-go read it (RabbitMQ's URI
  // spec would say ""; nobody names a vhost that).
  if (path && !path->empty()) u.vhost = percent_decode(*path, "vhost");

  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query = pair.size() < query.size() ? query.substr(pair.size() + 1) : std::string_view();
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument(fmt::format("query parameter without a value: '{}'", pair));
    }
    std::string_view key = pair.substr(0, eq), value = pair.substr(eq + 1);
    if (key == "heartbeat") {
      u.heartbeat = parse_number<std::uint16_t>(value, "heartbeat");
    } else if (key == "frame_max") {
      u.frame_max = parse_number<std::uint32_t>(value, "frame_max");
    } else if (key == "channel_max") {
      u.channel_max = parse_number<std::uint16_t>(value, "channel_max");
    } else if (key == "connection_timeout") {
      u.connection_timeout =
          std::chrono::milliseconds(parse_number<std::uint32_t>(value, "connection_timeout"));
    } else {
      throw std::invalid_argument(fmt::format("unknown query parameter '{}'", key));
    }
  }
  return u;
}

std::string Uri::to_string(bool with_password) const {
  std::string s = fmt::format("amqp://{}:{}@", percent_encode(user),
                              with_password ? percent_encode(password) : std::string("***"));
  s += host.find(':') != std::string::npos ? fmt::format("[{}]", host) : host;
  s += fmt::format(":{}/{}", port, percent_encode(vhost));
  std::string q;
  auto add = [&](std::string_view k, auto v) {
    q += fmt::format("{}{}={}", q.empty() ? "?" : "&", k, v);
  };
  if (heartbeat) add("heartbeat", *heartbeat);
  if (frame_max) add("frame_max", *frame_max);
  if (channel_max) add("channel_max", *channel_max);
  if (connection_timeout != std::chrono::milliseconds(10000)) {
    add("connection_timeout", connection_timeout.count());
  }
  return s + q;
}

}  // namespace warren::client
