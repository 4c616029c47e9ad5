"""Queue length limits as RabbitMQ 3.10 applies them: x-max-length and x-max-length-bytes count
ready messages; x-overflow drop-head (default) drops or dead-letters (reason maxlen) the oldest,
reject-publish refuses the newest (a nack under confirms), reject-publish-dlx also dead-letters
it."""

import time

import pika
import pytest

from helpers_pika import *  # noqa: F401,F403


def settle(ch):
    ch.connection.process_data_events(0.2)


def test_drop_head_keeps_the_newest(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-length": 3})
    for i in range(5):
        ch.basic_publish("", q, b"%d" % i)
    assert get_all(ch, q) == [b"2", b"3", b"4"]


def test_drop_head_dead_letters_with_reason_maxlen(ch, names):
    dlq, q = names.queue("dlq"), names.queue()
    ch.queue_declare(dlq)
    ch.queue_declare(q, arguments={"x-max-length": 1, "x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", q, b"old")
    ch.basic_publish("", q, b"new")
    settle(ch)
    method, props, body = ch.basic_get(dlq, auto_ack=True)
    assert body == b"old"
    assert props.headers["x-death"][0]["reason"] == "maxlen"
    assert get_all(ch, q) == [b"new"]


def test_max_length_bytes(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-length-bytes": 10})
    for body in (b"aaaa", b"bbbb", b"cccc"):
        ch.basic_publish("", q, body)
    assert get_all(ch, q) == [b"bbbb", b"cccc"]


def test_unacked_messages_do_not_count(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-length": 1})
    ch.basic_publish("", q, b"a")
    method, _, _ = ch.basic_get(q)  # now unacked
    ch.basic_publish("", q, b"b")
    assert get_all(ch, q) == [b"b"]
    ch.basic_ack(method.delivery_tag)


def test_reject_publish_nacks_under_confirms(ch, names):
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    ch.confirm_delivery()
    ch.basic_publish("", q, b"first")
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", q, b"second")
    assert get_all(ch, q) == [b"first"]


def test_reject_publish_dlx_dead_letters_the_refused_message(ch, names):
    dlq, q = names.queue("dlq"), names.queue()
    ch.queue_declare(dlq)
    ch.queue_declare(q, arguments={"x-max-length": 1, "x-overflow": "reject-publish-dlx",
                                   "x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", q, b"kept")
    ch.basic_publish("", q, b"refused")
    settle(ch)
    method, props, body = ch.basic_get(dlq, auto_ack=True)
    assert body == b"refused"
    assert props.headers["x-death"][0]["reason"] == "maxlen"
    assert get_all(ch, q) == [b"kept"]


def test_invalid_limits_are_refused(ch, names):
    q = names.queue()
    with channel_closed(406, "PRECONDITION_FAILED - invalid arg 'x-max-length'"):
        ch.queue_declare(q, arguments={"x-max-length": -1})


def test_invalid_overflow_is_refused(conn, names):
    ch = conn.channel()
    with channel_closed(406, "PRECONDITION_FAILED - invalid arg 'x-overflow'"):
        ch.queue_declare(names.queue(), arguments={"x-overflow": "explode"})
