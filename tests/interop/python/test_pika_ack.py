"""Acknowledgements: basic.ack / nack / reject / recover, requeue order, redelivered flag,
delivery-tag errors."""

import pytest

from helpers_pika import *  # noqa: F401,F403

TAG_ERR = "PRECONDITION_FAILED - unknown delivery tag %d"


@pytest.fixture
def loaded(conn, names):
    """A queue holding m0..m4 (published with confirms) and a fresh channel for the test."""
    pub = conn.channel()
    pub.confirm_delivery()
    q = declare_queue(pub, names)
    publish_all(pub, q, [b"m%d" % i for i in range(5)])
    return q, conn.channel()


def test_ack_removes_message(conn, loaded):
    q, ch = loaded
    col, _ = consume(conn, ch, q, 5)
    assert col.bodies == [b"m%d" % i for i in range(5)]
    assert col.tags == [1, 2, 3, 4, 5]
    assert all(not m.redelivered for m, _, _ in col.got)
    for t in col.tags:
        ch.basic_ack(t)
    ch.close()
    assert message_count(conn.channel(), q) == 0


def test_ack_multiple(conn, loaded):
    q, ch = loaded
    tags = [ch.basic_get(q)[0].delivery_tag for _ in range(5)]
    assert tags == [1, 2, 3, 4, 5]
    ch.basic_ack(3, multiple=True)  # acks 1, 2, 3
    ch.close()
    ch = conn.channel()
    assert get_all(ch, q) == [b"m3", b"m4"]


def test_ack_multiple_zero_acks_everything(conn, loaded):
    q, ch = loaded
    for _ in range(5):
        ch.basic_get(q)
    ch.basic_ack(0, multiple=True)
    sync(ch)
    ch.close()
    assert message_count(conn.channel(), q) == 0


def test_nack_multiple_requeue_keeps_order(conn, loaded):
    q, ch = loaded
    col, _ = consume(conn, ch, q, 5)
    ch.basic_nack(col.tags[2], multiple=True, requeue=True)  # m0, m1, m2 back
    wait_until(conn, lambda: len(col) == 8)
    redelivered = col.got[5:]
    assert [b for _, _, b in redelivered] == [b"m0", b"m1", b"m2"]
    assert all(m.redelivered for m, _, _ in redelivered)
    assert [m.delivery_tag for m, _, _ in redelivered] == [6, 7, 8]
    ch.basic_ack(0, multiple=True)


def test_nack_without_requeue_drops(conn, loaded):
    q, ch = loaded
    for _ in range(2):
        ch.basic_get(q)
    ch.basic_nack(2, multiple=True, requeue=False)
    ch.close()
    assert get_all(conn.channel(), q) == [b"m2", b"m3", b"m4"]


def test_reject_requeue_sets_redelivered(conn, loaded):
    q, ch = loaded
    m, _, body = ch.basic_get(q)
    assert (body, m.redelivered) == (b"m0", False)
    ch.basic_reject(m.delivery_tag, requeue=True)
    m, _, body = ch.basic_get(q)
    # Requeued to its original position: it comes out first again, flagged.
    assert (body, m.redelivered, m.delivery_tag) == (b"m0", True, 2)
    ch.basic_ack(m.delivery_tag)
    m, _, body = ch.basic_get(q)
    assert (body, m.redelivered) == (b"m1", False)


def test_reject_without_requeue_drops(conn, loaded):
    q, ch = loaded
    m, _, _ = ch.basic_get(q)
    ch.basic_reject(m.delivery_tag, requeue=False)
    assert get_all(ch, q) == [b"m1", b"m2", b"m3", b"m4"]


def test_recover_requeues_unacked(conn, loaded):
    q, ch = loaded
    col, _ = consume(conn, ch, q, 5)
    ch.basic_ack(col.tags[1])  # m1 acked; m0, m2, m3, m4 unacked
    ch.basic_recover(requeue=True)
    wait_until(conn, lambda: len(col) == 9)
    again = col.got[5:]
    assert [b for _, _, b in again] == [b"m0", b"m2", b"m3", b"m4"]
    assert all(m.redelivered for m, _, _ in again)
    ch.basic_ack(0, multiple=True)


def test_unacked_requeued_in_original_position_on_channel_close(conn, loaded):
    q, ch = loaded
    got = [ch.basic_get(q) for _ in range(3)]  # m0, m1, m2 unacked
    ch.basic_ack(got[1][0].delivery_tag)        # m1 done
    ch.close()
    ch = conn.channel()
    out = []
    while True:
        m, _, body = ch.basic_get(q, auto_ack=True)
        if m is None:
            break
        out.append((body, m.redelivered))
    assert out == [(b"m0", True), (b"m2", True), (b"m3", False), (b"m4", False)]


def test_unacked_requeued_on_connection_close(connect, names):
    pub = connect().channel()
    pub.confirm_delivery()
    q = declare_queue(pub, names)
    publish_all(pub, q, [b"a", b"b"])
    c = connect()
    c.channel().basic_get(q)
    c.close()
    m, _, body = pub.basic_get(q, auto_ack=True)
    assert (body, m.redelivered) == (b"a", True)


def test_consumer_auto_ack_needs_no_ack(conn, loaded):
    q, ch = loaded
    col, _ = consume(conn, ch, q, 5, auto_ack=True)
    assert col.bodies == [b"m%d" % i for i in range(5)]
    ch.close()
    assert message_count(conn.channel(), q) == 0


@pytest.mark.parametrize("method", ["ack", "nack", "reject"])
def test_unknown_delivery_tag_is_406(ch, method):
    with channel_closed(406, TAG_ERR % 5):
        getattr(ch, "basic_" + method)(5)
        sync(ch)


def test_double_ack_is_406(conn, loaded):
    q, ch = loaded
    m, _, _ = ch.basic_get(q)
    ch.basic_ack(m.delivery_tag)
    ch.basic_ack(m.delivery_tag)
    with channel_closed(406, TAG_ERR % m.delivery_tag):
        sync(ch)
    # The channel error requeues nothing that was acked.
    assert message_count(conn.channel(), q) == 4


def test_ack_of_auto_ack_delivery_is_406(conn, loaded):
    q, ch = loaded
    m, _, _ = ch.basic_get(q, auto_ack=True)
    ch.basic_ack(m.delivery_tag)
    with channel_closed(406, TAG_ERR % m.delivery_tag):
        sync(ch)


def test_delivery_tags_are_per_channel(conn, loaded):
    q, ch1 = loaded
    ch2 = conn.channel()
    m1, _, _ = ch1.basic_get(q)
    m2, _, _ = ch2.basic_get(q)
    assert (m1.delivery_tag, m2.delivery_tag) == (1, 1)
    with channel_closed(406, TAG_ERR % 2):
        ch2.basic_ack(2)
        sync(ch2)


def test_channel_error_requeues_unacked(conn, loaded):
    q, ch = loaded
    ch.basic_get(q)
    with channel_closed(404, "NOT_FOUND"):
        ch.queue_declare(uid("missing"), passive=True)
    m, _, body = conn.channel().basic_get(q, auto_ack=True)
    assert (body, m.redelivered) == (b"m0", True)
