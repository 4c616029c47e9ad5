"""Priority queues (x-max-priority), as RabbitMQ 3.10: higher priority first, FIFO within a
priority, priorities above the maximum count as the maximum, requeued messages go back to their
place within their priority."""

import pika

from helpers_pika import *  # noqa: F401,F403


def publish(ch, q, body, priority=None):
    ch.basic_publish("", q, body, pika.BasicProperties(priority=priority))


def test_higher_priority_first_fifo_within(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-priority": 5})
    publish(ch, q, b"low-1", 1)
    publish(ch, q, b"none")
    publish(ch, q, b"high-1", 5)
    publish(ch, q, b"low-2", 1)
    publish(ch, q, b"high-2", 5)
    publish(ch, q, b"over-max", 9)  # counts as 5
    assert get_all(ch, q) == [b"high-1", b"high-2", b"over-max", b"low-1", b"low-2", b"none"]


def test_requeue_keeps_place_within_priority(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-priority": 3})
    publish(ch, q, b"a", 3)
    publish(ch, q, b"b", 3)
    publish(ch, q, b"c", 1)
    method, _, body = ch.basic_get(q)
    assert body == b"a"
    ch.basic_reject(method.delivery_tag, requeue=True)
    assert get_all(ch, q) == [b"a", b"b", b"c"]


def test_plain_queue_ignores_priority(ch, names):
    q = names.queue()
    ch.queue_declare(q)
    publish(ch, q, b"first", 1)
    publish(ch, q, b"second", 9)
    assert get_all(ch, q) == [b"first", b"second"]


def test_invalid_max_priority_is_refused(ch, names):
    with channel_closed(406, "PRECONDITION_FAILED - invalid arg 'x-max-priority'"):
        ch.queue_declare(names.queue(), arguments={"x-max-priority": 1000})
