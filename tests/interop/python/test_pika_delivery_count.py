"""Delivery counting on every queue, with RabbitMQ 4.3's quorum-queue rules as
../shared/SEMANTICS.md settles them (RabbitMQ 3.10 lacks this, so these tests are Warren's own):
x-acquired-count counts every return to the queue, x-delivery-count the failed ones (reject with
requeue, a lost channel); x-delivery-limit dead-letters with reason delivery_limit."""

import os

import pika
import pytest

from helpers_pika import *  # noqa: F401,F403
# restartable is a fixture: pytest finds it in this module's namespace.
from test_durability import connect as connect_to, restartable  # noqa: F401

pytestmark = pytest.mark.skipif(bool(os.environ.get("WARREN_TEST_URL")),
                                reason="RabbitMQ 3.10 has no delivery counts on classic queues")


def get(ch, q):
    method, props, body = ch.basic_get(q)
    assert method is not None, "queue %s is empty" % q
    return method, (props.headers or {}), body


def test_first_delivery_carries_no_counts(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"m")
    method, headers, _ = get(ch, q)
    assert "x-delivery-count" not in headers and "x-acquired-count" not in headers
    ch.basic_ack(method.delivery_tag)


def test_reject_counts_a_failed_delivery(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"m")
    method, _, _ = get(ch, q)
    for n in (1, 2):
        ch.basic_reject(method.delivery_tag, requeue=True)
        method, headers, _ = get(ch, q)
        assert method.redelivered
        assert headers["x-delivery-count"] == n
        assert headers["x-acquired-count"] == n
    ch.basic_ack(method.delivery_tag)


def test_nack_returns_without_failing(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"m")
    method, _, _ = get(ch, q)
    ch.basic_nack(method.delivery_tag, requeue=True)
    method, headers, _ = get(ch, q)
    assert headers["x-acquired-count"] == 1
    assert "x-delivery-count" not in headers
    ch.basic_ack(method.delivery_tag)


def test_lost_channel_counts_as_failed(connect, names):
    conn = connect()
    first = conn.channel()
    q = names.queue()
    first.queue_declare(q)
    first.basic_publish("", q, b"m")
    get(first, q)
    first.close()  # unacked: back to the queue
    ch = conn.channel()
    method, headers, _ = get(ch, q)
    assert headers["x-delivery-count"] == 1
    assert headers["x-acquired-count"] == 1
    ch.basic_ack(method.delivery_tag)


def test_delivery_limit_dead_letters(ch, names):
    dlq, q = names.queue("dlq"), names.queue()
    ch.queue_declare(dlq)
    ch.queue_declare(q, arguments={"x-delivery-limit": 2, "x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", q, b"poison")
    deliveries = 0
    while True:
        method, _, _ = ch.basic_get(q)
        if method is None:
            break
        deliveries += 1
        ch.basic_reject(method.delivery_tag, requeue=True)
    # With limit 2, a message rejected every time is delivered 3 times.
    assert deliveries == 3
    method, props, body = ch.basic_get(dlq, auto_ack=True)
    assert body == b"poison"
    assert props.headers["x-death"][0]["reason"] == "delivery_limit"


def test_nacks_do_not_use_up_the_limit(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-delivery-limit": 1})
    ch.basic_publish("", q, b"m")
    for _ in range(5):
        method, _, _ = get(ch, q)
        ch.basic_nack(method.delivery_tag, requeue=True)
    method, headers, _ = get(ch, q)
    assert headers["x-acquired-count"] == 5
    ch.basic_ack(method.delivery_tag)


# Counts survive restarts: a stored message returned to its durable queue keeps its counts after
# a clean restart and after a kill, so x-delivery-limit holds across crashes too.
PERSISTENT = pika.BasicProperties(delivery_mode=2)


@pytest.mark.parametrize("kill", [False, True], ids=["restart", "kill"])
def test_counts_survive_a_restart(restartable, kill):
    b = restartable()
    c = connect_to(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("counted", durable=True,
                     arguments={"x-delivery-limit": 2, "x-dead-letter-exchange": "",
                                "x-dead-letter-routing-key": "counted-dlq"})
    ch.queue_declare("counted-dlq", durable=True)
    ch.basic_publish("", "counted", b"poison", properties=PERSISTENT)
    ch.basic_publish("", "counted", b"fine", properties=PERSISTENT)
    method, _, _ = get(ch, "counted")
    ch.basic_reject(method.delivery_tag, requeue=True)
    method, _, _ = get(ch, "counted")
    ch.basic_nack(method.delivery_tag, requeue=True)
    # A message that went and came back is counted; one never delivered is not. A confirmed
    # publish after the returns: they are stored before the kill.
    ch.queue_declare("sync", durable=True)
    ch.basic_publish("", "sync", b"s", properties=PERSISTENT)
    c.close()
    b = restartable.restart(kill=kill)
    c = connect_to(b)
    ch = c.channel()
    method, headers, body = get(ch, "counted")
    assert body == b"poison" and method.redelivered
    assert (headers["x-delivery-count"], headers["x-acquired-count"]) == (1, 2)
    ch.basic_reject(method.delivery_tag, requeue=True)
    method, headers, body = get(ch, "counted")
    assert (headers["x-delivery-count"], headers["x-acquired-count"]) == (2, 3)
    # The third failed attempt is past the limit: dead-lettered, even though a restart came
    # between the attempts.
    ch.basic_reject(method.delivery_tag, requeue=True)
    method, headers, body = get(ch, "counted")
    assert body == b"fine"
    assert "x-delivery-count" not in headers and "x-acquired-count" not in headers
    ch.basic_ack(method.delivery_tag)
    method, headers, body = get(ch, "counted-dlq")
    assert body == b"poison"
    assert headers["x-death"][0]["reason"] == "delivery_limit"
    ch.basic_ack(method.delivery_tag)
    c.close()
    # Settled messages leave no counts behind: a message published now is not counted.
    b = restartable.restart()
    c = connect_to(b)
    ch = c.channel()
    ch.basic_publish("", "counted", b"new", properties=PERSISTENT)
    method, headers, body = get(ch, "counted")
    assert body == b"new" and "x-acquired-count" not in headers
    ch.basic_ack(method.delivery_tag)
    c.close()
