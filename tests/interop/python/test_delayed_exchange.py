"""The x-delayed-message exchange (SEMANTICS.md): the retired RabbitMQ plugin's interface, built on
Warren's store. Argument x-delayed-type names the routing type; header x-delay (ms) holds the
message until it is due, then it is routed; mandatory returns only what is unroutable then.
Warren only (Debian's RabbitMQ 3.10 has no such plugin: the tests skip there).
"""

import random
import time

import pika
import pytest

from helpers_pika import *  # noqa: F401,F403
from test_nack_delay import get_eventually, is_warren

PERSISTENT = pika.BasicProperties(delivery_mode=2)


@pytest.fixture
def warren_ch(conn):
    if not is_warren(conn):
        pytest.skip("needs Warren's x-delayed-message exchange")
    return conn.channel()


def delayed_exchange(ch, names, routing_type="direct", durable=False):
    x = names.exchange()
    ch.exchange_declare(x, "x-delayed-message", durable=durable,
                        arguments={"x-delayed-type": routing_type})
    return x


def bound_queue(ch, names, x, key="k", durable=False):
    q = names.queue()
    ch.queue_declare(q, durable=durable)
    ch.queue_bind(q, x, key)
    return q


def delayed(ms, **headers):
    return pika.BasicProperties(headers=dict(headers, **{"x-delay": ms}))


@pytest.mark.parametrize("args, code, text", [
    ({}, 406, "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type"),
    ({"x-delayed-type": 5}, 406, "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be"),
    ({"x-delayed-type": "x-delayed-message"}, 406,
     "PRECONDITION_FAILED - Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'"),
    ({"x-delayed-type": "nonsense"}, 503, "COMMAND_INVALID - unknown exchange type 'nonsense'"),
])
def test_declare_checks_x_delayed_type(warren_ch, conn, names, args, code, text):
    # 503 COMMAND_INVALID is a connection error, as in RabbitMQ.
    with (channel_closed if code == 406 else connection_closed)(code, text):
        warren_ch.exchange_declare(names.exchange(), "x-delayed-message", arguments=args)


def test_a_delayed_message_is_routed_when_due_with_x_delay_negated(warren_ch, names):
    ch = warren_ch
    x = delayed_exchange(ch, names)
    q = bound_queue(ch, names, x)
    t0 = time.monotonic()
    ch.basic_publish(x, "k", b"later", properties=delayed(600, other="kept"))
    assert ch.basic_get(q)[0] is None
    assert ch.queue_declare(q, passive=True).method.message_count == 0
    m, props, body = get_eventually(ch, q, auto_ack=True, what="the delayed message")
    assert time.monotonic() - t0 >= 0.6
    assert body == b"later" and m.exchange == x and m.routing_key == "k"
    assert not m.redelivered
    # As the plugin: the delay it waited comes back negated, so republishing does not delay.
    assert props.headers["x-delay"] == -600
    assert props.headers["other"] == "kept"


@pytest.mark.parametrize("headers", [None, {"x-delay": 0}, {"x-delay": -50}, {"x-delay": "500"}])
def test_without_a_positive_integer_delay_the_message_is_routed_at_once(warren_ch, names,
                                                                       headers):
    ch = warren_ch
    x = delayed_exchange(ch, names)
    q = bound_queue(ch, names, x)
    ch.basic_publish(x, "k", b"now", properties=pika.BasicProperties(headers=headers))
    m, _, body = get_eventually(ch, q, auto_ack=True)
    assert body == b"now"


def test_messages_come_out_in_due_time_order(warren_ch, names):
    ch = warren_ch
    x = delayed_exchange(ch, names, "topic")
    q = bound_queue(ch, names, x, key="a.*")
    for delay in (900, 300, 600, 1):
        ch.basic_publish(x, "a.b", str(delay).encode(), properties=delayed(delay))
    got = [get_eventually(ch, q, auto_ack=True)[2] for _ in range(4)]
    assert got == [b"1", b"300", b"600", b"900"]


def test_mandatory_returns_only_when_unroutable_once_due(warren_ch, names):
    ch = warren_ch
    x = delayed_exchange(ch, names)
    q = bound_queue(ch, names, x, key="routable")
    returned = []
    ch.add_on_return_callback(lambda c, method, props, body: returned.append(
        (method.reply_code, method.routing_key, body, time.monotonic())))
    ch.confirm_delivery()
    t0 = time.monotonic()
    ch.basic_publish(x, "nowhere", b"lost", properties=delayed(500), mandatory=True)
    ch.basic_publish(x, "routable", b"kept", properties=delayed(500), mandatory=True)
    # Confirmed at once (it is stored), not returned yet: the plugin returned every delayed
    # message at publish time; Warren decides when the message is due.
    assert returned == []
    deadline = time.monotonic() + WAIT
    while not returned and time.monotonic() < deadline:
        ch.connection.process_data_events(time_limit=0.05)
    assert [(code, key, body) for code, key, body, _ in returned] == [(312, "nowhere", b"lost")]
    assert returned[0][3] - t0 >= 0.5
    assert get_eventually(ch, q, auto_ack=True)[2] == b"kept"


