"""Dead-lettering and message TTL, as RabbitMQ 3.10 does them: x-death (an array, newest first,
count as a 64-bit integer), x-first-death-*, expiry to a DLX without a consumer, and the rule that
drops a message caught in an expiry cycle."""

import datetime
import time

import pika
import pytest

from helpers_pika import *  # noqa: F401,F403


def get_eventually(ch, queue, seconds=5.0, auto_ack=True):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        method, props, body = ch.basic_get(queue, auto_ack=auto_ack)
        if method is not None:
            return method, props, body
        ch.connection.process_data_events(0.02)
    raise AssertionError("nothing arrived on %s" % queue)


def test_rejected_message_goes_to_the_dlq_with_x_death(ch, names):
    dlq, work = names.queue("dlq"), names.queue("work")
    ch.queue_declare(dlq)
    ch.queue_declare(work, arguments={"x-dead-letter-exchange": "",
                                      "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", work, b"poison", pika.BasicProperties(headers={"app": "x"}))
    method, _, _ = ch.basic_get(work)
    ch.basic_reject(method.delivery_tag, requeue=False)
    method, props, body = get_eventually(ch, dlq)
    assert body == b"poison"
    assert method.exchange == "" and method.routing_key == dlq
    headers = props.headers
    assert headers["app"] == "x"
    deaths = headers["x-death"]
    assert isinstance(deaths, list) and len(deaths) == 1
    death = deaths[0]
    assert death["count"] == 1
    assert death["reason"] == "rejected"
    assert death["queue"] == work
    assert death["exchange"] == ""
    assert death["routing-keys"] == [work]
    assert isinstance(death["time"], datetime.datetime)
    assert headers["x-first-death-reason"] == "rejected"
    assert headers["x-first-death-queue"] == work
    assert headers["x-first-death-exchange"] == ""


def test_nack_without_requeue_dead_letters_too(ch, names):
    dlq, work = names.queue("dlq"), names.queue("work")
    ch.queue_declare(dlq)
    ch.queue_declare(work, arguments={"x-dead-letter-exchange": "",
                                      "x-dead-letter-routing-key": dlq})
    for i in range(3):
        ch.basic_publish("", work, b"m%d" % i)
    tags = [ch.basic_get(work)[0].delivery_tag for _ in range(3)]
    ch.basic_nack(tags[-1], multiple=True, requeue=False)
    bodies = [get_eventually(ch, dlq)[2] for _ in range(3)]
    assert bodies == [b"m0", b"m1", b"m2"]


def test_expired_messages_are_dead_lettered_without_a_consumer(ch, names):
    dlq, delay = names.queue("dlq"), names.queue("delay")
    ch.queue_declare(dlq)
    ch.queue_declare(delay, arguments={"x-message-ttl": 100, "x-dead-letter-exchange": "",
                                       "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", delay, b"later", pika.BasicProperties(expiration="5000"))
    _, props, body = get_eventually(ch, dlq)
    assert body == b"later"
    death = props.headers["x-death"][0]
    assert death["reason"] == "expired"
    assert death["queue"] == delay
    # The per-message expiration moves into the history and off the message.
    assert death["original-expiration"] == "5000"
    assert props.expiration is None


def test_per_message_expiration(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"short", pika.BasicProperties(expiration="50"))
    ch.basic_publish("", q, b"long", pika.BasicProperties(expiration="60000"))
    time.sleep(0.2)
    method, _, body = ch.basic_get(q, auto_ack=True)
    assert body == b"long"


def test_queue_ttl_expires_messages(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-message-ttl": 50})
    ch.basic_publish("", q, b"gone")
    time.sleep(0.2)
    method, _, _ = ch.basic_get(q)
    assert method is None


def test_second_death_in_same_queue_counts(ch, names):
    dlq, work = names.queue("dlq"), names.queue("work")
    ch.queue_declare(dlq, arguments={"x-dead-letter-exchange": "",
                                     "x-dead-letter-routing-key": work})
    ch.queue_declare(work, arguments={"x-dead-letter-exchange": "",
                                      "x-dead-letter-routing-key": dlq})
    # Rejected twice in `work` (and once in the DLQ in between).
    ch.basic_publish("", work, b"bounce")
    m, _, _ = ch.basic_get(work)
    ch.basic_reject(m.delivery_tag, requeue=False)       # work -> dlq
    m, _, _ = get_eventually(ch, dlq, auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=False)       # dlq -> work
    m, _, _ = get_eventually(ch, work, auto_ack=False)
    ch.basic_reject(m.delivery_tag, requeue=False)       # work -> dlq again
    _, props, _ = get_eventually(ch, dlq)
    deaths = props.headers["x-death"]
    by_queue = {d["queue"]: d for d in deaths}
    assert by_queue[work]["count"] == 2
    assert by_queue[dlq]["count"] == 1
    assert deaths[0]["queue"] == work  # the newest death comes first


def test_expiry_cycle_is_dropped(ch, names):
    # A queue that dead-letters expired messages back to itself: RabbitMQ drops the message the
    # second time round instead of spinning forever.
    q = names.queue("loop")
    ch.queue_declare(q, arguments={"x-message-ttl": 20, "x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": q})
    ch.basic_publish("", q, b"spin")
    time.sleep(0.3)
    ok = ch.queue_declare(q, passive=True)
    assert ok.method.message_count == 0


def is_warren(ch):
    caps = ch.connection._impl.server_properties.get("capabilities", {})
    return caps.get("warren.nack_delay") is True


def test_x_last_death_headers_follow_the_newest_death(ch, names):
    # x-last-death-* as RabbitMQ 3.13+ writes them (3.10 has only x-first-death-*).
    if not is_warren(ch):
        pytest.skip("RabbitMQ 3.10 does not write x-last-death-*")
    final, middle, work = names.queue("final"), names.queue("middle"), names.queue("work")
    ch.queue_declare(final)
    ch.queue_declare(middle, arguments={"x-message-ttl": 0, "x-dead-letter-exchange": "",
                                        "x-dead-letter-routing-key": final})
    ch.queue_declare(work, arguments={"x-dead-letter-exchange": "",
                                      "x-dead-letter-routing-key": middle})
    ch.basic_publish("", work, b"twice dead")
    method, _, _ = ch.basic_get(work)
    ch.basic_reject(method.delivery_tag, requeue=False)
    _, props, body = get_eventually(ch, final)
    h = props.headers
    assert body == b"twice dead"
    assert (h["x-first-death-queue"], h["x-first-death-reason"]) == (work, "rejected")
    assert (h["x-last-death-queue"], h["x-last-death-reason"], h["x-last-death-exchange"]) == \
        (middle, "expired", "")
    assert [d["reason"] for d in h["x-death"]] == ["expired", "rejected"]


def test_a_message_with_its_own_ttl_expires_behind_a_long_lived_head(ch, names):
    # SEMANTICS.md: promptly, even when it is not at the head (RabbitMQ 3.10's classic queues
    # wait until it reaches the head, so this is Warren only).
    if not is_warren(ch):
        pytest.skip("RabbitMQ 3.10 expires per-message TTLs only at the head")
    dlq, work = names.queue("dlq"), names.queue("work")
    ch.queue_declare(dlq)
    ch.queue_declare(work, arguments={"x-dead-letter-exchange": "",
                                      "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", work, b"head, lives long")
    ch.basic_publish("", work, b"short", pika.BasicProperties(expiration="300"))
    ch.basic_publish("", work, b"tail, lives long")
    t0 = time.monotonic()
    method, props, body = get_eventually(ch, dlq)
    assert body == b"short" and time.monotonic() - t0 >= 0.25
    assert props.headers["x-death"][0]["reason"] == "expired"
    assert props.headers["x-death"][0]["original-expiration"] == "300"
    # The others stay, in order.
    got = [ch.basic_get(work, auto_ack=True)[2] for _ in range(2)]
    assert got == [b"head, lives long", b"tail, lives long"]
    assert ch.queue_declare(work, passive=True).method.message_count == 0
