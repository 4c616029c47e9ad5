"""Consumer priorities (x-priority): the highest-priority consumer with capacity gets messages;
lower ones only when it is full. Equal priorities take turns."""

import time

from helpers_pika import *  # noqa: F401,F403


def drain(conn, seconds=0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.process_data_events(0.05)


def test_high_priority_consumer_gets_everything_while_it_has_capacity(conn, names):
    ch = conn.channel()
    q = names.queue()
    ch.queue_declare(q)
    got = {"high": [], "low": []}
    ch.basic_consume(q, lambda c, m, p, b: got["low"].append(b), auto_ack=True)
    ch.basic_consume(q, lambda c, m, p, b: got["high"].append(b), auto_ack=True,
                     arguments={"x-priority": 10})
    for i in range(20):
        ch.basic_publish("", q, b"%d" % i)
    drain(conn)
    assert len(got["high"]) == 20 and got["low"] == []


def test_lower_priority_gets_messages_when_higher_is_full(conn, names):
    ch = conn.channel()
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_qos(prefetch_count=2)  # per consumer, for the consumers below
    got = {"high": [], "low": []}
    ch.basic_consume(q, lambda c, m, p, b: got["low"].append(b))
    ch.basic_consume(q, lambda c, m, p, b: got["high"].append(b), arguments={"x-priority": 10})
    for i in range(6):
        ch.basic_publish("", q, b"%d" % i)
    drain(conn)
    # Nobody acks: the high-priority consumer holds its 2, the low one takes the next 2.
    assert got["high"] == [b"0", b"1"]
    assert got["low"] == [b"2", b"3"]
