"""queue.declare / bind / unbind / purge / delete, exclusivity, auto-delete, counts."""

import pika
import pytest

from helpers_pika import *  # noqa: F401,F403

LOCKED = ("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '%s' in vhost '/'. "
          "It could be originally declared on another connection or the exclusive property value "
          "does not match that of the original declaration.")


def test_server_named_queue(ch):
    a = ch.queue_declare("", exclusive=True).method
    b = ch.queue_declare("", exclusive=True).method
    assert a.queue.startswith("amq.gen-") and b.queue.startswith("amq.gen-")
    assert a.queue != b.queue
    assert (a.message_count, a.consumer_count) == (0, 0)
    ch.queue_declare(a.queue, passive=True)


def test_declare_ok_echoes_name_and_is_idempotent(ch, names):
    q = names.queue()
    ok = ch.queue_declare(q, durable=True).method
    assert (ok.queue, ok.message_count, ok.consumer_count) == (q, 0, 0)
    ok = ch.queue_declare(q, durable=True).method
    assert ok.queue == q


def test_passive_missing_is_404(ch):
    q = uid("missing")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        ch.queue_declare(q, passive=True)


def test_reserved_amq_prefix_is_403(ch):
    q = "amq.%s" % uid("reserved")
    with channel_closed(403, "ACCESS_REFUSED - queue name '%s' contains reserved prefix "
                             "'amq.*'" % q):
        ch.queue_declare(q)


def test_redeclare_with_different_durable_is_406(conn, names):
    ch = conn.channel()
    q = names.queue()
    ch.queue_declare(q)
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'durable' for queue '%s' in "
                             "vhost '/': received 'true' but current is 'false'" % q):
        ch.queue_declare(q, durable=True)


def test_redeclare_with_different_auto_delete_is_406(conn, names):
    ch = conn.channel()
    q = names.queue()
    ch.queue_declare(q, durable=True)
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue '%s' "
                             "in vhost '/': received 'true' but current is 'false'" % q):
        ch.queue_declare(q, durable=True, auto_delete=True)


def test_redeclare_with_different_argument_is_406(conn, names):
    ch = conn.channel()
    q = names.queue()
    ch.queue_declare(q, arguments={"x-max-length": 10})
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '%s' "
                             "in vhost '/': received '11' but current is '10'" % q):
        ch.queue_declare(q, arguments={"x-max-length": 11})


def test_exclusive_queue_is_locked_for_other_connections(connect, names):
    owner = connect().channel()
    q = names.queue("excl")
    owner.queue_declare(q, exclusive=True)
    other = connect()
    ops = {
        "declare": lambda c: c.queue_declare(q, exclusive=True),
        "passive": lambda c: c.queue_declare(q, passive=True),
        "consume": lambda c: c.basic_consume(q, lambda *a: None),
        "get": lambda c: c.basic_get(q),
        "purge": lambda c: c.queue_purge(q),
        "bind": lambda c: c.queue_bind(q, "amq.fanout"),
        "delete": lambda c: c.queue_delete(q),
    }
    for op in ops.values():
        with channel_closed(405, LOCKED % q):
            op(other.channel())
    # Publishing to it through the default exchange is allowed.
    pub = other.channel()
    pub.confirm_delivery()
    pub.basic_publish("", q, b"from-other")
    assert get_all(owner, q) == [b"from-other"]


def test_exclusive_redeclare_as_non_exclusive_on_same_connection_is_405(conn, names):
    ch = conn.channel()
    q = names.queue("excl")
    ch.queue_declare(q, exclusive=True)
    with channel_closed(405, LOCKED % q):
        ch.queue_declare(q, exclusive=False)


def test_exclusive_queue_is_deleted_with_its_connection(connect, names):
    c = connect()
    q = names.queue("excl")
    c.channel().queue_declare(q, exclusive=True)
    c.close()
    # RabbitMQ has deleted it by the time close-ok arrives.
    ch = connect().channel()
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        ch.queue_declare(q, passive=True)


def test_auto_delete_queue_goes_when_last_consumer_cancels(conn, names):
    ch = conn.channel()
    q = names.queue("autodel")
    ch.queue_declare(q, auto_delete=True)
    ch.queue_declare(q, passive=True)  # never consumed from: stays
    t1 = ch.basic_consume(q, lambda *a: None)
    t2 = ch.basic_consume(q, lambda *a: None)
    ch.basic_cancel(t1)
    assert ch.queue_declare(q, passive=True).method.consumer_count == 1
    ch.basic_cancel(t2)
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        ch.queue_declare(q, passive=True)


def test_declare_ok_counts(connect, names):
    c = connect()
    ch = c.channel()
    ch.confirm_delivery()
    q = names.queue()
    ch.queue_declare(q)
    publish_all(ch, q, range(3))
    ok = ch.queue_declare(q, passive=True).method
    assert (ok.message_count, ok.consumer_count) == (3, 0)
    ok = ch.queue_declare(q).method  # non-passive redeclare reports the same
    assert (ok.message_count, ok.consumer_count) == (3, 0)
    # Unacked deliveries are not counted as messages; consumers are counted.
    c2 = connect()
    cons = c2.channel()
    cons.basic_qos(prefetch_count=1)
    col, _ = consume(c2, cons, q, 1)
    cons.basic_consume(q, lambda *a: None)
    wait_until(c, lambda: ch.queue_declare(q, passive=True).method.consumer_count == 2)
    ok = ch.queue_declare(q, passive=True).method
    assert (ok.message_count, ok.consumer_count) == (1, 2)


