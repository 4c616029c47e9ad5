"""The queue retry policy (SEMANTICS.md): x-delayed-retry-type / -min / -max as RabbitMQ 4.3's
quorum queues, plus Warren's x-delayed-retry-multiplier. A plain basic.reject / basic.nack with
requeue from any client makes the message wait before it is delivered again, without holding up
the messages behind it. Warren only: RabbitMQ 3.10 ignores these arguments (the tests skip there).

Timing: a message must never come early; the upper bounds are generous (tests are not benchmarks).
"""

import decimal
import time

import pika
import pytest

from helpers_pika import *  # noqa: F401,F403
from test_nack_delay import get_eventually, is_warren


@pytest.fixture
def warren_ch(conn):
    if not is_warren(conn):
        pytest.skip("x-delayed-retry-* needs Warren (RabbitMQ 4.3 quorum queues only)")
    return conn.channel()


def retry_queue(ch, names, **args):
    q = names.queue()
    arguments = {("x-delayed-retry-" + k.replace("_", "-")): v for k, v in args.items()}
    ch.queue_declare(q, arguments=arguments)
    return q


def test_failed_returns_wait_min_times_delivery_count(warren_ch, names):
    ch = warren_ch
    q = retry_queue(ch, names, type="failed", min=300, max=5000)
    ch.basic_publish("", q, b"job")
    m, _, _ = ch.basic_get(q)
    t0 = time.monotonic()
    ch.basic_reject(m.delivery_tag, requeue=True)  # delivery count 1: waits 300 ms
    m, props, _ = get_eventually(ch, q)
    first = time.monotonic() - t0
    assert props.headers["x-delivery-count"] == 1 and m.redelivered
    t0 = time.monotonic()
    ch.basic_reject(m.delivery_tag, requeue=True)  # delivery count 2: waits 600 ms
    m, props, _ = get_eventually(ch, q)
    second = time.monotonic() - t0
    assert props.headers["x-delivery-count"] == 2
    ch.basic_ack(m.delivery_tag)
    assert 0.3 <= first < 0.3 + 3, first
    assert 0.6 <= second < 0.6 + 3, second


def test_failed_type_leaves_nack_immediate_and_returned_type_the_opposite(warren_ch, names):
    ch = warren_ch
    failed = retry_queue(ch, names, type="failed", min=2000)
    ch.basic_publish("", failed, b"x")
    # basic.nack does not raise the delivery count: not a "failed" return, so no wait.
    m, _, _ = ch.basic_get(failed)
    ch.basic_nack(m.delivery_tag, requeue=True)
    m, props, _ = ch.basic_get(failed)
    assert m is not None and m.redelivered
    assert "x-delivery-count" not in (props.headers or {})
    ch.basic_ack(m.delivery_tag)

    returned = retry_queue(ch, names, type="returned", min=400)
    ch.basic_publish("", returned, b"y")
    m, _, _ = ch.basic_get(returned)
    ch.basic_reject(m.delivery_tag, requeue=True)  # failed: not "returned", no wait
    m, _, _ = ch.basic_get(returned)
    assert m is not None
    # A nack waits min * max(1, delivery count 1) = 400 ms.
    t0 = time.monotonic()
    ch.basic_nack(m.delivery_tag, requeue=True)
    assert ch.basic_get(returned)[0] is None
    m, _, _ = get_eventually(ch, returned)
    assert time.monotonic() - t0 >= 0.4
    ch.basic_ack(m.delivery_tag)


def test_multiplier_backs_off_exponentially_up_to_max(warren_ch, names):
    ch = warren_ch
    q = retry_queue(ch, names, type="all", min=200, max=500, multiplier=2)
    ch.basic_publish("", q, b"job")
    m, _, _ = ch.basic_get(q)
    waits = []
    for _ in range(3):  # delivery counts 1, 2, 3: 200, 400, min(800, 500) = 500 ms
        t0 = time.monotonic()
        ch.basic_reject(m.delivery_tag, requeue=True)
        m, props, _ = get_eventually(ch, q)
        waits.append(time.monotonic() - t0)
    ch.basic_ack(m.delivery_tag)
    assert props.headers["x-delivery-count"] == 3
    for waited, due in zip(waits, (0.2, 0.4, 0.5)):
        assert due <= waited < due + 3, (waits, "expected 0.2, 0.4, 0.5 s")


