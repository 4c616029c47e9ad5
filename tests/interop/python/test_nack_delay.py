"""Warren's nack-with-delay extension (docs/PROTOCOL-EXTENSIONS.md): capability
`warren.nack_delay`, method basic 60/250 (delivery-tag, multiple, delay ms). pika does not know the
method, so the tests send its frame through pika's own channel plumbing. Warren only (RabbitMQ
lacks it: the capability test checks that it is absent there).
"""

import struct
import time

import pika
import pika.amqp_object
import pytest

from helpers_pika import *  # noqa: F401,F403


class WarrenNackDelay(pika.amqp_object.Method):
    INDEX = 0x003C00FA  # class 60, method 250
    NAME = "Basic.WarrenNackDelay"

    def __init__(self, delivery_tag, multiple, delay):
        self.delivery_tag, self.multiple, self.delay = delivery_tag, multiple, delay

    @property
    def synchronous(self):
        return False

    def encode(self):
        return [struct.pack(">QBI", self.delivery_tag, 1 if self.multiple else 0, self.delay)]


def nack_delay(ch, tag, delay_ms, multiple=False):
    ch._impl._send_method(WarrenNackDelay(tag, multiple, delay_ms))


def get_eventually(ch, queue, auto_ack=False, what="a message"):
    """basic.get until a message comes (within WAIT): (method, properties, body)."""
    deadline = time.monotonic() + WAIT
    while True:
        m, props, body = ch.basic_get(queue, auto_ack=auto_ack)
        if m is not None:
            return m, props, body
        assert time.monotonic() < deadline, "%s never came" % what
        time.sleep(0.02)


def is_warren(conn):
    caps = conn._impl.server_properties.get("capabilities", {})
    return caps.get("warren.nack_delay") is True


def test_capability_is_advertised(conn):
    if not is_warren(conn):
        pytest.skip("not Warren (RabbitMQ does not advertise warren.nack_delay)")
    assert conn._impl.server_properties["capabilities"]["warren.nack_delay"] is True


def test_nacked_message_waits_its_delay_without_blocking_the_next(conn, names):
    if not is_warren(conn):
        pytest.skip("needs Warren's nack-with-delay")
    ch = conn.channel()
    q = names.queue()
    ch.queue_declare(q)
    ch.basic_publish("", q, b"first")
    ch.basic_publish("", q, b"second")
    m, _, body = ch.basic_get(q)
    assert body == b"first"
    t0 = time.monotonic()
    nack_delay(ch, m.delivery_tag, 700)
    # The next message is not held up by the waiting one.
    m2, _, body2 = ch.basic_get(q, auto_ack=True)
    assert body2 == b"second"
    assert ch.basic_get(q)[0] is None  # still waiting
    m3, props, body3 = get_eventually(ch, q, auto_ack=True, what="the delayed message")
    waited = time.monotonic() - t0
    assert body3 == b"first"
    assert waited >= 0.7, "delivered %.3f s after the nack, before its 0.7 s delay" % waited
    assert m3.redelivered
    # A failed attempt: the delivery count goes up (SEMANTICS.md).
    assert props.headers["x-delivery-count"] == 1


def test_delivery_limit_applies_to_delayed_nacks(conn, names):
    if not is_warren(conn):
        pytest.skip("needs Warren's nack-with-delay")
    ch = conn.channel()
    q, dlq = names.queue(), names.queue()
    ch.queue_declare(dlq)
    ch.queue_declare(q, arguments={"x-delivery-limit": 1, "x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", q, b"poison")
    for _ in range(2):
        m, _, _ = get_eventually(ch, q)
        nack_delay(ch, m.delivery_tag, 50)
    _, props, body = get_eventually(ch, dlq, auto_ack=True, what="the dead-lettered message")
    assert body == b"poison"
    assert props.headers["x-death"][0]["reason"] == "delivery_limit"


def test_unknown_tag_is_a_channel_error(conn, names):
    if not is_warren(conn):
        pytest.skip("needs Warren's nack-with-delay")
    ch = conn.channel()
    nack_delay(ch, 99, 10)
    with channel_closed(406, "PRECONDITION_FAILED - unknown delivery tag 99"):
        ch.queue_declare(names.queue())
