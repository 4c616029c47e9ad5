"""Messages waiting to be retried, kept on the queue's timeline in the store (retry policy
x-delayed-retry-*, or Warren's nack with delay). A waiting stored message (persistent, in a
durable queue) lives in the store with its body; only the earliest --queue-memory-waiting of each
queue are held in memory, the rest are read back as the earlier ones are released. Transient
waits stay in memory, unbounded by that window. Every test starts its own warren with a tiny
window (8), so a few hundred messages exercise what millions would with the default.

What must not change: a wait never blocks the messages behind it; a message comes back no earlier
than its due time (checked against the monotonic clock read before its reject), redelivered,
with its delivery count; nothing is lost or duplicated; waits of stored messages survive a clean
restart and a kill -9; the admin API counts them (`messages_waiting`, `messages_waiting_ram`),
lists them in due-time order and cancels any of them, in memory or in the store only. Upper
bounds on time are generous: these tests are not benchmarks.
"""

import random
import time

import pytest

from helpers_http import Api
from test_nack_delay import nack_delay
# restartable is a fixture: pytest finds it in this module's namespace.
from test_durability import PERSISTENT, TRANSIENT, connect  # noqa: F401
from test_durability import restartable  # noqa: F401

RAM = 8  # the waits of a queue held in memory
WINDOW = ["--queue-memory-waiting", str(RAM)]
LATE = 10.0  # s: generous bound on how late a due message may come


def retry_queue(ch, name, min_ms, durable=True):
    """A queue whose every return (reject or nack with requeue) first waits min_ms (delivery
    count 1: min * max(1, dc))."""
    ch.queue_declare(name, durable=durable, arguments={"x-delayed-retry-type": "all",
                                                       "x-delayed-retry-min": min_ms})


def publish_get_all(ch, queue, n, props=PERSISTENT, prefix=b""):
    """Publishes bodies prefix+0..n-1 and gets them all, unacked: [delivery tag] in body order."""
    for i in range(n):
        ch.basic_publish("", queue, prefix + b"%d" % i, properties=props)
    tags = []
    for i in range(n):
        m, _, body = ch.basic_get(queue)
        assert body == prefix + b"%d" % i, (i, body)
        assert not m.redelivered
        tags.append(m.delivery_tag)
    return tags


def reject_all(ch, tags):
    """Rejects each (requeue): they start waiting. Returns the monotonic time read just before
    each reject was sent (its wait ends no earlier than that plus the delay)."""
    rejected_at = []
    for tag in tags:
        rejected_at.append(time.monotonic())
        ch.basic_reject(tag, requeue=True)
    return rejected_at


def sync(ch, queue):
    """A round trip: the broker has handled every reject sent before on this channel."""
    return ch.queue_declare(queue, passive=True).method.message_count


def queue_json(api, name):
    return api.ok("GET", "/api/queues/%2F/" + name)


def waiting_listing(api, name, limit=16):
    """Walks GET .../waiting with offset/limit to the end: every item, in the order listed."""
    items, offset = [], 0
    for _ in range(10_000):
        body = api.ok("GET", "/api/queues/%%2F/%s/waiting?offset=%d&limit=%d"
                      % (name, offset, limit))
        assert body["offset"] == offset and body["limit"] == limit
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        if body["next_offset"] is None:
            return items
        assert body["next_offset"] == offset + limit, body["next_offset"]
        offset = body["next_offset"]
    raise AssertionError("the waiting listing never ended")


def before(deadline, what):
    """Checks that depend on nothing having come due yet must run before `deadline`."""
    assert time.monotonic() < deadline, (
        "setup too slow: %s had to be checked before the first wait ended" % what)


