#pragma once
// The topology both examples declare (declaring is idempotent, so whichever
// starts first creates it): a durable work queue "jobs" whose rejected
// messages dead-letter into "jobs.dlq".

#include <boost/asio/awaitable.hpp>

#include "warren/client/client.hpp"

namespace jobs {

inline constexpr const char* kQueue = "jobs";
inline constexpr const char* kDeadLetters = "jobs.dlq";

inline boost::asio::awaitable<void> declare(warren::client::Connection& c) {
  using namespace warren::client;
  const QueueSpec dead_letters(kDeadLetters);
  co_await c.declare_queue(dead_letters);
  QueueSpec work(kQueue);
  work.dead_letter_exchange = "";               // the default exchange...
  work.dead_letter_routing_key = kDeadLetters;  // ...straight into jobs.dlq
  co_await c.declare_queue(work);
}

}  // namespace jobs
