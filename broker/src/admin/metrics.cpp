// GET /metrics: Prometheus text format (version 0.0.4). Names follow
// rabbitmq_prometheus where the meaning is the same; per-queue series carry
// vhost and queue labels (as its per-object mode). Counters are cumulative;
// Prometheus derives the rates. One pass over the queues, no JSON, so a
// scrape of 10,000 queues stays cheap. Unauthenticated, as rabbitmq_prometheus.

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "admin/handlers.hpp"
#include "broker.hpp"
#include "channel.hpp"
#include "connection.hpp"
#include "message.hpp"
#include "persister.hpp"
#include "queue.hpp"
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

// Sum of the regular files' sizes under `dir` (a few hundred RocksDB files;
// cheap next to the per-queue series).
std::uint64_t directory_bytes(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto i = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && i != std::filesystem::recursive_directory_iterator(); i.increment(ec)) {
    std::error_code size_ec;
    if (i->is_regular_file(size_ec)) {
      const auto size = i->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
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

// The data dir's size and free space, and how long storage writes take.
void storage_metrics(broker::Broker& broker, fmt::memory_buffer& out) {
  auto it = std::back_inserter(out);
  std::error_code ec;
  const auto space = std::filesystem::space(broker.config().data_dir, ec);
  if (!ec) {
    header(out, {"rabbitmq_disk_space_available_bytes", "gauge", "Disk space available in bytes"});
    fmt::format_to(it, "rabbitmq_disk_space_available_bytes {}\n", space.available);
  }
  header(out, {"rabbitmq_disk_space_available_limit_bytes", "gauge",
               "Free disk space low-watermark in bytes"});
  fmt::format_to(it, "rabbitmq_disk_space_available_limit_bytes {}\n",
                 broker.config().disk_free_limit);
  header(out, {"rabbitmq_alarms_free_disk_space_watermark", "gauge",
               "Is 1 if free disk space watermark alarm is in effect"});
  fmt::format_to(it, "rabbitmq_alarms_free_disk_space_watermark {}\n",
                 broker.storage_alarm() ? 1 : 0);
  header(out, {"warren_storage_bytes", "gauge", "Bytes in the data directory (RocksDB files)"});
  fmt::format_to(it, "warren_storage_bytes {}\n", directory_bytes(broker.config().data_dir));
  const broker::Persister* persister = broker.persister();
  if (persister == nullptr) return;
  const broker::WriteLatency& w = persister->write_latency();
  header(out, {"warren_storage_write_seconds", "histogram",
               "Time to write (and sync) one batch of storage operations"});
  for (std::size_t i = 0; i < w.kBucketSeconds.size(); ++i) {
    fmt::format_to(it, "warren_storage_write_seconds_bucket{{le=\"{}\"}} {}\n", w.kBucketSeconds[i],
                   w.at_most[i]);
  }
  fmt::format_to(it,
                 "warren_storage_write_seconds_bucket{{le=\"+Inf\"}} {}\n"
                 "warren_storage_write_seconds_sum {}\nwarren_storage_write_seconds_count {}\n",
                 w.count, w.sum_seconds, w.count);
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
      total.add_counters(q->stats());
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

  // As rabbitmq_prometheus 3.10+: dead-lettered messages by reason, with the
  // strategy label. Warren's dead-lettering is atomic with the removal from
  // the source queue (at least once); without a DLX the message is dropped
  // ("disabled").
  for (std::size_t i = 0; i < broker::kDeathReasonCount; ++i) {
    const auto reason = broker::death_reason_name(static_cast<broker::DeathReason>(i));
    const std::string name = fmt::format("rabbitmq_global_messages_dead_lettered_{}_total", reason);
    const std::string help =
        fmt::format("Total number of messages dead-lettered due to {}", reason);
    header(out, {name.c_str(), "counter", help.c_str()});
    fmt::format_to(
        it,
        "{}{{queue_type=\"rabbit_classic_queue\",dead_letter_strategy=\"at_least_once\"}} {}\n"
        "{}{{queue_type=\"rabbit_classic_queue\",dead_letter_strategy=\"disabled\"}} {}\n",
        name, total.dead_lettered[i], name, total.dropped[i]);
  }
  storage_metrics(broker, out);

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
  per_queue({"warren_queue_messages_dead_lettered_total", "counter",
             "Messages that died in the queue and went to its dead-letter exchange"},
            [](const broker::Queue& q) { return q.stats().dead_lettered_total(); });

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