def collect(ch, queue, n, timeout):
    """basic.get (then ack) until n messages came: [(monotonic arrival, method, props, body)].
    Then checks that nothing more comes."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        m, props, body = ch.basic_get(queue)
        if m is None:
            assert time.monotonic() < deadline, "only %d of %d came back: %r" % (
                len(got), n, [b for _, _, _, b in got])
            time.sleep(0.01)
            continue
        got.append((time.monotonic(), m, props, body))
        ch.basic_ack(m.delivery_tag)
    time.sleep(0.3)
    m, _, body = ch.basic_get(queue)
    assert m is None, "a message more than the %d expected: %r" % (n, body)
    return got


def check_returns(got, expected, rejected_at, delay):
    """Each came back once, in `expected` order, no earlier than its due time, redelivered and
    with x-delivery-count 1. rejected_at maps a body to the time before its reject; delay in
    seconds (a number, or a map from body)."""
    assert [body for _, _, _, body in got] == expected
    for arrived, m, props, body in got:
        d = delay[body] if isinstance(delay, dict) else delay
        waited = arrived - rejected_at[body]
        assert waited >= d, "%r came back %.3f s after its reject, before its %.3f s wait" % (
            body, waited, d)
        assert waited < d + LATE, (body, waited)
        assert m.redelivered, body
        assert props.headers["x-delivery-count"] == 1, (body, props.headers)


def check_empty(api, ch, name):
    """Nothing left, on the broker's side either."""
    j = queue_json(api, name)
    assert (j["messages"], j["messages_ready"], j["messages_unacknowledged"],
            j["messages_waiting"], j["messages_waiting_ram"]) == (0, 0, 0, 0, 0), j
    assert ch.basic_get(name)[0] is None


def check_empty_after_a_restart(restartable, name):
    """A clean restart brings nothing back to the queue."""
    b = restartable.restart()
    c = connect(b)
    api = Api(b.http)
    check_empty(api, c.channel(), name)
    api.close()
    c.close()


def test_many_waits_through_the_tiny_window_come_back_once_in_order_none_early(restartable):
    n, delay = 150, 2.0
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    retry_queue(ch, "rw", int(delay * 1000))
    tags = publish_get_all(ch, "rw", n)
    wall_before = int(time.time() * 1000)
    rejected_at = reject_all(ch, tags)
    assert sync(ch, "rw") == 0  # none ready: waiting messages are not ready
    wall_after = int(time.time() * 1000)
    first_due = rejected_at[0] + delay
    api = Api(b.http)
    j = queue_json(api, "rw")
    before(first_due, "the queue's counts")
    assert (j["messages"], j["messages_ready"], j["messages_unacknowledged"],
            j["messages_waiting"]) == (n, 0, 0, n), j
    assert j["messages_waiting_ram"] <= RAM, j
    # The listing reaches past the ones in memory into the store, in due-time order.
    items = waiting_listing(api, "rw")
    before(first_due, "the waiting listing")
    assert len(items) == n
    assert len({i["id"] for i in items}) == n, "ids repeat"
    assert sorted(int(i["payload"]) for i in items) == list(range(n))
    dues = [i["due_unix_ms"] for i in items]
    assert dues == sorted(dues), "not in due-time order"
    # Due times are rounded up to the next millisecond (never early).
    assert wall_before + delay * 1000 <= dues[0] and dues[-1] <= wall_after + delay * 1000 + 1
    assert all(i["delivery_count"] == 1 and i["acquired_count"] == 1 for i in items), items
    # Ids are sequence numbers: the later published, the larger.
    by_body = {int(i["payload"]): i["id"] for i in items}
    assert [by_body[k] for k in range(n)] == sorted(by_body.values())
    # Every message once, in due (= reject) order, none early.
    got = collect(ch, "rw", n, delay + LATE)
    check_returns(got, [b"%d" % i for i in range(n)],
                  {b"%d" % i: t for i, t in enumerate(rejected_at)}, delay)
    check_empty(api, ch, "rw")
    api.close()
    c.close()
    # Released and acked means gone from the store too: nothing comes back after a restart.
    b = restartable.restart()
    c = connect(b)
    ch = c.channel()
    api = Api(b.http)
    check_empty(api, ch, "rw")
    api.close()
    c.close()


