"""Paging (issue #3): a queue keeps at most --queue-memory-messages ready messages in memory; the
rest wait in the store only and are read back as consumers catch up: a durable queue's persistent
messages always, other messages once messages hold half the memory watermark (then written to the
store flagged transient). Every test starts its own
warren with a tiny window (10), so a few hundred messages exercise paging the way millions would
with the default. Order, counts, transient messages behind the paged region, purge, restarts and
the redelivered flag must be exactly as without paging.
"""

import pika
import pytest

from helpers_http import Api
# restartable is a fixture: pytest finds it in this module's namespace.
from test_durability import PERSISTENT, TRANSIENT, bodies, connect, get_all  # noqa: F401
from test_durability import restartable  # noqa: F401

WINDOW = ["--queue-memory-messages", "10"]


def publish_numbers(ch, queue, numbers, props=PERSISTENT):
    for n in numbers:
        ch.basic_publish("", queue, b"%d" % n, properties=props)


def test_a_backlog_larger_than_the_window_comes_back_whole_and_in_order(restartable):
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.queue_declare("pq", durable=True)
    publish_numbers(ch, "pq", range(500))
    # Counts include what is paged out.
    assert ch.queue_declare("pq", passive=True).method.message_count == 500
    # Only the window is in memory: the rest is paged out.
    api = Api(b.http)
    q = api.ok("GET", "/api/queues/%2F/pq")
    assert (q["messages_ready"], q["messages_ready_ram"], q["messages_paged_out"]) == (500, 10, 490)
    api.close()
    got = [int(body) for body in bodies(get_all(ch, "pq"))]
    assert got == list(range(500))
    c.close()


def test_transient_messages_behind_the_paged_region_keep_their_place(restartable):
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.queue_declare("mixed", durable=True)
    publish_numbers(ch, "mixed", range(0, 100))
    publish_numbers(ch, "mixed", range(100, 150), props=TRANSIENT)
    publish_numbers(ch, "mixed", range(150, 200))
    assert ch.queue_declare("mixed", passive=True).method.message_count == 200
    # A consumer drains it with acks, interleaved with new publishes.
    ch.basic_qos(prefetch_count=7)
    got = []
    for m, props, body in ch.consume("mixed", inactivity_timeout=2):
        if m is None:
            break
        got.append(int(body))
        assert (props.delivery_mode == 1) == (100 <= int(body) < 150)
        ch.basic_ack(m.delivery_tag)
        if int(body) == 20:
            publish_numbers(ch, "mixed", range(200, 230))
    ch.cancel()
    assert got == list(range(230))
    c.close()


def test_a_paged_backlog_survives_restarts_with_the_right_redelivered_flags(restartable):
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("pr", durable=True)
    publish_numbers(ch, "pr", range(300))
    publish_numbers(ch, "pr", range(300, 320), props=TRANSIENT)
    # Three delivered and left unacked.
    held = [ch.basic_get("pr")[0] for _ in range(3)]
    assert all(held)
    c.close()  # they go back: redelivered after the clean restart
    b = restartable.restart()
    c = connect(b)
    ch = c.channel()
    # The transient ones behind the paged region are gone, as transient messages are.
    assert ch.queue_declare("pr", passive=True).method.message_count == 300
    got = get_all(ch, "pr")
    assert [int(body) for body in bodies(got)] == list(range(300))
    assert [m.redelivered for m, _, _ in got[:3]] == [True, True, True]
    assert not any(m.redelivered for m, _, _ in got[3:])
    c.close()
    # Acked means gone, across a kill too.
    b = restartable.restart()
    c = connect(b)
    assert c.channel().queue_declare("pr", passive=True).method.message_count == 0
    c.close()


def test_after_a_kill_every_paged_message_comes_back_redelivered(restartable):
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("pk", durable=True)
    publish_numbers(ch, "pk", range(200))
    b = restartable.restart(kill=True)
    c = connect(b)
    ch = c.channel()
    assert ch.queue_declare("pk", passive=True).method.message_count == 200
    got = get_all(ch, "pk")
    assert [int(body) for body in bodies(got)] == list(range(200))
    assert all(m.redelivered for m, _, _ in got)  # after a crash, any may have been delivered
    c.close()


