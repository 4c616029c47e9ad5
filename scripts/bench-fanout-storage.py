#!/usr/bin/env python3
"""Measures what storing a fanout message once per durable queue costs (docs/BENCHMARKS.md).

Publishes N persistent messages of SIZE bytes (no confirms; a round trip every 500) through a
fanout exchange bound to Q durable queues with no consumers, and reports the broker's bytes written
to disk per message (/proc/PID/io write_bytes, so WAL, flushes and compactions included) and the
accepted publish rate. Run it with Q=1 and Q=8 against the same broker to see the per-queue cost.

    scripts/bench-fanout-storage.py AMQP_PORT BROKER_PID QUEUES [N] [SIZE]
"""

import sys
import time

import pika


def write_bytes(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    raise RuntimeError("no write_bytes for pid %d" % pid)


def main():
    port, pid, queues = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    size = int(sys.argv[5]) if len(sys.argv) > 5 else 1024
    c = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", port))
    ch = c.channel()
    x = "bench-fanout-%d" % queues
    ch.exchange_declare(x, "fanout", durable=True)
    names = ["%s-q%d" % (x, i) for i in range(queues)]
    for q in names:
        ch.queue_declare(q, durable=True)
        ch.queue_purge(q)
        ch.queue_bind(q, x)
    body = bytes(range(256)) * (size // 256) + bytes(size % 256)  # not compressible to nothing
    props = pika.BasicProperties(delivery_mode=2)
    time.sleep(1)
    before = write_bytes(pid)
    t0 = time.monotonic()
    for i in range(n):
        ch.basic_publish(x, "", body, props)
        if i % 500 == 499:
            ch.queue_declare(names[0], passive=True)  # a round trip: earlier publishes handled
    ch.queue_declare(names[0], passive=True)
    elapsed = time.monotonic() - t0
    time.sleep(2)  # let the last batch and memtable activity land
    written = write_bytes(pid) - before
    depth = ch.queue_declare(names[-1], passive=True).method.message_count
    for q in names:
        ch.queue_delete(q)
    ch.exchange_delete(x)
    c.close()
    print("queues=%d messages=%d size=%d depth=%d publish_rate=%.0f msg/s "
          "disk_written_per_message=%.0f B (%.2f x body per queue)" % (
              queues, n, size, depth, n / elapsed, written / n, written / n / size / queues))


if __name__ == "__main__":
    main()