def test_a_closed_channel_counts_as_failed_and_waits(warren_ch, conn, names):
    ch = warren_ch
    q = retry_queue(ch, names, type="failed", min=500)
    ch.basic_publish("", q, b"held")
    other = conn.channel()
    m, _, _ = other.basic_get(q)
    assert m is not None
    t0 = time.monotonic()
    other.close()  # the unacked message returns as a failed attempt
    assert ch.basic_get(q)[0] is None
    m, props, _ = get_eventually(ch, q)
    assert time.monotonic() - t0 >= 0.5
    assert props.headers["x-delivery-count"] == 1
    ch.basic_ack(m.delivery_tag)


def test_a_waiting_message_does_not_block_the_ones_behind_and_is_not_ready(warren_ch,
                                                                             names):
    ch = warren_ch
    q = retry_queue(ch, names, type="all", min=60000)
    for body in (b"a", b"b", b"c"):
        ch.basic_publish("", q, body)
    m, _, body = ch.basic_get(q)
    assert body == b"a"
    ch.basic_reject(m.delivery_tag, requeue=True)
    got = []
    for _ in range(2):
        m, _, body = ch.basic_get(q, auto_ack=True)
        got.append(body)
    assert got == [b"b", b"c"]
    assert ch.basic_get(q)[0] is None
    # Not ready, so not in queue.declare's count (ready messages), as RabbitMQ counts.
    assert ch.queue_declare(q, passive=True).method.message_count == 0


def test_past_the_delivery_limit_the_message_is_dead_lettered_not_retried(warren_ch, names):
    ch = warren_ch
    dlq = names.queue()
    ch.queue_declare(dlq)
    q = names.queue()
    ch.queue_declare(q, arguments={
        "x-delayed-retry-type": "failed", "x-delayed-retry-min": 100,
        "x-delivery-limit": 1, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq})
    ch.basic_publish("", q, b"poison")
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=True)  # count 1: within the limit, waits
    m, _, _ = get_eventually(ch, q)
    ch.basic_reject(m.delivery_tag, requeue=True)  # count 2 > limit 1: dead-lettered at once
    m, props, body = get_eventually(ch, dlq, auto_ack=True, what="the dead-lettered message")
    assert body == b"poison"
    assert props.headers["x-death"][0]["reason"] == "delivery_limit"
    assert ch.basic_get(q)[0] is None


@pytest.mark.parametrize("args, text", [
    ({"x-delayed-retry-type": "sometimes", "x-delayed-retry-min": 1}, "x-delayed-retry-type"),
    ({"x-delayed-retry-type": 1}, "x-delayed-retry-type"),
    ({"x-delayed-retry-type": "all"}, "x-delayed-retry-min"),
    ({"x-delayed-retry-type": "all", "x-delayed-retry-min": -5}, "x-delayed-retry-min"),
    ({"x-delayed-retry-type": "all", "x-delayed-retry-min": 5, "x-delayed-retry-max": "x"},
     "x-delayed-retry-max"),
    ({"x-delayed-retry-type": "all", "x-delayed-retry-min": 5, "x-delayed-retry-multiplier": 0},
     "x-delayed-retry-multiplier"),
])
def test_bad_retry_arguments_are_refused_with_406(warren_ch, conn, names, args, text):
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        warren_ch.queue_declare(names.queue(), arguments=args)
    assert e.value.reply_code == 406
    assert text in e.value.reply_text


def test_disabled_type_and_decimal_multiplier_are_accepted(warren_ch, names):
    ch = warren_ch
    q = retry_queue(ch, names, type="disabled")
    ch.basic_publish("", q, b"x")
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=True)
    assert ch.basic_get(q, auto_ack=True)[0] is not None  # no wait
    # pika sends 1.5 as an AMQP decimal (it cannot encode floats).
    retry_queue(ch, names, type="all", min=10, multiplier=decimal.Decimal("1.5"))