def test_purge_takes_the_paged_region_too_durably(restartable):
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("pp", durable=True)
    publish_numbers(ch, "pp", range(100))
    held = ch.basic_get("pp")[0]  # one unacked: purge takes only ready ones
    assert ch.queue_purge("pp").method.message_count == 99
    publish_numbers(ch, "pp", [1000, 1001])
    assert bodies(get_all(ch, "pp")) == [b"1000", b"1001"]
    ch.basic_ack(held.delivery_tag)
    publish_numbers(ch, "pp", [2000])
    b = restartable.restart()
    c = connect(b)
    assert bodies(get_all(c.channel(), "pp")) == [b"2000"]
    c.close()


def test_a_waiting_retry_beyond_the_loaded_head_waits_again_after_a_restart(restartable):
    # Recovery loads 4096 records at a time, in sequence order. 5000 messages delivered and then
    # returned by a closed channel, except the last one, nacked with a delay, put the waiting one
    # past the head that recovery loads, in the paged region.
    from test_nack_delay import get_eventually, nack_delay
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.queue_declare("pw", durable=True)
    publish_numbers(ch, "pw", range(5000))
    consumer = c.channel()
    tags = []
    for m, _, _ in consumer.consume("pw", inactivity_timeout=2):
        if m is None:
            break
        tags.append(m.delivery_tag)
        if len(tags) == 5000:
            break
    assert len(tags) == 5000
    nack_delay(consumer, tags[-1], 3000)
    consumer.close()  # the other 4999 go back, ready
    c.close()
    b = restartable.restart()
    c = connect(b)
    ch = c.channel()
    got = [int(x) for x in bodies(get_all(ch, "pw"))]
    assert got == list(range(4999))  # the waiting one is not ready
    m, props, body = get_eventually(ch, "pw", auto_ack=True, what="the waiting message")
    assert body == b"4999" and props.headers["x-delivery-count"] == 1
    c.close()


def test_a_paged_wait_queue_expires_everything_on_time_into_its_dlx(restartable):
    # The classic wait queue (TTL + DLX, no consumer) with a backlog past the window: the paged
    # messages must expire too, not only the ones in memory.
    from test_nack_delay import get_eventually
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.queue_declare("pdl", durable=True)
    ch.queue_declare("pwait", durable=True, arguments={
        "x-message-ttl": 300, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "pdl"})
    publish_numbers(ch, "pwait", range(200))
    got = [int(get_eventually(ch, "pdl", auto_ack=True, what="message %d" % i)[2])
           for i in range(200)]
    assert got == list(range(200))
    assert ch.queue_declare("pwait", passive=True).method.message_count == 0
    c.close()


