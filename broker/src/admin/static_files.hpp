#pragma once
// The web console (admin-ui/, docs/ARCHITECTURE.md "Web console"): serves
// the built files from one directory (--console-dir) on the admin HTTP port.
// GET / is index.html; other paths outside /api/ and /metrics name files in
// the directory. Vite's hashed files under /assets/ are cached for a year,
// everything else is revalidated. Nothing is served from outside the
// directory (no "..", no hidden files). When the console was not built, GET /
// answers 404 with a page that says how to build it; the API is unaffected.
// Runs on the broker thread like every handler; files are small and read
// whole.

#include <optional>
#include <string>

#include "admin/api.hpp"

namespace warren::admin {

class StaticFiles {
 public:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}

  // The response for a GET or HEAD of a console path, or nullopt when the
  // request is not for the console (an API path, another verb, no such
  // file): the router answers those as before.
  std::optional<Response> serve(const Request& request) const;

  // The Content-Type for a file name, by extension.
  static std::string content_type(std::string_view name);

 private:
  std::string root_;
};

}  // namespace warren::admin