@pytest.mark.parametrize("kill", [False, True], ids=["clean-restart", "kill-9"])
def test_waits_beyond_the_window_survive_a_restart_with_their_counts(restartable, kill):
    n, delay = 120, 4.0
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    retry_queue(ch, "rs", int(delay * 1000))
    tags = publish_get_all(ch, "rs", n)
    rejected_at = reject_all(ch, tags)
    # Confirmed after the rejects on the same channel: what they wrote is stored too.
    ch.basic_publish("", "rs", b"sync", properties=PERSISTENT)
    first_due = rejected_at[0] + delay
    b = restartable.restart(kill=kill)
    c = connect(b)
    ch = c.channel()
    api = Api(b.http)
    j = queue_json(api, "rs")
    before(first_due, "the counts after the restart")
    assert (j["messages"], j["messages_ready"], j["messages_waiting"]) == (n + 1, 1, n), j
    assert j["messages_waiting_ram"] <= RAM, j
    # Nothing ready early: only the sync message.
    m, _, body = ch.basic_get("rs", auto_ack=True)
    assert body == b"sync"
    assert ch.basic_get("rs")[0] is None
    before(first_due, "that nothing was ready")
    items = waiting_listing(api, "rs")
    assert sorted(int(i["payload"]) for i in items) == list(range(n))
    assert [i["due_unix_ms"] for i in items] == sorted(i["due_unix_ms"] for i in items)
    assert all(i["delivery_count"] == 1 for i in items), items
    got = collect(ch, "rs", n, delay + LATE)
    check_returns(got, [b"%d" % i for i in range(n)],
                  {b"%d" % i: t for i, t in enumerate(rejected_at)}, delay)
    check_empty(api, ch, "rs")
    api.close()
    c.close()
    check_empty_after_a_restart(restartable, "rs")


def test_cancelling_a_wait_that_is_only_in_the_store_makes_it_ready_at_once(restartable):
    n = 40
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    retry_queue(ch, "rc", 600_000)  # nothing comes due by itself
    reject_all(ch, publish_get_all(ch, "rc", n))
    sync(ch, "rc")
    api = Api(b.http)
    j = queue_json(api, "rc")
    assert j["messages_waiting"] == n and j["messages_waiting_ram"] <= RAM, j
    # Past the earliest 8 in due-time order: in the store only.
    body = api.ok("GET", "/api/queues/%2F/rc/waiting?offset=20&limit=1")
    assert body["messages_waiting"] == n and len(body["items"]) == 1
    item = body["items"][0]
    assert item["delivery_count"] == 1
    status, reply = api.delete("/api/queues/%%2F/rc/waiting/%d" % item["id"])
    assert status == 204, reply
    # Ready at once, with its count.
    m, props, got = ch.basic_get("rc")
    assert m is not None, "the cancelled wait is not ready"
    assert got.decode() == item["payload"]
    assert m.redelivered and props.headers["x-delivery-count"] == 1
    ch.basic_ack(m.delivery_tag)
    assert ch.basic_get("rc")[0] is None  # the others still wait
    j = queue_json(api, "rc")
    assert (j["messages"], j["messages_waiting"]) == (n - 1, n - 1), j
    assert j["messages_waiting_ram"] <= RAM, j
    # Twice: not waiting any more.
    status, reply = api.delete("/api/queues/%%2F/rc/waiting/%d" % item["id"])
    assert status == 404 and reply["error"] == "not_found", reply
    items = waiting_listing(api, "rc")
    assert len(items) == n - 1 and item["id"] not in {i["id"] for i in items}
    api.close()
    c.close()
    # Cancelled and acked: it does not come back after a restart; the others still wait.
    b = restartable.restart()
    c = connect(b)
    ch = c.channel()
    api = Api(b.http)
    j = queue_json(api, "rc")
    assert (j["messages"], j["messages_waiting"]) == (n - 1, n - 1), j
    items = waiting_listing(api, "rc")
    left = sorted(int(i["payload"]) for i in items)
    assert left == sorted(set(range(n)) - {int(item["payload"])})
    # Cancel every other one too (in memory or in the store): each ready at once, once.
    for i in items:
        status, reply = api.delete("/api/queues/%%2F/rc/waiting/%d" % i["id"])
        assert status == 204, (i["id"], reply)
    got = collect(ch, "rc", n - 1, 5)
    assert sorted(int(body) for _, _, _, body in got) == left
    assert all(m.redelivered and props.headers["x-delivery-count"] == 1
               for _, m, props, _ in got)
    check_empty(api, ch, "rc")
    api.close()
    c.close()