def test_dlq_tools_see_and_take_from_the_paged_region(restartable):
    """Browse, read one, delete and move reach the messages that wait in the store only, and
    what they take out of the paged region never comes back (not from the store, not after a
    restart)."""
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("dlqp", durable=True)
    ch.queue_declare("moved", durable=True)
    publish_numbers(ch, "dlqp", range(100))
    publish_numbers(ch, "dlqp", range(100, 110), props=TRANSIENT)
    api = Api(b.http)
    assert api.ok("GET", "/api/queues/%2F/dlqp")["messages_paged_out"] == 100

    def browse_all(queue):
        items, offset = [], 0
        while offset is not None:
            page = api.ok("GET", "/api/queues/%%2F/%s/messages?offset=%d&limit=37" % (queue, offset))
            items += page["items"]
            offset = page["next_offset"]
        return items

    items = browse_all("dlqp")
    assert [int(i["payload"]) for i in items] == list(range(110))
    ids = {int(i["payload"]): i["id"] for i in items}
    # A filter and one message by id, deep in the paged region.
    found = api.ok("GET", "/api/queues/%2F/dlqp/messages?contains=77")["items"]
    assert [i["payload"] for i in found] == ["77"]
    assert api.ok("GET", "/api/queues/%%2F/dlqp/messages/%d" % ids[88])["payload"] == "88"
    # Delete some from the region (a transient one too) and move others out of it.
    assert api.ok("POST", "/api/queues/%2F/dlqp/messages/delete",
                  {"ids": [ids[50], ids[51], ids[105]]}) == {"deleted": 3}
    assert api.ok("POST", "/api/queues/%2F/dlqp/messages/move",
                  {"ids": [ids[n] for n in (60, 99, 108)], "to": "moved"}) == {
        "moved": 3, "not_moved": 0}
    gone = {50, 51, 105, 60, 99, 108}
    expected = [n for n in range(110) if n not in gone]
    q = api.ok("GET", "/api/queues/%2F/dlqp")
    assert q["messages_ready"] == len(expected)
    assert [int(i["payload"]) for i in browse_all("dlqp")] == expected
    assert [int(i["payload"]) for i in browse_all("moved")] == [60, 99, 108]
    # Consumed, the queue gives exactly the rest, once each, in order.
    c.close()
    b = restartable.restart()
    api.close()
    c = connect(b)
    ch = c.channel()
    # The transient ones are gone after the restart (108 moved was transient too).
    assert [int(body) for body in bodies(get_all(ch, "dlqp"))] == [n for n in expected if n < 100]
    assert [int(body) for body in bodies(get_all(ch, "moved"))] == [60, 99]
    c.close()


def test_a_message_ttl_expires_on_time_in_the_paged_region(restartable):
    """A message with its own short TTL behind a paged-out backlog is dead-lettered when it
    expires, not when it reaches the head."""
    import time
    import pika
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.queue_declare("ttl-dlq", durable=True)
    ch.queue_declare("ttlp", durable=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "ttl-dlq"})
    publish_numbers(ch, "ttlp", range(100))
    ch.basic_publish("", "ttlp", b"short", properties=pika.BasicProperties(
        delivery_mode=2, expiration="300"))
    publish_numbers(ch, "ttlp", range(100, 110))
    api = Api(b.http)
    assert api.ok("GET", "/api/queues/%2F/ttlp")["messages_paged_out"] == 101
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and \
            api.ok("GET", "/api/queues/%2F/ttl-dlq")["messages"] == 0:
        time.sleep(0.1)
    dead = get_all(ch, "ttl-dlq")
    assert bodies(dead) == [b"short"]
    assert dead[0][1].headers["x-death"][0]["reason"] == "expired"
    assert api.ok("GET", "/api/queues/%2F/ttlp")["messages"] == 110
    api.close()
    assert [int(body) for body in bodies(get_all(ch, "ttlp"))] == list(range(110))
    c.close()


@pytest.mark.parametrize("kill", [False, True], ids=["restart", "kill"])
def test_a_message_ttl_in_the_paged_region_expires_on_time_after_a_restart(restartable, kill):
    """After a restart the paged region is not read, yet its messages with their own TTL are
    dead-lettered when they expire (the queue's stored expiry index), not when they reach the
    head; none before its time. (Recovery reads 4,096 at a time: the short-lived ones are past
    that.)"""
    import time
    import pika
    BEHIND = 4200
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("ttl-dlq2", durable=True)
    ch.queue_declare("ttlr", durable=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "ttl-dlq2"})
    publish_numbers(ch, "ttlr", range(BEHIND))
    t0 = time.monotonic()
    for n in range(5):
        ch.basic_publish("", "ttlr", b"short%d" % n, properties=pika.BasicProperties(
            delivery_mode=2, expiration="4000"))
        publish_numbers(ch, "ttlr", [BEHIND + n])
    c.close()
    b = restartable.restart(kill=kill)
    c = connect(b)
    ch = c.channel()
    api = Api(b.http)
    q = api.ok("GET", "/api/queues/%2F/ttlr")
    assert q["messages"] == BEHIND + 10 and q["messages_paged_out"] > 0, q
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and \
            api.ok("GET", "/api/queues/%2F/ttl-dlq2")["messages"] < 5:
        time.sleep(0.1)
    assert time.monotonic() - t0 >= 4.0
    dead = get_all(ch, "ttl-dlq2")
    assert sorted(bodies(dead)) == [b"short%d" % n for n in range(5)]
    assert all(props.headers["x-death"][0]["reason"] == "expired" for _, props, _ in dead)
    q = api.ok("GET", "/api/queues/%2F/ttlr")
    assert q["messages"] == BEHIND + 5 and q["messages_paged_out"] > 0, q
    api.close()
    assert [int(body) for body in bodies(get_all(ch, "ttlr"))] == list(range(BEHIND + 5))
    c.close()


