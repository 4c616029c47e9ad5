#!/usr/bin/python3
"""Retry waits at scale, measured: N persistent messages of a durable queue waiting to be retried
(x-delayed-retry-type all, x-delayed-retry-min 1 h, so none comes due during the run), and what
they cost in memory, at start-up and in the lateness of other retries.

  scripts/bench-retry-waits.py [--binary build/release/broker/warren] [--old-binary OLD]
                               [--count 1000000] [--body-size 256] [--restarts 3]
                               [--lateness-messages 5000] [--lateness-rate 1000] [--malloc-trim]
  scripts/bench-retry-waits.py --scan 100000,250000,... [--binary ...] [--old-binary OLD]

For each binary (the new one, then --old-binary if given, back to back), on a fresh data dir:
  1. publishes N persistent messages (a raw AMQP publisher, no confirms, so that pika's 6k msg/s
     is not the limit), consumes them all (prefetch 2,000, raw frames) and nacks every 2,000 with
     multiple and requeue, so all N wait; checks through the admin API that messages_waiting is N
     and messages_ready 0. Records the time to create the waits, the broker's RSS
     (/proc/PID/status VmRSS) with them pending and its peak meanwhile, and messages_waiting_ram.
     With --malloc-trim, also the RSS after malloc_trim(0) is called in the broker through gdb:
     RSS keeps the high-water mark of the unconfirmed publishing flood, which is not what the
     waits cost.
  2. stops the broker with SIGTERM and starts it again on the same data dir: once (the first
     start-up after the waits were made, which replays the write-ahead log), then --restarts more
     times; then kills it with SIGKILL and starts it again, --restarts times. Records each
     start-up time (process start to the `warren ready` line), the peak RSS during start-up, the
     RSS at the ready line and --settle (5) s later, and messages_waiting / messages_waiting_ram.
  3. on the last broker (N waits still pending), declares a second durable queue with
     x-delayed-retry-min = -max = 2000 ms, publishes --lateness-messages persistent messages,
     rejects each once with requeue (pika), paced at --lateness-rate a second so that the
     redeliveries never queue up in the client, and records for each redelivery
     arrival - (reject time + 2 s), the reject time taken just before the reject is sent, so a
     negative value is a genuinely early delivery. (Unpaced, pika's ~5k msg/s is the limit and
     the figure measures the client's backlog.)
  4. (unless --no-kill-first) makes the N waits again on a second fresh data dir and kills the
     broker with SIGKILL at once: the first start-up after a crash, with everything to replay.
Prints the tables at the end (markdown); "a / b" in the first table: the two data sets.

--scan N1,N2,... does only this instead, for each binary and N: the waits made on a fresh data
dir, a clean stop, then three start-ups, with the size of the write-ahead log left at the stop
(does a start-up time grow with N?).

The binaries are copied to the working dir first (a build may relink them meanwhile). The old
broker has no messages_waiting_ram; it shows as "-". The whole default run (N = 1M, both
binaries) takes about 5 minutes on a 2-core VM.
"""

import argparse
import atexit
import base64
import collections
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pika
import pika.frame
import pika.spec

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAIT_QUEUE = "bench-retry-waits"
LATE_QUEUE = "bench-retry-lateness"
HOUR_MS = 3_600_000
STARTED = []  # every broker this script started: killed at exit if still running


@atexit.register
def kill_leftovers():
    for proc in STARTED:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def du_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total / (1 << 20)


def copy_binary(src, dst):
    """Copies the broker binary, retrying while it is being relinked."""
    for _ in range(120):
        try:
            shutil.copy2(src, dst)
            return dst
        except (FileNotFoundError, OSError):
            time.sleep(1)
    sys.exit("cannot copy %s" % src)


