#include "admin/static_files.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

namespace warren::admin {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A segment that may appear in a file path: no parent or current directory,
// no hidden files, nothing a filesystem would read as a separator.
bool safe_segment(const std::string& s) {
  if (s.empty() || s.front() == '.') return false;
  for (char c : s) {
    if (c == '/' || c == '\\' || c == '\0') return false;
  }
  return true;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(out).str();
}

constexpr const char* kNotBuilt = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Warren: console not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.5">
<h1>The web console is not built</h1>
<p>The broker looked for it in <code>%DIR%</code> and found no <code>index.html</code>.</p>
<p>Build it with <code>scripts/setup.sh</code> (which runs <code>npm ci</code> and
<code>npm run build</code> in <code>admin-ui/</code>), or start the broker with
<code>--console-dir</code> pointing at a built <code>admin-ui/dist</code>.</p>
<p>The HTTP API works without it: <a href="/api/overview">/api/overview</a>.</p>
</body></html>
)";

std::string html_escape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string StaticFiles::content_type(std::string_view name) {
  struct Kind {
    std::string_view ext, type;
  };
  static constexpr Kind kKinds[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Kind& k : kKinds) {
    if (ends_with(name, k.ext)) return std::string(k.type);
  }
  return "application/octet-stream";
}

std::optional<Response> StaticFiles::serve(const Request& request) const {
  if (request.verb != Verb::kGet && request.verb != Verb::kHead) return std::nullopt;
  const auto& segs = request.segments;  // "/" arrives as one empty segment
  if (!segs.empty() && (segs.front() == "api" || segs.front() == "metrics")) return std::nullopt;
  const bool index = segs.empty() || (segs.size() == 1 && segs.front().empty()) ||
                     (segs.size() == 1 && segs.front() == "index.html");
  std::string relative;
  if (index) {
    relative = "index.html";
  } else {
    for (const std::string& s : segs) {
      if (!safe_segment(s)) return std::nullopt;
      if (!relative.empty()) relative += '/';
      relative += s;
    }
  }
  std::optional<std::string> body = read_file(root_ + "/" + relative);
  if (!body) {
    if (!index) return std::nullopt;  // the router's 404 JSON
    Response r;
    r.status = 404;
    r.content_type = "text/html; charset=utf-8";
    r.body = kNotBuilt;
    r.body.replace(r.body.find("%DIR%"), 5, html_escape(root_));
    return r;
  }
  Response r;
  r.content_type = content_type(relative);
  r.body = std::move(*body);
  // Vite names files under assets/ by content hash: they never change.
  const bool immutable = !segs.empty() && segs.front() == "assets";
  r.headers.emplace_back("cache-control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("x-content-type-options", "nosniff");
  if (index) {
    r.headers.emplace_back("x-frame-options", "DENY");
    r.headers.emplace_back("content-security-policy",
                           "default-src 'self'; img-src 'self' data:; style-src 'self' "
                           "'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'");
  }
  return r;
}

}  // namespace warren::admin