# Memory pressure: a 4 MB watermark, so transient messages page out once messages hold 2 MB.
PRESSURE = WINDOW + ["--memory-high-watermark", "4000000"]
KIB2 = b"t" * 2048


def publish_padded(ch, queue, numbers, props=TRANSIENT):
    for n in numbers:
        ch.basic_publish("", queue, b"%06d" % n + KIB2, properties=props)


def test_transient_messages_page_out_under_memory_pressure_and_come_back_in_order(restartable):
    b = restartable(PRESSURE)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("tq")  # not durable
    publish_padded(ch, "tq", range(1500))  # 3 MB of bodies
    api = Api(b.http)
    q = api.ok("GET", "/api/queues/%2F/tq")
    assert q["messages_ready"] == 1500
    assert q["messages_paged_out"] > 1000, q
    assert q["messages_ready_ram"] + q["messages_paged_out"] == 1500
    msgs = bodies(get_all(ch, "tq"))
    assert [int(body[:6]) for body in msgs] == list(range(1500))
    assert all(body[6:] == KIB2 for body in msgs)
    q = api.ok("GET", "/api/queues/%2F/tq")
    assert (q["messages"], q["messages_paged_out"]) == (0, 0)
    api.close()
    c.close()


def test_transient_pages_do_not_survive_a_restart(restartable):
    b = restartable(PRESSURE)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("durable-tq", durable=True)
    ch.queue_declare("plain-tq")
    publish_padded(ch, "durable-tq", range(1000))
    publish_padded(ch, "plain-tq", range(1000))
    api = Api(b.http)
    for name in ("durable-tq", "plain-tq"):
        assert api.ok("GET", "/api/queues/%2F/" + name)["messages_paged_out"] > 500
    api.close()
    c.close()
    b = restartable.restart(kill=True)
    c = connect(b)
    ch = c.channel()
    # The durable queue is back, empty: its messages were transient. The other queue is gone.
    assert ch.queue_declare("durable-tq", durable=True, passive=True).method.message_count == 0
    assert get_all(ch, "durable-tq") == []
    ch.queue_declare("plain-tq")
    assert get_all(ch, "plain-tq") == []
    c.close()


def test_without_memory_pressure_transient_messages_stay_in_memory(restartable):
    b = restartable(WINDOW)  # the default watermark: far away
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("light")
    publish_padded(ch, "light", range(500))
    api = Api(b.http)
    q = api.ok("GET", "/api/queues/%2F/light")
    assert (q["messages_ready"], q["messages_ready_ram"], q["messages_paged_out"]) == (500, 500, 0)
    api.close()
    assert [int(body[:6]) for body in bodies(get_all(ch, "light"))] == list(range(500))
    c.close()


def test_deleting_a_queue_that_paged_out_leaves_nothing_behind(restartable):
    b = restartable(PRESSURE)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("gone")
    publish_padded(ch, "gone", range(1500))
    ch.queue_delete("gone")
    # A new queue of the same name starts empty, and still pages and reads back correctly.
    ch.queue_declare("gone")
    assert ch.queue_declare("gone", passive=True).method.message_count == 0
    publish_padded(ch, "gone", range(1500, 1600))
    assert [int(body[:6]) for body in bodies(get_all(ch, "gone"))] == list(range(1500, 1600))
    c.close()


