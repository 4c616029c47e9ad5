"""Sender-selected distribution, as RabbitMQ 3.10: the CC and BCC headers (arrays of strings) add
routing keys; BCC is removed before delivery, CC stays; dead-lettering without
x-dead-letter-routing-key routes by the CC keys again and lists them in x-death's routing-keys."""

import pika

from helpers_pika import *  # noqa: F401,F403
from test_nack_delay import get_eventually


def test_cc_and_bcc_add_routing_keys_and_bcc_is_removed(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "direct")
    qa, qb, qc, qd = (names.queue() for _ in range(4))
    for q, key in ((qa, "a"), (qb, "b"), (qc, "c"), (qd, "d")):
        ch.queue_declare(q)
        ch.queue_bind(q, x, key)
    ch.queue_bind(qa, x, "b")  # reachable by two keys: still one copy
    ch.basic_publish(x, "a", b"m", pika.BasicProperties(headers={"CC": ["b"], "BCC": ["c"]}))
    got = {}
    for q in (qa, qb, qc):
        _, props, body = get_eventually(ch, q, auto_ack=True)
        got[q] = props.headers
        assert body == b"m"
    assert ch.basic_get(qa)[0] is None, "one copy per queue"
    assert ch.basic_get(qd)[0] is None
    for headers in got.values():
        assert headers["CC"] == ["b"]
        assert "BCC" not in headers


def test_dead_lettering_routes_by_the_cc_keys_and_lists_them(ch, names):
    src, dlx = names.exchange(), names.exchange()
    ch.exchange_declare(src, "direct")
    ch.exchange_declare(dlx, "direct")
    work, dla, dlb = names.queue(), names.queue(), names.queue()
    ch.queue_declare(work, arguments={"x-dead-letter-exchange": dlx})
    ch.queue_declare(dla)
    ch.queue_declare(dlb)
    ch.queue_bind(work, src, "a")
    ch.queue_bind(dla, dlx, "a")
    ch.queue_bind(dlb, dlx, "b")
    ch.basic_publish(src, "a", b"cc", pika.BasicProperties(headers={"CC": ["b"]}))
    m, _, _ = get_eventually(ch, work)
    ch.basic_reject(m.delivery_tag, requeue=False)
    for q in (dla, dlb):
        m, props, body = get_eventually(ch, q, auto_ack=True)
        assert body == b"cc" and m.routing_key == "a"
        assert props.headers["x-death"][0]["routing-keys"] == ["a", "b"]
    assert ch.basic_get(dla)[0] is None and ch.basic_get(dlb)[0] is None
