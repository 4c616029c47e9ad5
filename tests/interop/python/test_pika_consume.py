"""basic.consume / cancel, prefetch (basic.qos), competing consumers, exclusive consumers,
server-sent basic.cancel."""

import pika

from helpers_pika import *  # noqa: F401,F403


def fill(conn, names, n, prefix=b"m"):
    pub = conn.channel()
    pub.confirm_delivery()
    q = declare_queue(pub, names)
    publish_all(pub, q, [prefix + b"%d" % i for i in range(n)])
    return q, pub


def test_consume_existing_and_new_messages(conn, names):
    q, pub = fill(conn, names, 3)
    ch = conn.channel()
    col, tag = consume(conn, ch, q, 3, auto_ack=True)
    publish_all(pub, q, [b"m3", b"m4"])
    wait_until(conn, lambda: len(col) == 5)
    assert col.bodies == [b"m0", b"m1", b"m2", b"m3", b"m4"]
    m = col.got[0][0]
    assert isinstance(m, pika.spec.Basic.Deliver)
    assert (m.consumer_tag, m.exchange, m.routing_key, m.redelivered) == (tag, "", q, False)


def test_fifo_order(conn, names):
    q, _ = fill(conn, names, 300)
    ch = conn.channel()
    col, _ = consume(conn, ch, q, 300)
    assert col.bodies == [b"m%d" % i for i in range(300)]
    assert col.tags == list(range(1, 301))
    ch.basic_ack(300, multiple=True)


def test_consume_returns_consumer_tag_given(conn, names):
    q, _ = fill(conn, names, 1)
    ch = conn.channel()
    col, tag = consume(conn, ch, q, 1, consumer_tag="my-tag")
    assert tag == "my-tag"
    assert col.got[0][0].consumer_tag == "my-tag"


def test_cancel_stops_deliveries(conn, names):
    q, pub = fill(conn, names, 0)
    ch = conn.channel()
    col = Collector()
    tag = ch.basic_consume(q, col, auto_ack=True)
    publish_all(pub, q, [b"before"])
    wait_until(conn, lambda: len(col) == 1)
    ch.basic_cancel(tag)
    publish_all(pub, q, [b"after"])
    pump(conn)
    assert col.bodies == [b"before"]
    assert pub.queue_declare(q, passive=True).method.consumer_count == 0
    assert message_count(pub, q) == 1


def test_cancel_keeps_unacked_deliveries_unacked(conn, names):
    q, _ = fill(conn, names, 2)
    ch = conn.channel()
    col, tag = consume(conn, ch, q, 2)
    ch.basic_cancel(tag)
    # Still acknowledgeable after the cancel; acking removes them for good.
    ch.basic_ack(col.tags[0])
    sync(ch)
    ch.close()  # the other one goes back
    assert get_all(conn.channel(), q) == [b"m1"]


def test_prefetch_limits_unacked_deliveries(conn, names):
    q, _ = fill(conn, names, 10)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=3)
    col, _ = consume(conn, ch, q, 3)
    pump(conn)
    assert len(col) == 3
    ch.basic_ack(col.tags[0])
    wait_until(conn, lambda: len(col) == 4)
    pump(conn)
    assert len(col) == 4
    ch.basic_ack(col.tags[2], multiple=True)  # acks 2 and 3 -> two more
    wait_until(conn, lambda: len(col) == 6)
    pump(conn)
    assert len(col) == 6
    assert col.bodies == [b"m%d" % i for i in range(6)]
    assert message_count(conn.channel(), q) == 4


def test_prefetch_ignores_auto_ack_consumers(conn, names):
    q, _ = fill(conn, names, 10)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=2)
    col, _ = consume(conn, ch, q, 10, auto_ack=True)
    assert len(col) == 10


def test_prefetch_is_per_consumer_by_default(conn, names):
    """RabbitMQ: basic.qos with global=false limits each new consumer on the channel."""
    q, _ = fill(conn, names, 6)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=1)
    a, b = Collector(), Collector()
    ch.basic_consume(q, a)
    ch.basic_consume(q, b)
    wait_until(conn, lambda: len(a) == 1 and len(b) == 1)
    pump(conn)
    assert (len(a), len(b)) == (1, 1)


def test_prefetch_global_is_per_channel(conn, names):
    """RabbitMQ: basic.qos with global=true limits the channel as a whole."""
    q, _ = fill(conn, names, 6)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=1, global_qos=True)
    a, b = Collector(), Collector()
    ch.basic_consume(q, a)
    ch.basic_consume(q, b)
    wait_until(conn, lambda: len(a) + len(b) == 1)
    pump(conn)
    assert len(a) + len(b) == 1


def test_prefetch_zero_is_unlimited(conn, names):
    q, _ = fill(conn, names, 50)
    ch = conn.channel()
    ch.basic_qos(prefetch_count=0)
    col, _ = consume(conn, ch, q, 50)
    assert len(col) == 50


