#!/usr/bin/python3
"""Priority-queue paging, measured: publishes N persistent 1 KiB messages with priorities 0..9 to a
durable queue with x-max-priority 10 and no consumer (no confirms; it waits until the queue holds
them all), then drains it
(prefetch 1,000, ack multiple), checking that every message comes once, highest priority first,
oldest first within a priority. Samples the broker's RSS every 100 ms throughout.

  scripts/bench-priority-paging.py --pid PID [--port 5672] [--messages 300000] [--plain]

--plain runs the same against a queue without priorities, for comparison. pika is the client, so
the rates are the client's as much as the broker's; the point is the memory.
"""

import argparse
import threading
import time

import pika

BODY = b"x" * 1014  # with the 10-byte sequence header: 1 KiB


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--port", type=int, default=5672)
    ap.add_argument("--messages", type=int, default=300_000)
    ap.add_argument("--plain", action="store_true")
    args = ap.parse_args()

    peak = {"publish": 0.0, "drain": 0.0}
    phase = ["publish"]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[phase[0]] = max(peak[phase[0]], rss_mb(args.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    conn = pika.BlockingConnection(pika.ConnectionParameters(port=args.port))
    ch = conn.channel()
    queue = "bench-plain" if args.plain else "bench-priority"
    ch.queue_delete(queue)
    ch.queue_declare(queue, durable=True,
                     arguments={} if args.plain else {"x-max-priority": 10})
    start = time.monotonic()
    for n in range(args.messages):
        props = pika.BasicProperties(delivery_mode=2, priority=n % 10)
        ch.basic_publish("", queue, b"%010d" % n + BODY, properties=props)
    while ch.queue_declare(queue, passive=True).method.message_count < args.messages:
        time.sleep(0.05)
    publish_s = time.monotonic() - start
    idle_rss = rss_mb(args.pid)
    phase[0] = "drain"
    ch.basic_qos(prefetch_count=1000)
    expected = (sorted(range(args.messages), key=lambda n: (-(n % 10), n)) if not args.plain
                else list(range(args.messages)))
    got = []
    start = time.monotonic()
    for method, _, body in ch.consume(queue, inactivity_timeout=10):
        if method is None:
            break
        got.append(int(body[:10]))
        if len(got) % 1000 == 0 or len(got) == args.messages:
            ch.basic_ack(method.delivery_tag, multiple=True)
        if len(got) == args.messages:
            break
    drain_s = time.monotonic() - start
    ch.cancel()
    stop.set()
    sampler.join()
    conn.close()
    print("queue %s, %d messages" % ("plain" if args.plain else "x-max-priority 10", args.messages))
    print("publish %.0f msg/s, drain %.0f msg/s" % (args.messages / publish_s,
                                                    args.messages / drain_s))
    print("peak RSS publishing %.0f MB, after publishing %.0f MB, draining %.0f MB" %
          (peak["publish"], idle_rss, peak["drain"]))
    print("order: %s" % ("as expected" if got == expected else "WRONG (%d received)" % len(got)))


if __name__ == "__main__":
    main()
