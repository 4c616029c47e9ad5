"""Crash test: publishers with confirms and consumers with acks run against the real broker while
it is killed with SIGKILL at random moments and restarted on the same data directory.

After the last round everything left is drained, and the test checks that
  - every confirmed message was delivered at least once (before a crash, or in the final drain),
  - a message seen more than once was marked redelivered every time after the first,
  - first deliveries of each queue come in publish order.

WARREN_CRASH_KILLS sets the number of kills (default 6, so CI stays quick; the issue's full run
is WARREN_CRASH_KILLS=25). WARREN_CRASH_SEED fixes the random moments.
"""

import os
import random
import threading
import time

import pika
import pika.exceptions
import pytest

QUEUES = ["crash-a", "crash-b"]
PERSISTENT = pika.BasicProperties(delivery_mode=2)


def connect(url):
    p = pika.URLParameters(url)
    p.connection_attempts = 1
    p.socket_timeout = 5
    p.stack_timeout = 10
    p.heartbeat = 0
    return pika.BlockingConnection(p)


class Publisher(threading.Thread):
    """Publishes increasing numbers to one queue with confirms until the connection dies."""

    def __init__(self, url, queue, start_at, confirmed):
        super().__init__(daemon=True)
        self.url, self.queue, self.next, self.confirmed = url, queue, start_at, confirmed

    def run(self):
        try:
            c = connect(self.url)
            ch = c.channel()
            ch.confirm_delivery()
            while True:
                ch.basic_publish("", self.queue, b"%d" % self.next, properties=PERSISTENT)
                self.confirmed.append(self.next)  # basic_publish returned: confirmed (ack)
                self.next += 1
        except Exception:  # the broker was killed: stop (the next round resumes)
            pass


class Consumer(threading.Thread):
    """Consumes with manual acks, recording (number, redelivered) before acking."""

    def __init__(self, url, queue, seen, stop):
        super().__init__(daemon=True)
        self.url, self.queue, self.seen, self.stop = url, queue, seen, stop

    def run(self):
        try:
            c = connect(self.url)
            ch = c.channel()
            ch.basic_qos(prefetch_count=50)
            while not self.stop.is_set():
                for m, _, body in ch.consume(self.queue, inactivity_timeout=0.05):
                    if self.stop.is_set():
                        break
                    if m is None:
                        continue
                    self.seen.append((int(body), m.redelivered))
                    if random.random() < 0.3:
                        continue  # leave some unacked: they come back after the crash
                    ch.basic_ack(m.delivery_tag, multiple=True)
        except Exception:
            pass


# The second run keeps only 5 ready messages per queue in memory, so the backlog is paged out to
# the store and read back while publishers, consumers and kills go on.
@pytest.mark.parametrize("extra_args", [(), ("--queue-memory-messages", "5")],
                         ids=["in-memory", "paging"])
def test_sigkill_at_random_moments_loses_no_confirmed_message(start_broker, extra_args):
    kills = int(os.environ.get("WARREN_CRASH_KILLS", "6"))
    seed = int(os.environ.get("WARREN_CRASH_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    b = start_broker(extra_args)
    c = connect(b.url())
    ch = c.channel()
    for q in QUEUES:
        ch.queue_declare(q, durable=True)
    c.close()

    confirmed = {q: [] for q in QUEUES}
    seen = {q: [] for q in QUEUES}
    next_number = {q: 0 for q in QUEUES}
    for round_no in range(kills):
        stop = threading.Event()
        threads = []
        for q in QUEUES:
            threads.append(Publisher(b.url(), q, next_number[q], confirmed[q]))
            threads.append(Consumer(b.url(), q, seen[q], stop))
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.2, 1.5))
        b.kill()
        stop.set()
        for t in threads:
            t.join(timeout=30)
            assert not t.is_alive(), "a client thread hung after the kill (seed %d)" % seed
        for t in threads:
            if isinstance(t, Publisher):
                # Numbers that were published but not confirmed are skipped, never reused.
                next_number[t.queue] = t.next + 1
        b = start_broker(extra_args, data_dir=b.data_dir)

    # Drain what is left.
    c = connect(b.url())
    ch = c.channel()
    for q in QUEUES:
        while True:
            m, _, body = ch.basic_get(q, auto_ack=True)
            if m is None:
                break
            seen[q].append((int(body), m.redelivered))
    c.close()

    total_confirmed = 0
    for q in QUEUES:
        total_confirmed += len(confirmed[q])
        delivered = {n for n, _ in seen[q]}
        lost = sorted(set(confirmed[q]) - delivered)
        assert not lost, "queue %s lost confirmed messages %s (seed %d)" % (q, lost[:20], seed)
        first_seen = set()
        firsts = []
        for n, redelivered in seen[q]:
            if n in first_seen:
                assert redelivered, "%s: %d delivered again without redelivered (seed %d)" % (
                    q, n, seed)
            else:
                first_seen.add(n)
                if not redelivered:
                    firsts.append(n)
        assert firsts == sorted(firsts), "%s: first deliveries out of order (seed %d)" % (q, seed)
    print("crash test: %d kills, %d confirmed, %d deliveries (seed %d)" % (
        kills, total_confirmed, sum(len(s) for s in seen.values()), seed))
    # The run did real work: something was confirmed in most rounds.
    assert total_confirmed > kills, "only %d confirmed in %d rounds" % (total_confirmed, kills)