def test_competing_consumers_round_robin(connect, names):
    c = connect()
    q, pub = fill(c, names, 0)
    ch_a, ch_b = c.channel(), c.channel()
    a, b = Collector(), Collector()
    ch_a.basic_consume(q, a, auto_ack=True)
    ch_b.basic_consume(q, b, auto_ack=True)
    publish_all(pub, q, [b"%d" % i for i in range(8)])
    wait_until(c, lambda: len(a) + len(b) == 8)
    assert a.bodies == [b"0", b"2", b"4", b"6"]
    assert b.bodies == [b"1", b"3", b"5", b"7"]


def test_competing_consumers_on_one_channel_round_robin(conn, names):
    q, pub = fill(conn, names, 0)
    ch = conn.channel()
    a, b = Collector(), Collector()
    ch.basic_consume(q, a, auto_ack=True)
    ch.basic_consume(q, b, auto_ack=True)
    publish_all(pub, q, [b"%d" % i for i in range(6)])
    wait_until(conn, lambda: len(a) + len(b) == 6)
    assert a.bodies == [b"0", b"2", b"4"]
    assert b.bodies == [b"1", b"3", b"5"]


def test_requeued_message_goes_to_another_consumer(connect, names):
    c1, c2 = connect(), connect()
    q, pub = fill(c1, names, 0)
    ch1, ch2 = c1.channel(), c2.channel()
    ch1.basic_qos(prefetch_count=1)
    ch2.basic_qos(prefetch_count=1)
    a = Collector()
    ch1.basic_consume(q, a)
    publish_all(pub, q, [b"only"])
    wait_until(c1, lambda: len(a) == 1)
    b = Collector()
    ch2.basic_consume(q, b)
    ch1.close()  # requeued, and the remaining consumer gets it
    wait_until(c2, lambda: len(b) == 1)
    m, _, body = b.got[0]
    assert (body, m.redelivered) == (b"only", True)
    ch2.basic_ack(m.delivery_tag)


def test_server_cancels_consumer_when_queue_is_deleted(conn, names):
    q, pub = fill(conn, names, 0)
    ch = conn.channel()
    cancelled = []
    ch.add_on_cancel_callback(lambda frame: cancelled.append(frame.method))
    tag = ch.basic_consume(q, Collector())
    assert conn._impl.server_capabilities.get("consumer_cancel_notify") is True
    pub.queue_delete(q)
    wait_until(conn, lambda: cancelled)
    assert isinstance(cancelled[0], pika.spec.Basic.Cancel)
    assert cancelled[0].consumer_tag == tag
    assert ch.is_open  # a server cancel does not close the channel
    sync(ch)


def test_exclusive_consumer_blocks_others(conn, names):
    q, _ = fill(conn, names, 0)
    ch = conn.channel()
    ch.basic_consume(q, Collector(), exclusive=True)
    other = conn.channel()
    with channel_closed(403, "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use" % q):
        other.basic_consume(q, Collector())


def test_exclusive_consume_refused_when_queue_has_consumers(conn, names):
    q, _ = fill(conn, names, 0)
    ch = conn.channel()
    ch.basic_consume(q, Collector())
    other = conn.channel()
    with channel_closed(403, "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use" % q):
        other.basic_consume(q, Collector(), exclusive=True)


def test_exclusive_consumer_released_on_cancel(conn, names):
    q, pub = fill(conn, names, 0)
    ch = conn.channel()
    tag = ch.basic_consume(q, Collector(), exclusive=True)
    ch.basic_cancel(tag)
    col = Collector()
    conn.channel().basic_consume(q, col, auto_ack=True)
    publish_all(pub, q, [b"x"])
    wait_until(conn, lambda: len(col) == 1)


def test_consume_missing_queue_is_404(ch):
    q = uid("missing")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        ch.basic_consume(q, Collector())


def test_consumers_counted_and_removed_with_channel(conn, names):
    q, pub = fill(conn, names, 0)
    ch = conn.channel()
    ch.basic_consume(q, Collector())
    ch.basic_consume(q, Collector())
    assert pub.queue_declare(q, passive=True).method.consumer_count == 2
    ch.close()
    assert pub.queue_declare(q, passive=True).method.consumer_count == 0


def test_three_consumers_share_load_evenly(connect, names):
    c = connect()
    q, pub = fill(c, names, 0)
    cols = []
    for _ in range(3):
        col = Collector()
        c.channel().basic_consume(q, col, auto_ack=True)
        cols.append(col)
    publish_all(pub, q, [b"%d" % i for i in range(30)])
    wait_until(c, lambda: sum(len(x) for x in cols) == 30)
    assert [len(x) for x in cols] == [10, 10, 10]
    assert sorted(b for x in cols for b in x.bodies) == sorted(b"%d" % i for i in range(30))
