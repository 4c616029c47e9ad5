// GET /metrics: Prometheus text format (version 0.0.4). Names follow
// rabbitmq_prometheus where the meaning is the same; per-queue series carry
// vhost and queue labels (as its per-object mode). Counters are cumulative;
// Prometheus derives the rates. The broker thread only copies the numbers
// (one pass over the queues, no JSON); the text is written, and the data dir
// measured, off the broker thread (Response::finish_elsewhere), so a scrape
// of 10,000 queues stays cheap. Unauthenticated, as rabbitmq_prometheus.

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

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

// One queue's series, copied on the broker thread.
struct QueueSample {
  std::string vhost;
  std::string name;
  std::uint64_t ready = 0, unacked = 0, messages = 0, ready_bytes = 0, consumers = 0;
  std::uint64_t published = 0, delivered = 0, redelivered = 0, acked = 0, dead_lettered = 0;
};

// Everything a scrape reports, copied on the broker thread.
struct Snapshot {
  std::uint64_t connections = 0, channels = 0, queue_count = 0, consumers = 0;
  std::uint64_t resident = 0, memory_limit = 0, message_bytes = 0;
  bool memory_alarm = false, storage_alarm = false;
  std::string data_dir;
  std::uint64_t disk_free_limit = 0;
  std::optional<broker::WriteLatency> write_latency;
  broker::QueueStats total;
  std::vector<QueueSample> queues;
};

Snapshot take_snapshot(broker::Broker& broker) {
  Snapshot snap;
  for (const broker::Connection* c : broker.connections()) {
    ++snap.connections;
    for (const auto& ch : c->channels())
      snap.channels += ch != nullptr ? 1 : 0;
  }
  for (const auto& [vname, vhost] : broker.vhosts()) {
    for (const auto& [qname, q] : vhost->queues()) {
      ++snap.queue_count;
      snap.consumers += q->consumer_count();
      const broker::QueueStats& s = q->stats();
      snap.total.add_counters(s);
      snap.queues.push_back(QueueSample{
          vname, qname, q->ready_count(), q->unacked_count(), q->depth(), q->ready_bytes(),
          q->consumer_count(), s.publish, s.deliver + s.deliver_no_ack + s.get + s.get_no_ack,
          s.redeliver, s.ack, s.dead_lettered_total()});
    }
  }
  snap.resident = resident_bytes();
  snap.memory_limit = broker.memory_limit();
  snap.message_bytes = broker::message_bytes_in_use();
  snap.memory_alarm = broker.memory_alarm();
  snap.storage_alarm = broker.storage_alarm();
  snap.data_dir = broker.config().data_dir;
  snap.disk_free_limit = broker.config().disk_free_limit;
  if (const broker::Persister* persister = broker.persister()) {
    snap.write_latency = persister->write_latency();
  }
  return snap;
}

