"""x-expires (a queue unused for that long is deleted) and x-single-active-consumer (only the
first consumer receives; the next takes over when it leaves), as RabbitMQ 3.10 does them."""

import time

import pika

from helpers_pika import *  # noqa: F401,F403


def pump_for(conn, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.process_data_events(0.05)


def exists(connect, q):
    ch = connect().channel()
    try:
        ch.queue_declare(q, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404
        return False


def test_unused_queue_expires(connect, names):
    ch = connect().channel()
    q = names.queue()
    ch.queue_declare(q, arguments={"x-expires": 200})
    ch.basic_publish("", q, b"messages do not keep it alive")
    assert exists(connect, q)
    time.sleep(0.6)
    assert not exists(connect, q)


def test_consumer_keeps_queue_alive(connect, names):
    conn = connect()
    ch = conn.channel()
    q = names.queue()
    ch.queue_declare(q, arguments={"x-expires": 200})
    tag = ch.basic_consume(q, lambda *a: None, auto_ack=True)
    pump_for(conn, 0.5)
    assert exists(connect, q)
    ch.basic_cancel(tag)
    pump_for(conn, 0.6)
    assert not exists(connect, q)


def test_invalid_expires_is_refused(ch, names):
    with channel_closed(406, "PRECONDITION_FAILED - invalid arg 'x-expires'"):
        ch.queue_declare(names.queue(), arguments={"x-expires": 0})


def test_single_active_consumer(conn, names):
    ch = conn.channel()
    q = names.queue()
    ch.queue_declare(q, arguments={"x-single-active-consumer": True})
    got = {"a": [], "b": []}
    tag_a = ch.basic_consume(q, lambda c, m, p, b: got["a"].append(b), auto_ack=True)
    ch.basic_consume(q, lambda c, m, p, b: got["b"].append(b), auto_ack=True)
    for i in range(4):
        ch.basic_publish("", q, b"%d" % i)
    pump_for(conn, 0.3)
    assert got == {"a": [b"0", b"1", b"2", b"3"], "b": []}
    ch.basic_cancel(tag_a)
    for i in range(4, 6):
        ch.basic_publish("", q, b"%d" % i)
    pump_for(conn, 0.3)
    assert got["b"] == [b"4", b"5"]
