"""Publisher confirms (confirm.select) and transactions (tx.select / commit / rollback)."""

import pika
import pytest

from helpers_pika import *  # noqa: F401,F403


def test_confirmed_publishes(ch, names):
    q = declare_queue(ch, names)
    ch.confirm_delivery()
    for i in range(20):
        ch.basic_publish("", q, b"%d" % i)  # raises unless basic.ack arrives
    assert message_count(ch, q) == 20


def test_confirm_unroutable_not_mandatory_is_acked(ch):
    ch.confirm_delivery()
    ch.basic_publish("amq.direct", uid("nobody"), b"dropped")  # no exception: acked


def test_confirm_mandatory_unroutable_is_returned_then_acked(ch):
    """RabbitMQ sends basic.return, then basic.ack (not a nack); pika reports UnroutableError."""
    ch.confirm_delivery()
    key = uid("no-route")
    with pytest.raises(pika.exceptions.UnroutableError) as ei:
        ch.basic_publish("amq.direct", key, b"bounce", mandatory=True)
    (returned,) = ei.value.messages
    assert returned.method.reply_code == 312
    assert returned.method.reply_text == "NO_ROUTE"
    assert (returned.method.exchange, returned.method.routing_key) == ("amq.direct", key)
    assert returned.body == b"bounce"
    ch.basic_publish("amq.direct", "other", b"x")  # the channel is still fine


def test_confirm_delivery_tags_via_async_callbacks(conn, names):
    """basic.ack delivery tags count publishes from 1; several may be acked with multiple."""
    ch = conn.channel()
    q = declare_queue(ch, names)
    acked = []
    impl = ch._impl
    ok = []
    impl.confirm_delivery(ack_nack_callback=lambda frame: acked.append(frame.method),
                          callback=lambda frame: ok.append(frame))
    wait_until(conn, lambda: ok)
    for i in range(10):
        impl.basic_publish("", q, b"%d" % i)
    highest = {}

    def done():
        for m in acked:
            assert isinstance(m, pika.spec.Basic.Ack), m
            highest["tag"] = max(highest.get("tag", 0), m.delivery_tag)
        return highest.get("tag") == 10

    wait_until(conn, done)
    # Every tag 1..10 is covered exactly once, by single or multiple acks.
    covered, prev = [], 0
    for m in acked:
        if m.multiple:
            covered.extend(range(prev + 1, m.delivery_tag + 1))
        else:
            covered.append(m.delivery_tag)
        prev = max(prev, m.delivery_tag)
    assert sorted(covered) == list(range(1, 11))


def test_confirm_select_is_idempotent(ch):
    ch.confirm_delivery()
    got = []  # a second confirm.select on the wire must get confirm.select-ok again
    ch._impl.confirm_delivery(ack_nack_callback=lambda f: None, callback=lambda f: got.append(f))
    wait_until(ch.connection, lambda: got)
    assert isinstance(got[0].method, pika.spec.Confirm.SelectOk)


def test_publish_to_missing_exchange_in_confirm_mode_closes_channel(ch):
    ch.confirm_delivery()
    x = uid("missing")
    with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x):
        ch.basic_publish(x, "k", b"x")


def test_tx_commit_delivers_and_rollback_discards(conn, names):
    ch = conn.channel()
    q = declare_queue(ch, names)
    ch.tx_select()
    publish_all(ch, q, [b"r1", b"r2"])
    assert message_count(conn.channel(), q) == 0  # not visible before commit
    ch.tx_rollback()
    assert message_count(conn.channel(), q) == 0
    publish_all(ch, q, [b"c1", b"c2", b"c3"])
    ch.tx_commit()
    assert get_all(conn.channel(), q) == [b"c1", b"c2", b"c3"]
    # The channel stays transactional: another round.
    publish_all(ch, q, [b"c4"])
    ch.tx_commit()
    assert get_all(conn.channel(), q) == [b"c4"]


def test_tx_rollback_discards_acks(conn, names):
    pub = conn.channel()
    pub.confirm_delivery()
    q = declare_queue(pub, names)
    publish_all(pub, q, [b"a", b"b"])
    ch = conn.channel()
    ch.tx_select()
    m1, _, _ = ch.basic_get(q)
    m2, _, _ = ch.basic_get(q)
    ch.basic_ack(m1.delivery_tag)
    ch.tx_rollback()  # the ack is forgotten: m1 is still unacked
    ch.basic_ack(m2.delivery_tag)
    ch.tx_commit()    # m2 is acked
    ch.close()        # m1 goes back
    m, _, body = pub.basic_get(q, auto_ack=True)
    assert (body, m.redelivered) == (b"a", True)
    assert pub.basic_get(q)[0] is None


def test_tx_commit_applies_acks(conn, names):
    pub = conn.channel()
    pub.confirm_delivery()
    q = declare_queue(pub, names)
    publish_all(pub, q, [b"a"])
    ch = conn.channel()
    ch.tx_select()
    m, _, _ = ch.basic_get(q)
    ch.basic_ack(m.delivery_tag)
    ch.tx_commit()
    ch.close()
    assert message_count(pub, q) == 0


def test_tx_mandatory_unroutable_is_returned(conn):
    ch = conn.channel()
    returned = []
    ch.add_on_return_callback(lambda c, m, p, b: returned.append((m, b)))
    ch.tx_select()
    ch.basic_publish("amq.direct", uid("no-route"), b"tx-bounce", mandatory=True)
    ch.tx_commit()
    wait_until(conn, lambda: returned)
    m, body = returned[0]
    assert (m.reply_code, m.reply_text, body) == (312, "NO_ROUTE", b"tx-bounce")


@pytest.mark.parametrize("op", ["commit", "rollback"])
def test_tx_without_select_is_406(ch, op):
    with channel_closed(406, "PRECONDITION_FAILED - channel is not transactional"):
        getattr(ch, "tx_" + op)()


def test_confirm_then_tx_is_406(ch):
    ch.confirm_delivery()
    with channel_closed(406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode"):
        ch.tx_select()


def test_tx_then_confirm_is_406(ch):
    ch.tx_select()
    with channel_closed(406, "PRECONDITION_FAILED - cannot switch from tx to confirm mode"):
        ch.confirm_delivery()