def test_cancelling_a_wait_right_after_its_return_neither_misses_nor_duplicates(restartable):
    """The same message waits again and again, each time past the window, and is cancelled at
    once: the store's copy of its wait may not be written yet, and the record of its previous
    wait may not be deleted yet. Each cancel must find exactly the current wait."""
    n, rounds = 40, 20
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    retry_queue(ch, "rr", 600_000)
    reject_all(ch, publish_get_all(ch, "rr", n))
    sync(ch, "rr")
    api = Api(b.http)
    # The ids (sequence numbers); listing at once is checked by the tests above.
    deadline = time.monotonic() + 5
    while len(items := waiting_listing(api, "rr")) < n:
        assert time.monotonic() < deadline, "the listing never showed all %d waits" % n
        time.sleep(0.05)
    last = items[-1]  # the latest due: in the store only
    for count in range(1, rounds + 1):
        status, reply = api.delete("/api/queues/%%2F/rr/waiting/%d" % last["id"])
        assert status == 204, (count, reply)
        m, props, body = ch.basic_get("rr")
        assert m is not None and body.decode() == last["payload"], (count, body)
        assert m.redelivered and props.headers["x-delivery-count"] == count, props.headers
        assert ch.basic_get("rr")[0] is None, "ready twice, or another one ready (round %d)" % (
            count)
        # Waits again (min * delivery count), the latest due of all, and is cancelled at once.
        ch.basic_reject(m.delivery_tag, requeue=True)
        sync(ch, "rr")
        j = queue_json(api, "rr")
        assert (j["messages"], j["messages_ready"], j["messages_waiting"]) == (n, 0, n), (
            count, j)
    status, reply = api.delete("/api/queues/%%2F/rr/waiting/%d" % last["id"])
    assert status == 204, reply
    m, props, body = ch.basic_get("rr")
    assert body.decode() == last["payload"]
    assert props.headers["x-delivery-count"] == rounds + 1
    ch.basic_ack(m.delivery_tag)
    assert ch.basic_get("rr")[0] is None
    j = queue_json(api, "rr")
    assert (j["messages"], j["messages_ready"], j["messages_waiting"]) == (n - 1, 0, n - 1), j
    assert j["messages_waiting_ram"] <= RAM, j
    assert api.delete("/api/queues/%%2F/rr/waiting/%d" % last["id"])[0] == 404
    items = waiting_listing(api, "rr")
    assert len(items) == n - 1 and last["id"] not in {i["id"] for i in items}
    api.close()
    c.close()


@pytest.mark.parametrize("durable, props", [(True, TRANSIENT), (False, PERSISTENT)],
                         ids=["transient-messages", "non-durable-queue"])
def test_transient_waits_stay_in_memory_unbounded_by_the_window(restartable, durable, props):
    n, delay = 50, 1.5
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    retry_queue(ch, "rt", int(delay * 1000), durable=durable)
    rejected_at = reject_all(ch, publish_get_all(ch, "rt", n, props=props))
    assert sync(ch, "rt") == 0
    first_due = rejected_at[0] + delay
    api = Api(b.http)
    j = queue_json(api, "rt")
    items = waiting_listing(api, "rt")
    before(first_due, "the counts")
    # Not stored, so all held in memory, past the window of 8.
    assert (j["messages"], j["messages_waiting"], j["messages_waiting_ram"]) == (n, n, n), j
    assert sorted(int(i["payload"]) for i in items) == list(range(n))
    assert [i["due_unix_ms"] for i in items] == sorted(i["due_unix_ms"] for i in items)
    got = collect(ch, "rt", n, delay + LATE)
    check_returns(got, [b"%d" % i for i in range(n)],
                  {b"%d" % i: t for i, t in enumerate(rejected_at)}, delay)
    assert all(p.delivery_mode == props.delivery_mode for _, _, p, _ in got)
    check_empty(api, ch, "rt")
    api.close()
    if not durable:
        c.close()
        return
    # Transient waits are lost on restart, as transient messages are; the queue stays.
    reject_all(ch, publish_get_all(ch, "rt", 10, props=props))
    sync(ch, "rt")
    c.close()
    check_empty_after_a_restart(restartable, "rt")