def test_a_length_limited_queue_pages_and_drops_its_oldest(restartable):
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("dlq-maxlen", durable=True)
    ch.queue_declare("maxlen", durable=True, arguments={
        "x-max-length": 100, "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "dlq-maxlen"})
    publish_numbers(ch, "maxlen", range(300))
    api = Api(b.http)
    q = api.ok("GET", "/api/queues/%2F/maxlen")
    assert q["messages_ready"] == 100
    assert q["messages_paged_out"] > 0, q  # the limit is past the window of 10
    api.close()
    # The oldest 200 were dropped into the DLQ, in order; the newest 100 remain, in order.
    assert [int(body) for body in bodies(get_all(ch, "dlq-maxlen"))] == list(range(200))
    assert [int(body) for body in bodies(get_all(ch, "maxlen"))] == list(range(200, 300))
    c.close()


def test_reject_publish_counts_the_paged_region(restartable):
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("capped", durable=True, arguments={
        "x-max-length-bytes": 1000, "x-overflow": "reject-publish"})
    accepted, refused = [], []
    for n in range(150):
        try:
            ch.basic_publish("", "capped", b"%09d" % n, properties=PERSISTENT)
            accepted.append(n)
        except pika.exceptions.NackError:
            refused.append(n)
    # 9-byte bodies: 111 fit in 1000 bytes; the rest are nacked.
    assert accepted == list(range(111)) and refused == list(range(111, 150))
    api = Api(b.http)
    q = api.ok("GET", "/api/queues/%2F/capped")
    assert (q["messages_ready"], q["message_bytes"]) == (111, 999)
    assert q["messages_paged_out"] > 0, q
    api.close()
    b = restartable.restart()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    # After a restart the limit still counts what is paged out.
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", "capped", b"%09d" % 999, properties=PERSISTENT)
    assert [int(body) for body in bodies(get_all(ch, "capped"))] == list(range(111))
    c.close()


def test_transient_messages_paged_out_again_are_not_skipped_by_the_next_page_in(restartable):
    # A consumer pages a backlog in whole; one more publish, under memory pressure, pages most of
    # it out again, the transient messages written after the stored ones behind them; the
    # consumer's ack asks for the next page while those writes are still under way. The page
    # must merge them, not skip them: every message arrives once, in order.
    b = restartable(WINDOW + ["--memory-high-watermark", "24000000"])
    producer = connect(b)
    pch = producer.channel()
    pch.confirm_delivery()
    pch.queue_declare("race", durable=True)
    backlog = 1000  # 16 MB: over half the watermark, so transient messages page out
    body = b"t" * 16384

    for n in range(backlog):
        props = PERSISTENT if n % 3 == 0 else TRANSIENT  # stored ones between transient ones
        pch.basic_publish("", "race", b"%06d" % n + body, properties=props)
    consumer = connect(b)
    cch = consumer.channel()
    cch.basic_qos(prefetch_count=20)
    got = []
    messages = cch.consume("race", inactivity_timeout=10)
    for _ in range(20):  # the page-in has run: the backlog is in memory
        m, _, received = next(messages)
        got.append(int(received[:6]))
    # Without confirms: no waiting for the page-out's writes.
    producer.channel().basic_publish("", "race", b"%06d" % backlog + body, properties=TRANSIENT)
    cch.basic_ack(m.delivery_tag, multiple=True)
    for m, _, received in messages:
        assert m is not None, "missing after %d: %d messages" % (got[-1], len(got))
        got.append(int(received[:6]))
        cch.basic_ack(m.delivery_tag)
        if len(got) == backlog + 1:
            break
    assert got == list(range(backlog + 1))
    cch.cancel()
    producer.close()
    consumer.close()


# Priority queues page too: a message's sequence (its key in the store) carries its priority band,
# so the store's order is the delivery order.
def priority_props(priority, persistent=True):
    return pika.BasicProperties(delivery_mode=2 if persistent else 1, priority=priority)


def publish_prioritised(ch, queue, numbers, persistent=True):
    # Priorities 0..5 in turn (6 is above x-max-priority 5: it counts as 5).
    for n in numbers:
        ch.basic_publish("", queue, b"%d" % n, properties=priority_props(n % 7, persistent))


def delivery_order(numbers):
    # Highest priority first, oldest first within a priority.
    return sorted(numbers, key=lambda n: (-min(n % 7, 5), n))


def test_a_priority_backlog_pages_and_comes_back_in_priority_order(restartable):
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("prio", durable=True, arguments={"x-max-priority": 5})
    publish_prioritised(ch, "prio", range(400))
    api = Api(b.http)
    q = api.ok("GET", "/api/queues/%2F/prio")
    assert q["messages_ready"] == 400
    assert q["messages_paged_out"] >= 380, q
    api.close()
    got = [int(body) for body in bodies(get_all(ch, "prio"))]
    assert got == delivery_order(range(400))
    c.close()


def test_a_paged_priority_backlog_keeps_its_order_across_a_restart_and_a_kill(restartable):
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("prior", durable=True, arguments={"x-max-priority": 5})
    publish_prioritised(ch, "prior", range(300))
    c.close()
    b = restartable.restart()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    # New messages take their places among the recovered ones, by priority.
    publish_prioritised(ch, "prior", range(300, 350))
    c.close()
    b = restartable.restart(kill=True)
    c = connect(b)
    ch = c.channel()
    got = get_all(ch, "prior")
    assert [int(body) for body in bodies(got)] == delivery_order(range(350))
    assert all(m.redelivered for m, _, _ in got)  # after a crash
    c.close()


def test_a_higher_priority_message_overtakes_the_paged_backlog(restartable):
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("overtake", durable=True, arguments={"x-max-priority": 9})
    for n in range(200):
        ch.basic_publish("", "overtake", b"%d" % n, properties=priority_props(1))
    for n in range(200, 205):
        ch.basic_publish("", "overtake", b"%d" % n, properties=priority_props(9))
    ch.basic_publish("", "overtake", b"205", properties=priority_props(0))
    ch.basic_publish("", "overtake", b"206", properties=priority_props(1))
    got = [int(body) for body in bodies(get_all(ch, "overtake"))]
    assert got == list(range(200, 205)) + list(range(200)) + [206, 205]
    c.close()


def test_unacked_messages_of_a_paged_priority_queue_come_back_once(restartable):
    # A consumer holds low-priority messages unacked while a flood of higher priorities pages
    # out: the held ones must not be read back from the store as ready, and a requeue puts
    # them back once, redelivered.
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("held", durable=True, arguments={"x-max-priority": 5})
    for n in range(20):
        ch.basic_publish("", "held", b"%d" % n, properties=priority_props(0))
    consumer = connect(b)
    cch = consumer.channel()
    held = [cch.basic_get("held")[0] for _ in range(5)]
    assert [m.delivery_tag for m in held] == [1, 2, 3, 4, 5]
    for n in range(20, 320):
        ch.basic_publish("", "held", b"%d" % n, properties=priority_props(1 + n % 5))
    # Some held messages acked, the others returned.
    cch.basic_ack(2, multiple=True)
    cch.basic_nack(5, multiple=True, requeue=True)
    got = get_all(ch, "held")
    numbers = [int(body) for body in bodies(got)]
    expected = sorted(range(20, 320), key=lambda n: (-(1 + n % 5), n)) + list(range(2, 20))
    assert numbers == expected
    redelivered = [int(body) for m, _, body in got if m.redelivered]
    assert redelivered == [2, 3, 4]
    consumer.close()
    c.close()


def test_a_transient_priority_queue_pages_under_memory_pressure(restartable):
    b = restartable(PRESSURE)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("tprio", arguments={"x-max-priority": 5})  # not durable
    for n in range(1500):  # 3 MB of bodies
        ch.basic_publish("", "tprio", b"%06d" % n + KIB2,
                         properties=priority_props(n % 7, persistent=False))
    api = Api(b.http)
    q = api.ok("GET", "/api/queues/%2F/tprio")
    assert q["messages_ready"] == 1500
    assert q["messages_paged_out"] > 1000, q
    # The DLQ tools browse it in delivery order too.
    items, offset = [], 0
    while offset is not None:
        page = api.ok("GET", "/api/queues/%%2F/tprio/messages?offset=%d&limit=400" % offset)
        items += page["items"]
        offset = page["next_offset"]
    assert [int(i["payload"][:6]) for i in items] == delivery_order(range(1500))
    api.close()
    msgs = bodies(get_all(ch, "tprio"))
    assert [int(body[:6]) for body in msgs] == delivery_order(range(1500))
    c.close()


def test_a_returned_message_recovered_inside_the_paged_region_keeps_its_place(restartable):
    # A low-priority message returned with counts, then more higher-priority ones than recovery
    # loads (it reads 4096 records at a time, then stops at the window): after a restart the
    # returned one is past the loaded head, inside the paged region, read on its own with its
    # counts; it must still come after every higher-priority message.
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("late", durable=True, arguments={"x-max-priority": 5})
    ch.basic_publish("", "late", b"low", properties=priority_props(0))
    m, _, _ = ch.basic_get("late")
    ch.basic_reject(m.delivery_tag, requeue=True)
    for n in range(4200):
        ch.basic_publish("", "late", b"%d" % n, properties=priority_props(5))
    c.close()
    b = restartable.restart()
    c = connect(b)
    got = get_all(c.channel(), "late")
    assert bodies(got) == [b"%d" % n for n in range(4200)] + [b"low"]
    m, props, _ = got[-1]
    assert m.redelivered and props.headers["x-delivery-count"] == 1
    c.close()


@pytest.mark.parametrize("restart", ["none", "kill"])
def test_a_retry_released_inside_a_paged_priority_region_keeps_its_place(restartable, restart):
    # A low-priority message waits to be retried; a flood of higher priorities pages out the
    # rest, so the region now starts below the waiting message. Released, it is back in the
    # store inside the region and in memory: it must come once, redelivered, at its place, also
    # when the region is read back after a kill (its counts read with it).
    import time
    from test_nack_delay import nack_delay
    b = restartable(WINDOW)
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("rwait", durable=True, arguments={"x-max-priority": 5})
    for n in range(20):
        ch.basic_publish("", "rwait", b"%d" % n, properties=priority_props(0))
    m, _, body = ch.basic_get("rwait")
    assert body == b"0"
    nack_delay(ch, m.delivery_tag, 1000)
    for n in range(20, 120):
        ch.basic_publish("", "rwait", b"%d" % n, properties=priority_props(1 + n % 5))
    api = Api(b.http)
    q = api.ok("GET", "/api/queues/%2F/rwait")
    assert (q["messages_waiting"], q["messages_ready"]) == (1, 119)
    time.sleep(1.5)
    q = api.ok("GET", "/api/queues/%2F/rwait")
    assert (q["messages_waiting"], q["messages_ready"]) == (0, 120)
    api.close()
    ch.basic_publish("", "rwait", b"sync", properties=priority_props(0))
    if restart == "kill":
        c.close()
        b = restartable.restart(kill=True)
        c = connect(b)
        ch = c.channel()
    got = get_all(ch, "rwait")
    numbers = [body.decode() for body in bodies(got)]
    expected = [str(n) for n in sorted(range(20, 120), key=lambda n: (-(1 + n % 5), n))]
    expected += [str(n) for n in range(20)] + ["sync"]
    assert numbers == expected
    first = next(props for m, props, body in got if body == b"0")
    assert first.headers["x-delivery-count"] == 1
    redelivered = [body for m, _, body in got if m.redelivered]
    if restart == "none":
        assert redelivered == [b"0"]
    else:
        assert b"0" in redelivered
    c.close()
