// GET /metrics: Prometheus text format (version 0.0.4). Names follow
// rabbitmq_prometheus where the meaning is the same; per-queue series carry
// vhost and queue labels (as its per-object mode). Counters are cumulative;
// Prometheus derives the rates. One pass over the queues, no JSON, so a
// scrape of 10,000 queues stays cheap. Unauthenticated, as rabbitmq_prometheus.

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>

#include "admin/handlers.hpp"
#include "broker.hpp"
#include "channel.hpp"
#include "connection.hpp"
#include "message.hpp"
#include "vhost.hpp"

namespace warren::admin {

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
};

void header(fmt::memory_buffer& out, const Family& f) {
  fmt::format_to(std::back_inserter(out), "# TYPE {} {}\n# HELP {} {}\n", f.name, f.type, f.name,
                 f.help);
}

Response metrics(broker::Broker& broker) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  std::uint64_t connections = 0, channels = 0;
  for (const broker::Connection* c : broker.connections()) {
    ++connections;
    for (const auto& ch : c->channels())
      channels += ch != nullptr ? 1 : 0;
  }
  std::uint64_t queues = 0, consumers = 0;
  broker::QueueStats total;
  struct Row {
    std::string labels;
    const broker::Queue* q;
  };
  std::vector<Row> rows;
  for (const auto& [vname, vhost] : broker.vhosts()) {
    for (const auto& [qname, q] : vhost->queues()) {
      ++queues;
      consumers += q->consumer_count();
      const auto& s = q->stats();
      total.publish += s.publish;
      total.deliver += s.deliver;
      total.deliver_no_ack += s.deliver_no_ack;
      total.get += s.get;
      total.get_no_ack += s.get_no_ack;
      total.ack += s.ack;
      total.redeliver += s.redeliver;
      rows.push_back(
          Row{fmt::format("vhost=\"{}\",queue=\"{}\"", escape_label(vname), escape_label(qname)),
              q.get()});
    }
  }
  auto gauge = [&](const Family& f, std::uint64_t v) {
    header(out, f);
    fmt::format_to(it, "{} {}\n", f.name, v);
  };
  gauge({"rabbitmq_connections", "gauge", "Connections currently open"}, connections);
  gauge({"rabbitmq_channels", "gauge", "Channels currently open"}, channels);
  gauge({"rabbitmq_consumers", "gauge", "Consumers currently connected"}, consumers);
  gauge({"rabbitmq_queues", "gauge", "Queues available"}, queues);
  gauge({"rabbitmq_process_resident_memory_bytes", "gauge", "Memory used in bytes"},
        resident_bytes());
  gauge({"rabbitmq_resident_memory_limit_bytes", "gauge",
         "Memory high watermark in bytes (publishers block above it)"},
        broker.memory_limit());
  gauge({"warren_message_bytes", "gauge", "Bytes held by messages (what the memory alarm counts)"},
        broker::message_bytes_in_use());
  gauge({"rabbitmq_alarms_memory_used_watermark", "gauge",
         "Is 1 if VM memory watermark alarm is in effect"},
        broker.memory_alarm() ? 1 : 0);
  gauge({"rabbitmq_global_messages_received_total", "counter",
         "Total number of messages enqueued (per queue they reached)"},
        total.publish);
  gauge({"rabbitmq_global_messages_delivered_consume_manual_ack_total", "counter",
         "Total number of messages delivered to consumers using manual acknowledgement mode"},
        total.deliver);
  gauge({"rabbitmq_global_messages_delivered_consume_auto_ack_total", "counter",
         "Total number of messages delivered to consumers using automatic acknowledgement mode"},
        total.deliver_no_ack);
  gauge({"rabbitmq_global_messages_delivered_get_manual_ack_total", "counter",
         "Total number of messages fetched with basic.get in manual acknowledgement mode"},
        total.get);
  gauge({"rabbitmq_global_messages_delivered_get_auto_ack_total", "counter",
         "Total number of messages fetched with basic.get in automatic acknowledgement mode"},
        total.get_no_ack);
  gauge({"rabbitmq_global_messages_redelivered_total", "counter",
         "Total number of messages redelivered to consumers"},
        total.redeliver);
  gauge({"rabbitmq_global_messages_acknowledged_total", "counter",
         "Total number of messages acknowledged by consumers"},
        total.ack);

  auto per_queue = [&](const Family& f, auto value) {
    header(out, f);
    for (const Row& row : rows)
      fmt::format_to(it, "{}{{{}}} {}\n", f.name, row.labels, value(*row.q));
  };
  per_queue({"rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered"},
            [](const broker::Queue& q) { return q.ready_count(); });
  per_queue(
      {"rabbitmq_queue_messages_unacked", "gauge", "Messages delivered but not yet acknowledged"},
      [](const broker::Queue& q) { return q.unacked_count(); });
  per_queue({"rabbitmq_queue_messages", "gauge", "Sum of ready and unacknowledged messages"},
            [](const broker::Queue& q) { return q.depth(); });
  per_queue({"rabbitmq_queue_messages_ready_bytes", "gauge", "Size in bytes of ready messages"},
            [](const broker::Queue& q) { return q.ready_bytes(); });
  per_queue({"rabbitmq_queue_consumers", "gauge", "Consumers on a queue"},
            [](const broker::Queue& q) { return q.consumer_count(); });
  per_queue(
      {"rabbitmq_queue_messages_published_total", "counter", "Messages enqueued into the queue"},
      [](const broker::Queue& q) { return q.stats().publish; });
  per_queue({"rabbitmq_queue_messages_delivered_total", "counter",
             "Messages delivered to consumers or fetched with basic.get"},
            [](const broker::Queue& q) {
              const auto& s = q.stats();
              return s.deliver + s.deliver_no_ack + s.get + s.get_no_ack;
            });
  per_queue({"rabbitmq_queue_messages_redelivered_total", "counter",
             "Messages delivered again after a requeue"},
            [](const broker::Queue& q) { return q.stats().redeliver; });
  per_queue({"rabbitmq_queue_messages_acked_total", "counter", "Messages acknowledged"},
            [](const broker::Queue& q) { return q.stats().ack; });

  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body.assign(out.data(), out.size());
  return r;
}

}  // namespace

std::uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

void add_metrics_routes(Router& router, broker::Broker& broker) {
  router.add(Verb::kGet, "/metrics", Access::kPublic,
             [&broker](Request&) { return metrics(broker); });
}

}  // namespace warren::admin