// The data dir's size and free space, and how long storage writes take.
void storage_metrics(const Snapshot& snap, fmt::memory_buffer& out) {
  auto it = std::back_inserter(out);
  std::error_code ec;
  const auto space = std::filesystem::space(snap.data_dir, ec);
  if (!ec) {
    header(out, {"rabbitmq_disk_space_available_bytes", "gauge", "Disk space available in bytes"});
    fmt::format_to(it, "rabbitmq_disk_space_available_bytes {}\n", space.available);
  }
  header(out, {"rabbitmq_disk_space_available_limit_bytes", "gauge",
               "Free disk space low-watermark in bytes"});
  fmt::format_to(it, "rabbitmq_disk_space_available_limit_bytes {}\n", snap.disk_free_limit);
  header(out, {"rabbitmq_alarms_free_disk_space_watermark", "gauge",
               "Is 1 if free disk space watermark alarm is in effect"});
  fmt::format_to(it, "rabbitmq_alarms_free_disk_space_watermark {}\n", snap.storage_alarm ? 1 : 0);
  header(out, {"warren_storage_bytes", "gauge", "Bytes in the data directory (RocksDB files)"});
  fmt::format_to(it, "warren_storage_bytes {}\n", directory_bytes(snap.data_dir));
  if (!snap.write_latency) return;
  const broker::WriteLatency& w = *snap.write_latency;
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

// Runs off the broker thread: only `snap` is read.
Response format_metrics(const Snapshot& snap) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  const broker::QueueStats& total = snap.total;
  auto gauge = [&](const Family& f, std::uint64_t v) {
    header(out, f);
    fmt::format_to(it, "{} {}\n", f.name, v);
  };
  gauge({"rabbitmq_connections", "gauge", "Connections currently open"}, snap.connections);
  gauge({"rabbitmq_channels", "gauge", "Channels currently open"}, snap.channels);
  gauge({"rabbitmq_consumers", "gauge", "Consumers currently connected"}, snap.consumers);
  gauge({"rabbitmq_queues", "gauge", "Queues available"}, snap.queue_count);
  gauge({"rabbitmq_process_resident_memory_bytes", "gauge", "Memory used in bytes"}, snap.resident);
  gauge({"rabbitmq_resident_memory_limit_bytes", "gauge",
         "Memory high watermark in bytes (publishers block above it)"},
        snap.memory_limit);
  gauge({"warren_message_bytes", "gauge", "Bytes held by messages (what the memory alarm counts)"},
        snap.message_bytes);
  gauge({"rabbitmq_alarms_memory_used_watermark", "gauge",
         "Is 1 if VM memory watermark alarm is in effect"},
        snap.memory_alarm ? 1 : 0);
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
  storage_metrics(snap, out);

  std::vector<std::string> labels;
  labels.reserve(snap.queues.size());
  for (const QueueSample& q : snap.queues) {
    labels.push_back(
        fmt::format("vhost=\"{}\",queue=\"{}\"", escape_label(q.vhost), escape_label(q.name)));
  }
  auto per_queue = [&](const Family& f, std::uint64_t QueueSample::*value) {
    header(out, f);
    for (std::size_t i = 0; i < snap.queues.size(); ++i)
      fmt::format_to(it, "{}{{{}}} {}\n", f.name, labels[i], snap.queues[i].*value);
  };
  per_queue({"rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered"},
            &QueueSample::ready);
  per_queue(
      {"rabbitmq_queue_messages_unacked", "gauge", "Messages delivered but not yet acknowledged"},
      &QueueSample::unacked);
  per_queue({"rabbitmq_queue_messages", "gauge", "Sum of ready and unacknowledged messages"},
            &QueueSample::messages);
  per_queue({"rabbitmq_queue_messages_ready_bytes", "gauge", "Size in bytes of ready messages"},
            &QueueSample::ready_bytes);
  per_queue({"rabbitmq_queue_consumers", "gauge", "Consumers on a queue"}, &QueueSample::consumers);
  per_queue(
      {"rabbitmq_queue_messages_published_total", "counter", "Messages enqueued into the queue"},
      &QueueSample::published);
  per_queue({"rabbitmq_queue_messages_delivered_total", "counter",
             "Messages delivered to consumers or fetched with basic.get"},
            &QueueSample::delivered);
  per_queue({"rabbitmq_queue_messages_redelivered_total", "counter",
             "Messages delivered again after a requeue"},
            &QueueSample::redelivered);
  per_queue({"rabbitmq_queue_messages_acked_total", "counter", "Messages acknowledged"},
            &QueueSample::acked);
  per_queue({"warren_queue_messages_dead_lettered_total", "counter",
             "Messages that died in the queue and went to its dead-letter exchange"},
            &QueueSample::dead_lettered);

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
  router.add(Verb::kGet, "/metrics", Access::kPublic, [&broker](Request&) {
    return finish_elsewhere([snap = take_snapshot(broker)]() { return format_metrics(snap); });
  });
}

}  // namespace warren::admin