def test_many_delays_through_a_tiny_memory_window_all_arrive_in_order(start_broker):
    # The window holds 4 messages: the rest are read back from the store as it drains,
    # including ones published while it drains.
    b = start_broker(["--delayed-memory-window", "4"])
    c = pika.BlockingConnection(params(b))
    ch = c.channel()
    ch.exchange_declare("dx", "x-delayed-message", arguments={"x-delayed-type": "fanout"})
    ch.queue_declare("out")
    ch.queue_bind("out", "dx")
    ch.confirm_delivery()
    rng = random.Random(7)
    published = []
    t0 = time.monotonic()
    for i in range(80):
        if i == 60:
            time.sleep(0.3)  # the rest while the first ones are coming due
        delay = rng.randrange(50, 1500) if i < 60 else rng.randrange(1, 800)
        published.append(((time.monotonic() - t0) * 1000 + delay, i))
        ch.basic_publish("dx", "", str(i).encode(), properties=delayed(delay))
    got = []
    deadline = time.monotonic() + WAIT + 5
    while len(got) < len(published) and time.monotonic() < deadline:
        m, _, body = ch.basic_get("out", auto_ack=True)
        if m is None:
            time.sleep(0.01)
            continue
        got.append(int(body))
    assert sorted(got) == list(range(80)), "lost or duplicated: %r" % got
    assert time.monotonic() - t0 >= 1.0
    # Due-time order, allowing for due times within a few ms of each other (the test's clock
    # and the broker's differ by the time a publish takes).
    due = {i: d for d, i in published}
    for a, b_ in zip(got, got[1:]):
        assert due[a] <= due[b_] + 60, (a, due[a], b_, due[b_])
    c.close()


def test_cc_and_bcc_apply_when_a_delayed_message_is_routed(warren_ch, names):
    """Sender-selected distribution works through the delay as on a direct exchange: CC and BCC
    keys route too, and BCC never reaches a queue."""
    ch = warren_ch
    x = delayed_exchange(ch, names)
    main, cc, bcc = (bound_queue(ch, names, x, key) for key in ("k", "cc-key", "bcc-key"))
    t0 = time.monotonic()
    ch.basic_publish(x, "k", b"fan", delayed(300, CC=["cc-key"], BCC=["bcc-key"]))
    for q in (main, cc, bcc):
        m, props, body = get_eventually(ch, q, auto_ack=True, what="the delayed copy in " + q)
        assert body == b"fan" and time.monotonic() - t0 >= 0.3
        assert props.headers["CC"] == ["cc-key"] and "BCC" not in props.headers
        assert m.routing_key == "k"


def test_an_exchange_bound_into_a_delayed_exchange_is_delayed_too(warren_ch, names):
    """As the plugin (its exchange holds whatever it routes): a message that reaches a delayed
    exchange through an exchange-to-exchange binding waits there, then goes to that exchange's
    queues; a queue bound to the first exchange directly gets it at once. Consumers see the
    exchange it was published to."""
    ch = warren_ch
    front = names.exchange()
    ch.exchange_declare(front, "direct")
    x = delayed_exchange(ch, names)
    ch.exchange_bind(x, front, "k")
    late = bound_queue(ch, names, x)
    now = bound_queue(ch, names, front)
    t0 = time.monotonic()
    ch.confirm_delivery()
    ch.basic_publish(front, "k", b"via", delayed(400), mandatory=True)
    m, _, body = get_eventually(ch, now, auto_ack=True, what="the undelayed copy")
    assert body == b"via" and time.monotonic() - t0 < 0.4
    assert ch.basic_get(late)[0] is None
    m, props, body = get_eventually(ch, late, auto_ack=True, what="the delayed copy")
    assert time.monotonic() - t0 >= 0.4
    assert body == b"via" and m.exchange == front and props.headers["x-delay"] == -400
    # Without x-delay the binding routes at once.
    ch.basic_publish(front, "k", b"plain")
    assert get_eventually(ch, late, auto_ack=True, what="the plain message")[2] == b"plain"