def test_purge_counts(ch, names):
    ch.confirm_delivery()
    q = declare_queue(ch, names)
    publish_all(ch, q, range(5))
    assert ch.queue_purge(q).method.message_count == 5
    assert ch.queue_purge(q).method.message_count == 0
    assert message_count(ch, q) == 0


def test_purge_leaves_unacked_messages(conn, names):
    ch = conn.channel()
    ch.confirm_delivery()
    q = declare_queue(ch, names)
    publish_all(ch, q, [b"a", b"b", b"c"])
    held = conn.channel()
    m, _, body = held.basic_get(q)
    assert body == b"a"
    assert ch.queue_purge(q).method.message_count == 2
    held.close()  # the unacked message goes back
    assert get_all(ch, q) == [b"a"]


def test_purge_missing_is_404(ch):
    q = uid("missing")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        ch.queue_purge(q)


def test_delete_returns_message_count(ch, names):
    ch.confirm_delivery()
    q = declare_queue(ch, names)
    publish_all(ch, q, range(4))
    assert ch.queue_delete(q).method.message_count == 4
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        ch.queue_declare(q, passive=True)


def test_delete_missing_is_ok(ch):
    # RabbitMQ 3.10: deleting a queue that does not exist succeeds, with message_count 0.
    assert ch.queue_delete(uid("missing")).method.message_count == 0


def test_delete_if_empty(conn, names):
    ch = conn.channel()
    ch.confirm_delivery()
    q = declare_queue(ch, names)
    ch.basic_publish("", q, b"x")
    with channel_closed(406, "PRECONDITION_FAILED - queue '%s' in vhost '/' not empty" % q):
        ch.queue_delete(q, if_empty=True)
    ch = conn.channel()
    assert ch.queue_purge(q).method.message_count == 1
    ch.queue_delete(q, if_empty=True)


def test_delete_if_unused(conn, names):
    ch = conn.channel()
    q = declare_queue(ch, names)
    ch.basic_consume(q, lambda *a: None)
    with channel_closed(406, "PRECONDITION_FAILED - queue '%s' in vhost '/' in use" % q):
        ch.queue_delete(q, if_unused=True)
    # The failed delete closed the channel, and with it the consumer.
    ch = conn.channel()
    assert ch.queue_declare(q, passive=True).method.consumer_count == 0
    ch.queue_delete(q, if_unused=True)


def test_delete_removes_bindings(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "fanout")
    q = declare_queue(ch, names)
    ch.queue_bind(q, x)
    ch.queue_delete(q)
    ch.queue_declare(q)  # recreated, not bound
    ch.confirm_delivery()
    ch.basic_publish(x, "", b"x")
    assert message_count(ch, q) == 0


def test_bind_and_unbind(ch, names):
    q = declare_queue(ch, names)
    ch.confirm_delivery()
    ch.queue_bind(q, "amq.direct", routing_key=q)
    ch.queue_bind(q, "amq.direct", routing_key=q)  # binding twice is a no-op
    ch.basic_publish("amq.direct", q, b"bound")
    assert get_all(ch, q) == [b"bound"]
    ch.queue_unbind(q, "amq.direct", routing_key=q)
    ch.basic_publish("amq.direct", q, b"unbound")
    assert get_all(ch, q) == []


def test_unbind_missing_binding_is_ok(ch):
    # RabbitMQ 3.10: unbinding something that is not bound succeeds (also for a missing queue or
    # exchange).
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_unbind(q, "amq.direct", "never-bound")
    ch.queue_unbind(uid("missing"), "amq.direct", "k")
    ch.queue_unbind(q, uid("missing"), "k")


def test_bind_missing_exchange_is_404(ch):
    q = ch.queue_declare("", exclusive=True).method.queue
    x = uid("missing")
    with channel_closed(404, "NOT_FOUND - no exchange '%s' in vhost '/'" % x):
        ch.queue_bind(q, x, "k")


def test_bind_missing_queue_is_404(ch):
    q = uid("missing")
    with channel_closed(404, "NOT_FOUND - no queue '%s' in vhost '/'" % q):
        ch.queue_bind(q, "amq.direct", "k")


def test_bind_with_empty_queue_name_uses_last_declared(ch):
    """AMQP 0-9-1: an empty queue name means the channel's last declared queue."""
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind("", "amq.direct", routing_key="last-declared-" + q)
    ch.confirm_delivery()
    ch.basic_publish("amq.direct", "last-declared-" + q, b"x")
    assert get_all(ch, q) == [b"x"]
    ch.queue_unbind("", "amq.direct", routing_key="last-declared-" + q)


@pytest.mark.parametrize("durable", [False, True])
def test_durable_and_transient_queues_hold_messages(ch, names, durable):
    q = declare_queue(ch, names, durable=durable)
    ch.confirm_delivery()
    ch.basic_publish("", q, b"p", pika.BasicProperties(delivery_mode=2))
    ch.basic_publish("", q, b"t", pika.BasicProperties(delivery_mode=1))
    assert get_all(ch, q) == [b"p", b"t"]
