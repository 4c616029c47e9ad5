#pragma once
// A subscription of one channel to one queue (basic.consume).
// Owned by its Channel; the Queue holds a non-owning pointer while the
// consumer is registered. Lives on the broker thread.

#include <cstdint>
#include <memory>
#include <string>

namespace warren::broker {

class Channel;
class Queue;

struct Consumer {
  Channel* channel = nullptr;
  std::shared_ptr<Queue> queue;
  std::string tag;
  bool no_ack = false;
  bool exclusive = false;
  std::int64_t priority = 0;
  std::uint16_t prefetch = 0;  // per-consumer limit (basic.qos global=false); 0 = none
  std::uint32_t unacked = 0;   // deliveries not yet acked, for the prefetch limit
};

}  // namespace warren::broker