class Broker:
    """A warren process on a data dir: start-up time to the ready line, peak RSS meanwhile."""

    def __init__(self, binary, data_dir, log_path, extra_args=(), ready_timeout=900):
        self.log = open(log_path, "ab")
        args = [binary, "--data-dir", data_dir, "--amqp-port", "0", "--http-port", "0",
                "--metrics-port", "0", "--bind", "127.0.0.1", *extra_args]
        peak = [0.0]
        ready = threading.Event()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log)
        STARTED.append(self.proc)
        self.pid = self.proc.pid

        def sample():
            while not ready.is_set() and self.proc.poll() is None:
                peak[0] = max(peak[0], rss_mb(self.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        line = b""
        deadline = t0 + ready_timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line or line.startswith(b"warren ready"):
                break
        self.startup_s = time.monotonic() - t0
        ready.set()
        sampler.join()
        self.rss_ready = rss_mb(self.pid)
        self.peak_startup = max(peak[0], self.rss_ready)
        if not line.startswith(b"warren ready"):
            self.proc.kill()
            sys.exit("broker did not become ready (see %s)" % log_path)
        words = dict(w.split("=", 1) for w in line.decode().split()[2:])
        self.amqp_port = int(words["amqp"].rsplit(":", 1)[1])
        self.http_port = int(words["http"].rsplit(":", 1)[1])
        # Keep draining stdout so the broker never blocks on it.
        threading.Thread(target=shutil.copyfileobj, args=(self.proc.stdout, self.log),
                         daemon=True).start()

    def queue(self, name):
        req = urllib.request.Request(
            "http://127.0.0.1:%d/api/queues/%%2F/%s" % (self.http_port, name),
            headers={"Authorization": "Basic " + base64.b64encode(b"guest:guest").decode()})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)

    def stop(self, sig=signal.SIGTERM, timeout=600):
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            print("  broker did not stop within %d s of signal %d; killed" % (timeout, sig))
        return time.monotonic() - t0


class RawAmqp:
    """Just enough AMQP 0-9-1 on a socket to publish and consume without pika's per-message cost."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.sock.sendall(b"AMQP\x00\x00\x09\x01")
        self.expect(pika.spec.Connection.Start)
        self.send(0, pika.spec.Connection.StartOk(client_properties={"product": "bench"},
                                                   mechanism="PLAIN",
                                                   response="\0guest\0guest", locale="en_US"))
        tune = self.expect(pika.spec.Connection.Tune)
        self.send(0, pika.spec.Connection.TuneOk(channel_max=tune.channel_max,
                                                 frame_max=tune.frame_max, heartbeat=0))
        self.send(0, pika.spec.Connection.Open(virtual_host="/"))
        self.expect(pika.spec.Connection.OpenOk)
        self.send(1, pika.spec.Channel.Open())
        self.expect(pika.spec.Channel.OpenOk)

    def send(self, channel, method):
        self.sock.sendall(pika.frame.Method(channel, method).marshal())

    def expect(self, cls):
        while True:
            consumed, frame = pika.frame.decode_frame(bytes(self.buf))
            if frame is not None:
                del self.buf[:consumed]
                if isinstance(frame, pika.frame.Method):
                    if not isinstance(frame.method, cls):
                        raise RuntimeError("expected %s, got %r" % (cls.NAME, frame.method))
                    return frame.method
                continue
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("connection closed while waiting for %s" % cls.NAME)
            self.buf += data

    def publish(self, queue, count, body_size, batch=1000):
        method = pika.frame.Method(1, pika.spec.Basic.Publish(exchange="", routing_key=queue))
        header = pika.frame.Header(1, body_size, pika.spec.BasicProperties(delivery_mode=2))
        prefix = method.marshal() + header.marshal() + struct.pack(">BHI", 3, 1, body_size)
        pad = b"x" * (body_size - 10)
        for start in range(0, count, batch):
            self.sock.sendall(b"".join(prefix + b"%010d" % n + pad + b"\xce"
                                       for n in range(start, min(start + batch, count))))

    def consume_and_nack(self, queue, count, prefetch):
        """Consumes `count` deliveries, nacking (multiple, requeue) every `prefetch`."""
        self.send(1, pika.spec.Basic.Qos(prefetch_count=prefetch))
        self.expect(pika.spec.Basic.QosOk)
        self.send(1, pika.spec.Basic.Consume(queue=queue, consumer_tag="c"))
        self.expect(pika.spec.Basic.ConsumeOk)
        buf, got, since_nack, unpack = self.buf, 0, 0, struct.unpack_from
        while got < count:
            data = self.sock.recv(1 << 20)
            if not data:
                raise RuntimeError("connection closed after %d deliveries" % got)
            buf += data
            o, end, last_tag = 0, len(buf), None
            while end - o >= 8:
                size = unpack(">I", buf, o + 3)[0]
                if end - o < size + 8:
                    break
                if buf[o] == 1:
                    cls, meth = unpack(">HH", buf, o + 7)
                    if cls == 60 and meth == 60:
                        last_tag = unpack(">Q", buf, o + 12 + buf[o + 11])[0]
                        got += 1
                        since_nack += 1
                        if since_nack == prefetch or got == count:
                            self.send(1, pika.spec.Basic.Nack(delivery_tag=last_tag,
                                                              multiple=True, requeue=True))
                            since_nack = 0
                    elif cls != 60:
                        raise RuntimeError("unexpected method %d.%d" % (cls, meth))
                o += size + 8
            del buf[:o]
        self.send(1, pika.spec.Basic.Cancel(consumer_tag="c"))

    def close(self):
        try:
            self.send(0, pika.spec.Connection.Close(reply_code=200, reply_text="bye",
                                                    class_id=0, method_id=0))
            self.sock.settimeout(10)
            while self.sock.recv(65536):
                pass
        except (OSError, RuntimeError):
            pass
        self.sock.close()


def wait_for(broker, name, pred, timeout):
    deadline = time.monotonic() + timeout
    q = broker.queue(name)
    while not pred(q):
        if time.monotonic() > deadline:
            return q, False
        time.sleep(0.25)
        q = broker.queue(name)
    return q, True


def create_waits(broker, n, body_size, prefetch, timeout):
    conn = pika.BlockingConnection(pika.ConnectionParameters(port=broker.amqp_port))
    ch = conn.channel()
    ch.queue_declare(WAIT_QUEUE, durable=True,
                     arguments={"x-delayed-retry-type": "all", "x-delayed-retry-min": HOUR_MS})
    conn.close()
    raw = RawAmqp(broker.amqp_port)
    t0 = time.monotonic()
    raw.publish(WAIT_QUEUE, n, body_size)
    q, ok = wait_for(broker, WAIT_QUEUE, lambda q: q.get("messages_ready", 0) >= n, timeout)
    publish_s = time.monotonic() - t0
    if not ok:
        sys.exit("only %s of %d messages arrived" % (q.get("messages_ready"), n))
    t1 = time.monotonic()
    raw.consume_and_nack(WAIT_QUEUE, n, prefetch)
    q, ok = wait_for(broker, WAIT_QUEUE,
                     lambda q: q.get("messages_waiting") == n and q.get("messages_ready") == 0
                     and q.get("messages_unacknowledged") == 0, timeout)
    wait_s = time.monotonic() - t1
    raw.close()
    if not ok:
        sys.exit("waits not all created: %s" % {k: q.get(k) for k in (
            "messages", "messages_ready", "messages_unacknowledged", "messages_waiting")})
    return publish_s, wait_s, q


def lateness(broker, count, delay_ms, rate, timeout):
    """Rejects `count` messages once each, `rate` a second (0: as fast as they come), and
    returns the lateness of their redeliveries: arrival - (reject + delay_ms)."""
    conn = pika.BlockingConnection(pika.ConnectionParameters(port=broker.amqp_port))
    ch = conn.channel()
    ch.queue_delete(LATE_QUEUE)
    ch.queue_declare(LATE_QUEUE, durable=True,
                     arguments={"x-delayed-retry-type": "all", "x-delayed-retry-min": delay_ms,
                                "x-delayed-retry-max": delay_ms})
    props = pika.BasicProperties(delivery_mode=2)
    for n in range(count):
        ch.basic_publish("", LATE_QUEUE, b"%010d" % n, properties=props)
    ch.basic_qos(prefetch_count=1000)
    rejected, late, held = {}, [], collections.deque()
    interval = 1.0 / rate if rate else 0.0
    start = time.monotonic()
    next_reject, deadline = start, start + timeout
    for method, _, body in ch.consume(LATE_QUEUE, inactivity_timeout=0.001 if rate else 1):
        now = time.monotonic()
        if method is not None:
            n = int(body)
            if n in rejected:
                late.append((now - rejected[n]) * 1000 - delay_ms)
                ch.basic_ack(method.delivery_tag)
            else:
                held.append((method.delivery_tag, n))
        while held and time.monotonic() >= next_reject:
            tag, n = held.popleft()
            rejected[n] = time.monotonic()  # before the reject is sent: never too early
            ch.basic_reject(tag, requeue=True)
            next_reject += interval
        if len(late) >= count or now > deadline:
            break
    span = time.monotonic() - start
    ch.cancel()
    ch.queue_delete(LATE_QUEUE)
    conn.close()
    late.sort()

    def pct(p):
        return late[min(len(late) - 1, int(p / 100 * len(late)))] if late else float("nan")

    return {"messages": count, "rate": rate, "span_s": span, "received": len(late),
            "p50": pct(50), "p99": pct(99),
            "p99.9": pct(99.9), "max": late[-1] if late else float("nan"),
            "early": sum(1 for x in late if x < 0), "early_1ms": sum(1 for x in late if x < -1),
            "min": late[0] if late else float("nan")}


def restart_cycle(binary, data_dir, log, extra, sig, previous, n, settle_s):
    stop_s = previous.stop(sig)
    b = Broker(binary, data_dir, log, extra)
    q = b.queue(WAIT_QUEUE)
    time.sleep(settle_s)
    r = {"signal": "TERM" if sig == signal.SIGTERM else "KILL", "stop_s": stop_s,
         "startup_s": b.startup_s, "peak_startup_mb": b.peak_startup, "rss_ready_mb": b.rss_ready,
         "rss_settled_mb": rss_mb(b.pid), "waiting": q.get("messages_waiting"),
         "waiting_ram": q.get("messages_waiting_ram"), "ready": q.get("messages_ready")}
    q2 = b.queue(WAIT_QUEUE)
    r["waiting_ram_settled"] = q2.get("messages_waiting_ram")
    print("  %-4s stop %6.2f s  start-up %6.2f s  RSS peak %6.0f / ready %6.0f / +%gs %6.0f MB  "
          "waiting %s (ram %s -> %s) ready %s" % (
              r["signal"], stop_s, b.startup_s, b.peak_startup, b.rss_ready, settle_s,
              r["rss_settled_mb"], r["waiting"], fmt(r["waiting_ram"], "%s"),
              fmt(r["waiting_ram_settled"], "%s"), r["ready"]), flush=True)
    if r["waiting"] != n or r["ready"] != 0:
        print("  !! expected %d waiting and 0 ready after restart" % n)
    return b, r


def malloc_trim(pid):
    """Asks the broker's allocator to return its free memory (gdb), so that the RSS after it
    counts what is live rather than the high-water mark of the publishing phase."""
    try:
        subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "call (int)malloc_trim(0)"],
                       capture_output=True, timeout=120, check=True)
    except (OSError, subprocess.SubprocessError) as e:
        print("  malloc_trim through gdb failed: %s" % e)
        return None
    time.sleep(1)
    return rss_mb(pid)


def create_phase(label, binary, n, args, data_dir, log, extra):
    shutil.rmtree(data_dir, ignore_errors=True)
    b = Broker(binary, data_dir, log, extra)
    res = {"rss_idle_mb": rss_mb(b.pid)}
    peak, done = [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(b.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    publish_s, wait_s, q = create_waits(b, n, args.body_size, args.prefetch, args.timeout)
    time.sleep(args.settle)
    done.set()
    sampler.join()
    q = b.queue(WAIT_QUEUE)
    res.update(publish_s=publish_s, create_waits_s=wait_s, rss_pending_mb=rss_mb(b.pid),
               peak_creating_mb=peak[0], waiting=q.get("messages_waiting"),
               waiting_ram=q.get("messages_waiting_ram"), data_mb=du_mb(data_dir))
    res["rss_trimmed_mb"] = malloc_trim(b.pid) if args.malloc_trim else None
    print("  published %d in %.1f s (%.0f msg/s); waits created in %.1f s (%.0f msg/s)" % (
        n, publish_s, n / publish_s, wait_s, n / wait_s))
    print("  with N pending: RSS %.0f MB (peak while creating %.0f MB, idle before %.0f MB, "
          "after malloc_trim %s MB), waiting %s, ram %s, data dir %.0f MB" % (
              res["rss_pending_mb"], res["peak_creating_mb"], res["rss_idle_mb"],
              fmt(res["rss_trimmed_mb"]), res["waiting"], fmt(res["waiting_ram"], "%s"),
              res["data_mb"]), flush=True)
    return b, res


def run(label, binary, n, args, tmp, extra):
    print("== %s (%s), N = %d, %d-byte bodies" % (label, binary, n, args.body_size), flush=True)
    log = os.path.join(tmp, "warren-%s.log" % label)
    # Data set 1: the first stop after the waits were made is clean, then --restarts clean
    # restarts and --restarts kills; the lateness run on the last broker.
    data_dir = os.path.join(tmp, "data-" + label)
    b, res = create_phase(label, binary, n, args, data_dir, log, extra)
    res.update(label=label, n=n)
    cycles = []
    for sig in [signal.SIGTERM] * (1 + args.restarts) + [signal.SIGKILL] * args.restarts:
        b, r = restart_cycle(binary, data_dir, log, extra, sig, b, n, args.settle)
        cycles.append(r)
    res["first_term"], res["cycles"] = cycles[0], cycles[1:]
    if args.lateness_messages:
        res["lateness"] = lt = lateness(b, args.lateness_messages, 2000, args.lateness_rate,
                                        args.timeout)
        print("  lateness of %d retries (2 s, rejected %s/s), %d received, N pending: p50 %.2f  "
              "p99 %.2f  p99.9 %.2f  max %.2f ms, min %.2f ms, early %d (by more than 1 ms: %d)"
              % (lt["messages"], fmt(lt["rate"]) if lt["rate"] else "max", lt["received"],
                 lt["p50"], lt["p99"], lt["p99.9"], lt["max"], lt["min"], lt["early"],
                 lt["early_1ms"]), flush=True)
    q = b.queue(WAIT_QUEUE)
    if q.get("messages_waiting") != n:
        print("  !! after the lateness run: %s waiting" % q.get("messages_waiting"))
    b.stop()
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    # Data set 2: the first stop after the waits were made is a kill -9.
    if args.kill_first:
        data_dir = os.path.join(tmp, "data-%s-kill" % label)
        b, again = create_phase(label, binary, n, args, data_dir, log, extra)
        res["again"] = again
        b, res["first_kill"] = restart_cycle(binary, data_dir, log, extra, signal.SIGKILL, b, n,
                                             args.settle)
        b.stop()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return res


def scan(label, binary, counts, args, tmp):
    """Start-up time against N: for each N, the waits made on a fresh data dir, a clean stop,
    then three start-ups (the first replays the write-ahead log)."""
    log = os.path.join(tmp, "warren-%s-scan.log" % label)
    data_dir = os.path.join(tmp, "data-%s-scan" % label)
    rows = []
    for n in counts:
        shutil.rmtree(data_dir, ignore_errors=True)
        b = Broker(binary, data_dir, log)
        _, wait_s, _ = create_waits(b, n, args.body_size, args.prefetch, args.timeout)
        time.sleep(args.settle)
        b.stop()
        rocks = os.path.join(data_dir, "rocksdb")
        wal = sum(os.path.getsize(os.path.join(rocks, f)) for f in os.listdir(rocks)
                  if f.endswith(".log")) / (1 << 20)
        starts, rss = [], []
        for _ in range(3):
            b = Broker(binary, data_dir, log)
            starts.append(b.startup_s)
            time.sleep(args.settle)
            rss.append(rss_mb(b.pid))
            if b.queue(WAIT_QUEUE).get("messages_waiting") != n:
                print("  !! %s waiting after restart, expected %d" % (
                    b.queue(WAIT_QUEUE).get("messages_waiting"), n))
            b.stop()
        rows.append((label, n, wait_s, wal, starts, rss))
        print("  %s N %d: waits made in %.1f s; write-ahead log at the stop %.0f MB; start-ups "
              "%s s; RSS +%g s %s MB" % (label, n, wait_s, wal,
                                          " / ".join("%.2f" % x for x in starts), args.settle,
                                          " / ".join("%.0f" % x for x in rss)), flush=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    return rows


def fmt(x, spec="%.0f"):
    return "-" if x is None else spec % x


def table(results, settle):
    med = statistics.median
    print()
    print("| binary | N | publish | create waits | peak RSS while creating | RSS with N pending "
          "| same, after malloc_trim | messages_waiting_ram | data dir |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        sets = [r] + ([r["again"]] if r.get("again") else [])

        def each(key, spec="%.0f"):
            return " / ".join(fmt(x.get(key), spec) for x in sets)

        print("| %s | %s | %s s | %s s | %s MB | %s MB | %s MB | %s | %s MB |" % (
            r["label"], "{:,}".format(r["n"]), each("publish_s", "%.1f"),
            each("create_waits_s", "%.1f"), each("peak_creating_mb"), each("rss_pending_mb"),
            each("rss_trimmed_mb"), fmt(r["waiting_ram"], "%s"), each("data_mb")))
    print()
    print("| binary | N | first start-up after the waits: clean stop / kill -9 | later start-ups, "
          "clean (median; runs) | later start-ups, kill -9 (median; runs) | "
          "peak RSS in a start-up | RSS %g s after start-up (first / later, median) | "
          "waiting / waiting_ram after restarts |" % settle)
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        term = [c for c in r["cycles"] if c["signal"] == "TERM"]
        kill = [c for c in r["cycles"] if c["signal"] == "KILL"]
        firsts = [r["first_term"]] + ([r["first_kill"]] if "first_kill" in r else [])
        every = firsts + r["cycles"]
        print("| %s | %s | %s | %.2f s (%s) | %.2f s (%s) | %s MB | %s / %s MB | %s |" % (
            r["label"], "{:,}".format(r["n"]),
            " / ".join("%.2f s" % c["startup_s"] for c in firsts),
            med(c["startup_s"] for c in term), " / ".join("%.2f" % c["startup_s"] for c in term),
            med(c["startup_s"] for c in kill), " / ".join("%.2f" % c["startup_s"] for c in kill),
            fmt(max(c["peak_startup_mb"] for c in every)),
            " / ".join(fmt(c["rss_settled_mb"]) for c in firsts),
            fmt(med(c["rss_settled_mb"] for c in r["cycles"])),
            ", ".join(sorted({"%s / %s" % (c["waiting"], fmt(c["waiting_ram_settled"], "%s"))
                              for c in every}))))
    if any(r.get("lateness") for r in results):
        print()
        print("| binary | N pending | retries | reject rate | lateness p50 / p99 / p99.9 / max | "
              "min | early (< 0) | early by > 1 ms |")
        print("|---|---|---|---|---|---|---|---|")
        for r in results:
            lt = r.get("lateness")
            if lt:
                print("| %s | %s | %d | %s/s | %.1f / %.1f / %.1f / %.1f ms | %.2f ms | %d | %d |"
                      % (
                    r["label"], "{:,}".format(r["n"]), lt["received"],
                    fmt(lt["rate"]) if lt["rate"] else "max", lt["p50"], lt["p99"], lt["p99.9"],
                    lt["max"], lt["min"], lt["early"], lt["early_1ms"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(REPO, "build/release/broker/warren"))
    ap.add_argument("--old-binary", help="a build of the previous commit, for comparison")
    ap.add_argument("--count", type=int, default=1_000_000, help="waiting messages (N)")
    ap.add_argument("--body-size", type=int, default=256)
    ap.add_argument("--prefetch", type=int, default=2000)
    ap.add_argument("--restarts", type=int, default=3,
                    help="after the first clean restart: this many clean restarts, "
                         "then as many kills")
    ap.add_argument("--no-kill-first", dest="kill_first", action="store_false",
                    help="skip the second data set (waits made again, then kill -9 at once)")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds before the settled RSS")
    ap.add_argument("--lateness-messages", type=int, default=5000)
    ap.add_argument("--lateness-rate", type=float, default=1000.0,
                    help="rejects per second in the lateness run (0: as fast as pika goes)")
    ap.add_argument("--timeout", type=float, default=600.0, help="per phase, seconds")
    ap.add_argument("--scan", metavar="N1,N2,...",
                    help="instead of the above: start-up times against N (waits made, clean stop, "
                         "three start-ups) for each N")
    ap.add_argument("--malloc-trim", action="store_true",
                    help="after making the waits, call malloc_trim(0) in the broker through gdb "
                         "and report the RSS after it too (what is live)")
    ap.add_argument("--tmp", help="working dir (default: a new one in /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the data dirs")
    ap.add_argument("--json", help="write the raw results here")
    args = ap.parse_args()
    if args.restarts < 1:
        sys.exit("--restarts must be at least 1")
    if args.body_size < 10:
        sys.exit("--body-size must be at least 10 (the index is in the body)")
    tmp = args.tmp or tempfile.mkdtemp(prefix="bench-retry-waits-")
    os.makedirs(tmp, exist_ok=True)
    print("working dir %s; load average %s" % (tmp, loadavg()))
    runs = [("new", copy_binary(args.binary, os.path.join(tmp, "warren-new")), [])]
    if args.old_binary:
        runs.append(("old", copy_binary(args.old_binary, os.path.join(tmp, "warren-old")), []))
    if args.scan:
        rows = []
        for label, binary, _ in runs:
            rows += scan(label, binary, [int(x) for x in args.scan.split(",")], args, tmp)
        print()
        print("| binary | N | write-ahead log at the clean stop | start-ups after it: 1st / 2nd / "
              "3rd | RSS %g s after each |" % args.settle)
        print("|---|---|---|---|---|")
        for label, n, _, wal, starts, rss in rows:
            print("| %s | %s | %.0f MB | %s s | %s MB |" % (
                label, "{:,}".format(n), wal, " / ".join("%.2f" % x for x in starts),
                " / ".join("%.0f" % x for x in rss)))
        return
    results = []
    for label, binary, extra in runs:
        results.append(run(label, binary, args.count, args, tmp, extra))
        print("  load average %s" % loadavg(), flush=True)
    table(results, args.settle)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
