#!/usr/bin/python3
"""Times the admin API with many queues (docs/API.md, "Performance").

Starts the release broker on ephemeral ports with a temp data dir (or uses --http/--amqp of a
running broker, e.g. RabbitMQ 3.10 with the management plugin), declares N queues in one vhost
with a message in every tenth, then times each request several times and prints the median and
the best, with the response size. Meanwhile a probe publishes with confirms, one message at a time,
on its own connection, and the last column gives the slowest confirm round trip that overlapped
the request's runs: how long the request held up the message path.

    scripts/bench-admin-listing.py [--queues 10000] [--runs 5]
    scripts/bench-admin-listing.py --amqp 127.0.0.1:5674 --http 127.0.0.1:15674   # another broker
"""

import argparse
import base64
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import pika

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

REQUESTS = [
    "/api/queues?page=1&page_size=100",
    "/api/queues?page=50&page_size=100&sort=name",
    "/api/queues?page=1&page_size=100&sort=message_stats.publish_details.rate&sort_reverse=true",
    "/api/queues?page=1&page_size=100&name=bench-0999&use_regex=true",
    "/api/queues?columns=name,messages",
    "/api/queues",
    "/metrics",
    "/api/overview",
    "/api/bindings",
    "/api/definitions",
]


def start_warren():
    binary = os.path.join(REPO, "build", "release", "broker", "warren")
    data = tempfile.mkdtemp(prefix="warren-listing-")
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--amqp-port", "0", "--http-port", "0",
                             "--metrics-port", "0", "--data-dir", os.path.join(data, "data"),
                             "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if line.startswith("warren ready"):
            fields = dict(f.split("=", 1) for f in line.split()[2:])
            return proc, data, fields["amqp"], fields["http"]
    raise SystemExit("warren did not start")


def declare(amqp, count):
    host, port = amqp.rsplit(":", 1)
    conn = pika.BlockingConnection(pika.ConnectionParameters(
        host, int(port), credentials=pika.PlainCredentials("guest", "guest")))
    ch = conn.channel()
    for i in range(count):
        name = "bench-%04d" % i
        ch.queue_declare(name)
        if i % 10 == 0:
            ch.basic_publish("", name, b"x" * 100)
    conn.close()


class ConfirmProbe(threading.Thread):
    """Publishes with confirms back to back; remembers (start, end) of each round trip."""

    def __init__(self, amqp):
        super().__init__(daemon=True)
        host, port = amqp.rsplit(":", 1)
        self.conn = pika.BlockingConnection(pika.ConnectionParameters(
            host, int(port), credentials=pika.PlainCredentials("guest", "guest")))
        self.ch = self.conn.channel()
        self.ch.queue_declare("listing-probe", arguments={"x-max-length": 1})
        self.ch.confirm_delivery()
        self.trips = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            start = time.perf_counter()
            self.ch.basic_publish("", "listing-probe", b"p")
            self.trips.append((start, time.perf_counter()))
            time.sleep(0.001)

    def worst_between(self, start, end):
        overlapping = [e - s for s, e in list(self.trips) if e >= start and s <= end]
        return max(overlapping) if overlapping else float("nan")

    def close(self):
        self.stop.set()
        self.join()
        self.conn.close()


def timed_get(address, path):
    host, port = address.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=300)
    auth = base64.b64encode(b"guest:guest").decode()
    start = time.perf_counter()
    c.request("GET", path, headers={"authorization": "Basic " + auth})
    r = c.getresponse()
    body = r.read()
    elapsed = time.perf_counter() - start
    c.close()
    if r.status != 200:
        raise SystemExit("%s: HTTP %d %s" % (path, r.status, body[:200]))
    return elapsed, len(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--queues", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--amqp")
    ap.add_argument("--http")
    args = ap.parse_args()
    proc = data = None
    if args.http:
        amqp, http_addr = args.amqp, args.http
    else:
        proc, data, amqp, http_addr = start_warren()
    try:
        t0 = time.perf_counter()
        declare(amqp, args.queues)
        print("declared %d queues in %.1f s" % (args.queues, time.perf_counter() - t0))
        probe = ConfirmProbe(amqp)
        probe.start()
        time.sleep(1)
        idle_start = time.perf_counter()
        time.sleep(2)
        print("confirm round trip, idle: worst %.1f ms" %
              (probe.worst_between(idle_start, time.perf_counter()) * 1000))
        print("| request | median | best | response | worst confirm round trip meanwhile |")
        print("|---|---|---|---|---|")
        for path in REQUESTS:
            times, size = [], 0
            window_start = time.perf_counter()
            for _ in range(args.runs):
                elapsed, size = timed_get(http_addr, path)
                times.append(elapsed)
            worst = probe.worst_between(window_start, time.perf_counter())
            print("| `GET %s` | %.3f s | %.3f s | %s | %.1f ms |" % (
                path, statistics.median(times), min(times),
                "%.1f MB" % (size / 1e6) if size > 1e6 else "%d KB" % (size // 1000),
                worst * 1000))
            sys.stdout.flush()
        probe.close()
    finally:
        if proc:
            proc.terminate()
            proc.wait()
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
