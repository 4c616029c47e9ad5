"""basic.publish, basic.return, basic.get: message content and properties on the wire."""

import datetime
import decimal

import pika
import pytest

from helpers_pika import *  # noqa: F401,F403


def test_mandatory_unroutable_is_returned(conn, names):
    ch = conn.channel()
    x = names.exchange()
    ch.exchange_declare(x, "direct")
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m, p, b)))
    props = pika.BasicProperties(content_type="text/plain", headers={"h": "v"}, message_id="m1")
    ch.basic_publish(x, "no-such-key", b"bounce", props, mandatory=True)
    wait_until(conn, lambda: returned)
    method, p, body = returned[0]
    assert isinstance(method, pika.spec.Basic.Return)
    assert method.reply_code == 312
    assert method.reply_text == "NO_ROUTE"
    assert (method.exchange, method.routing_key) == (x, "no-such-key")
    assert body == b"bounce"
    assert (p.content_type, p.headers, p.message_id) == ("text/plain", {"h": "v"}, "m1")


def test_mandatory_to_default_exchange_missing_queue_is_returned(conn):
    ch = conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m, b)))
    q = uid("nobody")
    ch.basic_publish("", q, b"x", mandatory=True)
    wait_until(conn, lambda: returned)
    method, body = returned[0]
    assert (method.reply_code, method.reply_text, method.exchange, method.routing_key) == \
        (312, "NO_ROUTE", "", q)


def test_mandatory_routable_is_not_returned(conn, names):
    ch = conn.channel()
    q = declare_queue(ch, names)
    returned = []
    ch.add_on_return_callback(lambda *a: returned.append(a))
    ch.basic_publish("", q, b"ok", mandatory=True)
    ch.basic_publish("", uid("nobody"), b"not-mandatory")  # unroutable, not mandatory: dropped
    pump(conn)
    assert returned == []
    assert get_all(ch, q) == [b"ok"]


def test_get_and_get_empty(ch, names):
    ch.confirm_delivery()
    q = declare_queue(ch, names)
    m, p, b = ch.basic_get(q)
    assert (m, p, b) == (None, None, None)  # basic.get-empty
    publish_all(ch, q, [b"first", b"second"])
    m, p, body = ch.basic_get(q)
    assert isinstance(m, pika.spec.Basic.GetOk)
    assert body == b"first"
    assert m.message_count == 1  # messages left after this one
    assert (m.exchange, m.routing_key, m.redelivered) == ("", q, False)
    assert m.delivery_tag == 1
    ch.basic_ack(m.delivery_tag)
    m, _, body = ch.basic_get(q)
    assert (body, m.message_count, m.delivery_tag) == (b"second", 0, 2)
    ch.basic_ack(m.delivery_tag)
    assert ch.basic_get(q)[0] is None


def test_get_with_auto_ack_removes_the_message(conn, names):
    ch = conn.channel()
    ch.confirm_delivery()
    q = declare_queue(ch, names)
    ch.basic_publish("", q, b"x")
    m, _, body = ch.basic_get(q, auto_ack=True)
    assert body == b"x"
    ch.close()  # nothing unacked: nothing comes back
    ch = conn.channel()
    assert message_count(ch, q) == 0


def test_get_keeps_exchange_and_routing_key(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "topic")
    q = declare_queue(ch, names)
    ch.queue_bind(q, x, "a.#")
    ch.confirm_delivery()
    ch.basic_publish(x, "a.b.c", b"x")
    m, _, _ = ch.basic_get(q, auto_ack=True)
    assert (m.exchange, m.routing_key) == (x, "a.b.c")


def test_all_properties_round_trip(ch, names):
    ch.confirm_delivery()
    q = declare_queue(ch, names)
    props = pika.BasicProperties(
        content_type="application/json", content_encoding="gzip",
        headers={"str": "s", "int": 7, "neg": -3, "long": 2 ** 40, "true": True, "false": False,
                 "dec": decimal.Decimal("1.25"), "ts": datetime.datetime(2020, 1, 2, 3, 4, 5),
                 "table": {"nested": {"deep": 1}}, "array": [1, "two", False, None],
                 "void": None, "bytes": b"\x00\xff"},
        delivery_mode=2, priority=5, correlation_id="corr-1", reply_to="reply-q",
        message_id="msg-1", timestamp=1700000000, type="kind", user_id="guest", app_id="tests",
    )
    ch.basic_publish("", q, b"{}", props)
    m, p, body = ch.basic_get(q, auto_ack=True)
    assert body == b"{}"
    for field in ("content_type", "content_encoding", "headers", "delivery_mode", "priority",
                  "correlation_id", "reply_to", "message_id", "timestamp", "type", "user_id",
                  "app_id"):
        assert getattr(p, field) == getattr(props, field), field
    assert p.expiration is None


def test_no_properties_stay_absent(ch, names):
    ch.confirm_delivery()
    q = declare_queue(ch, names)
    ch.basic_publish("", q, b"bare")
    _, p, _ = ch.basic_get(q, auto_ack=True)
    for field in ("content_type", "headers", "delivery_mode", "priority", "message_id",
                  "timestamp", "user_id"):
        assert getattr(p, field) is None, field


def test_user_id_must_match_authenticated_user(ch):
    ch.basic_publish("", uid("nobody"), b"x", pika.BasicProperties(user_id="mallory"))
    with channel_closed(406, "PRECONDITION_FAILED - user_id property set to 'mallory' but "
                             "authenticated user was 'guest'"):
        sync(ch)


@pytest.mark.parametrize("size", [0, 1, 131072 - 8, 131072, 1024 * 1024 + 7])
def test_body_sizes(ch, names, size):
    """Bodies from empty to several frames (frame_max 131072)."""
    ch.confirm_delivery()
    q = declare_queue(ch, names)
    body = bytes((i * 7) % 256 for i in range(size))
    ch.basic_publish("", q, body)
    m, _, got = ch.basic_get(q, auto_ack=True)
    assert m is not None
    assert got == body


def test_binary_body_and_utf8_names(ch, names):
    ch.confirm_delivery()
    q = names.queue("ü-ñ-😀")
    ch.queue_declare(q)
    body = bytes(range(256)) * 3
    ch.basic_publish("", q, body)
    m, _, got = ch.basic_get(q, auto_ack=True)
    assert (m.routing_key, got) == (q, body)


def test_publish_to_missing_exchange_is_404(ch):
    x = uid("missing")
    ch.basic_publish(x, "k", b"x")
    with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x):
        sync(ch)


def test_get_missing_queue_is_404(ch):
    q = uid("missing")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        ch.basic_get(q)


def test_many_messages_in_order(ch, names):
    ch.confirm_delivery()
    q = declare_queue(ch, names)
    n = 500
    for i in range(n):
        ch.basic_publish("", q, b"%d" % i)
    assert message_count(ch, q) == n
    assert get_all(ch, q) == [b"%d" % i for i in range(n)]
