#!/usr/bin/python3
"""Times the admin API with many queues (docs/API.md, "Performance").

Starts the release broker on ephemeral ports with a temp data dir (or uses --http/--amqp of a
running broker, e.g. RabbitMQ 3.10 with the management plugin), declares N queues in one vhost
with a message in every tenth, then times each request several times and prints the median and
the best, with the response size.

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
        print("| request | median | best | response |")
        print("|---|---|---|---|")
        for path in REQUESTS:
            times, size = [], 0
            for _ in range(args.runs):
                elapsed, size = timed_get(http_addr, path)
                times.append(elapsed)
            print("| `GET %s` | %.3f s | %.3f s | %s |" % (
                path, statistics.median(times), min(times),
                "%.1f MB" % (size / 1e6) if size > 1e6 else "%d KB" % (size // 1000)))
            sys.stdout.flush()
    finally:
        if proc:
            proc.terminate()
            proc.wait()
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
