#pragma once
// Which queues of a vhost are dead-letter queues: the targets of other
// queues' x-dead-letter-exchange (and x-dead-letter-routing-key), worked out
// from the queues' arguments and the bindings of those exchanges. The web
// console marks them as DLQs. A static view, so an approximation:
//   - default exchange ("") with a routing key: the queue of that name;
//   - a direct exchange with a routing key: the queues bound with that key;
//   - any other case (fanout, topic, headers, or no routing key): every queue
//     bound to the exchange;
//   - exchange-to-exchange bindings and alternate exchanges are not followed.
// Costs one pass over the vhost's queues plus the DLX exchanges' bindings;
// runs on the broker thread.

#include <map>
#include <string>
#include <vector>

namespace warren::broker {
class VHost;
}

namespace warren::admin {

struct DeadLetterTargets {
  // target queue name -> the queues that dead-letter into it (sorted)
  std::map<std::string, std::vector<std::string>> sources;

  bool is_target(const std::string& queue) const { return sources.contains(queue); }
};

DeadLetterTargets dead_letter_targets(const broker::VHost& vhost);

}  // namespace warren::admin