def test_nack_delays_through_the_tiny_window_come_back_in_due_order(restartable):
    n = 60
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("rn", durable=True)  # no retry policy: the nack names the delay
    tags = publish_get_all(ch, "rn", n)
    rng = random.Random(11)
    delays = [rng.randrange(1000, 3000) for _ in range(n)]
    nacked_at = {}
    due = {}  # body -> due time (monotonic, s)
    for i, (tag, ms) in enumerate(zip(tags, delays)):
        body = b"%d" % i
        nacked_at[body] = time.monotonic()
        due[body] = nacked_at[body] + ms / 1000
        nack_delay(ch, tag, ms)
    assert sync(ch, "rn") == 0
    first_due = min(due.values())
    api = Api(b.http)
    j = queue_json(api, "rn")
    items = waiting_listing(api, "rn")
    before(first_due, "the counts")
    assert (j["messages"], j["messages_waiting"]) == (n, n), j
    assert j["messages_waiting_ram"] <= RAM, j
    # Listed in due-time order: the order of the requested due times (ties within a few ms:
    # the test's clock and the broker's differ by the time a nack takes).
    assert sorted(int(i["payload"]) for i in items) == list(range(n))
    listed = [i["payload"].encode() for i in items]
    for a, b_ in zip(listed, listed[1:]):
        assert due[a] <= due[b_] + 0.06, (a, due[a], b_, due[b_])
    got = collect(ch, "rn", n, 3 + LATE)
    order = [body for _, _, _, body in got]
    assert sorted(order, key=int) == [b"%d" % i for i in range(n)], "lost or duplicated"
    check_returns(got, order, nacked_at, {body: due[body] - nacked_at[body] for body in order})
    for a, b_ in zip(order, order[1:]):
        assert due[a] <= due[b_] + 0.06, (a, due[a], b_, due[b_])
    check_empty(api, ch, "rn")
    api.close()
    c.close()


def test_waits_in_front_of_a_paged_backlog_come_back_at_its_head(restartable):
    waits, backlog, delay = 20, 100, 2.0
    b = restartable(WINDOW + ["--queue-memory-messages", "10"])
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    retry_queue(ch, "rp", int(delay * 1000))
    tags = publish_get_all(ch, "rp", waits, prefix=b"w")
    for i in range(backlog):
        ch.basic_publish("", "rp", b"b%d" % i, properties=PERSISTENT)
    rejected_at = reject_all(ch, tags)
    assert sync(ch, "rp") == backlog
    first_due = rejected_at[0] + delay
    api = Api(b.http)
    j = queue_json(api, "rp")
    before(first_due, "the counts")
    assert (j["messages"], j["messages_ready"], j["messages_waiting"]) == (
        waits + backlog, backlog, waits), j
    assert j["messages_waiting_ram"] <= RAM, j
    assert j["messages_ready_ram"] <= 10 and j["messages_paged_out"] >= backlog - 10, j
    # The waits do not hold up the backlog behind them.
    for i in range(30):
        m, _, body = ch.basic_get("rp")
        assert body == b"b%d" % i and not m.redelivered
        ch.basic_ack(m.delivery_tag)
    before(first_due, "the first of the backlog")
    # Released no earlier than due: the ready count never gets ahead of the due times.
    deadline = time.monotonic() + delay + LATE
    while True:
        ready = sync(ch, "rp") - (backlog - 30)
        now = time.monotonic()
        assert ready <= sum(1 for t in rejected_at if t + delay <= now), (
            "%d released %.3f s after the first reject" % (ready, now - rejected_at[0]))
        if ready == waits:
            break
        assert now < deadline, "only %d of %d released" % (ready, waits)
        time.sleep(0.01)
    # They went back to the head, in order, redelivered with their counts; the backlog is whole.
    got = collect(ch, "rp", waits + backlog - 30, 5)
    assert [body for _, _, _, body in got] == (
        [b"w%d" % i for i in range(waits)] + [b"b%d" % i for i in range(30, backlog)])
    for _, m, props, body in got[:waits]:
        assert m.redelivered and props.headers["x-delivery-count"] == 1, body
    assert not any(m.redelivered for _, m, _, _ in got[waits:])
    check_empty(api, ch, "rp")
    api.close()
    c.close()
