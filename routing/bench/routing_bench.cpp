// routing_bench: builds a topic exchange with many bindings and measures
// route() on random keys, through the table alone and through a Router.
//
//   routing_bench [--quick] [--bindings N] [--routes N] [--seed N]
//
// --quick keeps the whole run to about a second (for CI).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "warren/routing/exchange_type_registry.hpp"
#include "warren/routing/router.hpp"

namespace {

using warren::routing::Binding;
using warren::routing::BindingTable;
using warren::routing::Destination;
using warren::routing::DestinationKind;
using warren::routing::ExchangeTypeRegistry;
using warren::routing::Router;
using Clock = std::chrono::steady_clock;

struct Options {
  std::size_t bindings = 100'000;
  std::size_t routes = 2'000'000;
  std::uint64_t seed = 42;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto number = [&](const char* name) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", name);
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (arg == "--quick") {
      options.routes = 20'000;
    } else if (arg == "--bindings") {
      options.bindings = number("--bindings");
    } else if (arg == "--routes") {
      options.routes = number("--routes");
    } else if (arg == "--seed") {
      options.seed = number("--seed");
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--bindings N] [--routes N] [--seed N]\n", argv[0]);
      std::exit(2);
    }
  }
  return options;
}

// Keys and patterns of 3 to 5 words, each word from a per-level vocabulary
// of 50 ("l2w7"). Patterns replace words with '*' (10%) or '#' (2%).
std::string random_words(std::mt19937_64& rng, bool pattern) {
  std::uniform_int_distribution<int> length(3, 5);
  std::uniform_int_distribution<int> word(0, 49);
  std::uniform_int_distribution<int> percent(0, 99);
  std::string out;
  const int n = length(rng);
  for (int level = 0; level < n; ++level) {
    if (level > 0) out += '.';
    const int roll = pattern ? percent(rng) : 99;
    if (roll < 10) {
      out += '*';
    } else if (roll < 12) {
      out += '#';
    } else {
      out += 'l' + std::to_string(level) + 'w' + std::to_string(word(rng));
    }
  }
  return out;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void report(const char* what, std::size_t routes, double seconds, std::size_t reached) {
  std::printf("%-28s %9.1f ns/route %12.0f routes/s  %6.2f destinations/route\n", what,
              seconds * 1e9 / static_cast<double>(routes), static_cast<double>(routes) / seconds,
              static_cast<double>(reached) / static_cast<double>(routes));
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  std::mt19937_64 rng(options.seed);
  const ExchangeTypeRegistry& types = ExchangeTypeRegistry::builtin();

  std::vector<std::string> patterns;
  patterns.reserve(options.bindings);
  for (std::size_t i = 0; i < options.bindings; ++i)
    patterns.push_back(random_words(rng, true));
  std::vector<std::string> keys;
  for (int i = 0; i < 4096; ++i)
    keys.push_back(random_words(rng, false));

  Router router;
  router.add_exchange(1, types.create("topic"));
  BindingTable& topic = *router.table(1);
  auto start = Clock::now();
  std::size_t bound = 0;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    const Destination queue{DestinationKind::kQueue, i % 10'000};
    bound += topic.bind(Binding{queue, patterns[i], {}});
  }
  const double build_seconds = seconds_since(start);
  std::printf("topic: %zu bindings (%zu distinct) bound in %.1f ms (%.0f ns/bind)\n",
              options.bindings, bound, build_seconds * 1e3,
              build_seconds * 1e9 / static_cast<double>(options.bindings));

  std::vector<Destination> destinations;
  std::size_t reached = 0;
  start = Clock::now();
  for (std::size_t i = 0; i < options.routes; ++i) {
    destinations.clear();
    topic.route(keys[i % keys.size()], nullptr, destinations);
    reached += destinations.size();
  }
  report("topic table route", options.routes, seconds_since(start), reached);

  std::vector<std::uint64_t> queues;
  reached = 0;
  start = Clock::now();
  for (std::size_t i = 0; i < options.routes; ++i) {
    router.route(1, keys[i % keys.size()], nullptr, queues);
    reached += queues.size();
  }
  report("router route (topic)", options.routes, seconds_since(start), reached);

  // The common case for comparison: a direct exchange with one queue per key.
  router.add_exchange(2, types.create("direct"));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    router.table(2)->bind(Binding{{DestinationKind::kQueue, i}, keys[i], {}});
  }
  reached = 0;
  start = Clock::now();
  for (std::size_t i = 0; i < options.routes; ++i) {
    router.route(2, keys[i % keys.size()], nullptr, queues);
    reached += queues.size();
  }
  report("router route (direct)", options.routes, seconds_since(start), reached);

  start = Clock::now();
  router.remove_exchange(1);
  std::printf("topic: teardown in %.1f ms\n", seconds_since(start) * 1e3);
  return 0;
}
