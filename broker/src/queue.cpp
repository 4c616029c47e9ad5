#include "queue.hpp"

#include <algorithm>

#include "channel.hpp"
#include "consumer.hpp"

namespace warren::broker {

Queue::Queue(VHost& vhost, std::uint64_t id, std::string name, QueueOptions options,
             Connection* exclusive_owner)
    : vhost_(vhost),
      id_(id),
      name_(std::move(name)),
      options_(std::move(options)),
      exclusive_owner_(exclusive_owner) {}

bool Queue::has_exclusive_consumer() const {
  return std::any_of(consumers_.begin(), consumers_.end(),
                     [](const Consumer* c) { return c->exclusive; });
}

void Queue::publish(MessagePtr message) {
  ready_.push_back(Entry{std::move(message), next_seq_++, false});
  if (!consumers_.empty()) dispatch();
}

void Queue::requeue(Entry entry) {
  if (deleted_) return;
  entry.redelivered = true;
  // Requeued messages are usually older than everything ready, so the search
  // from the front is short.
  auto pos = std::upper_bound(ready_.begin(), ready_.end(), entry.seq,
                              [](std::uint64_t seq, const Entry& e) { return seq < e.seq; });
  ready_.insert(pos, std::move(entry));
}

Consumer* Queue::pick_consumer() {
  const std::size_t n = consumers_.size();
  if (n == 0) return nullptr;
  if (!has_priorities_) {
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t idx = (next_consumer_ + i) % n;
      Consumer* c = consumers_[idx];
      if (c->channel->can_accept(*c)) {
        next_consumer_ = idx + 1;
        return c;
      }
    }
    return nullptr;
  }
  // Only the highest priority with capacity receives; equal ones take turns.
  bool found = false;
  std::int64_t best = 0;
  for (Consumer* c : consumers_) {
    if ((!found || c->priority > best) && c->channel->can_accept(*c)) {
      best = c->priority;
      found = true;
    }
  }
  if (!found) return nullptr;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t idx = (next_consumer_ + i) % n;
    Consumer* c = consumers_[idx];
    if (c->priority == best && c->channel->can_accept(*c)) {
      next_consumer_ = idx + 1;
      return c;
    }
  }
  return nullptr;
}

void Queue::dispatch() {
  // A delivery can trigger work that dispatches again (e.g. an auto-ack
  // consumer); the outer loop picks it up.
  if (dispatching_ || deleted_) return;
  dispatching_ = true;
  while (!ready_.empty()) {
    Consumer* consumer = pick_consumer();
    if (consumer == nullptr) break;
    Entry entry = std::move(ready_.front());
    ready_.pop_front();
    consumer->channel->deliver(*consumer, *this, std::move(entry));
  }
  dispatching_ = false;
}

bool Queue::take(Entry& out) {
  if (ready_.empty()) return false;
  out = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

std::size_t Queue::purge() {
  std::size_t n = ready_.size();
  ready_.clear();
  return n;
}

void Queue::add_consumer(Consumer* consumer) {
  ever_had_consumers_ = true;
  if (consumer->priority != 0) has_priorities_ = true;
  // Stable: a new consumer goes after the others of its priority.
  auto pos = std::find_if(consumers_.begin(), consumers_.end(),
                          [&](const Consumer* c) { return c->priority < consumer->priority; });
  consumers_.insert(pos, consumer);
}

void Queue::remove_consumer(Consumer* consumer) {
  auto it = std::find(consumers_.begin(), consumers_.end(), consumer);
  if (it == consumers_.end()) return;
  std::size_t idx = static_cast<std::size_t>(it - consumers_.begin());
  consumers_.erase(it);
  if (idx < next_consumer_) --next_consumer_;
  has_priorities_ = std::any_of(consumers_.begin(), consumers_.end(),
                                [](const Consumer* c) { return c->priority != 0; });
}

void Queue::mark_deleted() {
  deleted_ = true;
  ready_.clear();
  consumers_.clear();
}

}  // namespace warren::broker
