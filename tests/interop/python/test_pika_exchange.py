"""exchange.declare / delete / bind / unbind, reserved names, internal and alternate exchanges."""

import pika
import pytest

from helpers_pika import *  # noqa: F401,F403


def vhost_ex(name):
    return "'%s' in vhost '/'" % name


@pytest.mark.parametrize("kind", ["direct", "fanout", "topic", "headers"])
def test_declare_each_type(conn, names, kind):
    ch = conn.channel()
    x = names.exchange(kind)
    ok = ch.exchange_declare(x, kind)
    assert isinstance(ok.method, pika.spec.Exchange.DeclareOk)
    ch.exchange_declare(x, kind)  # same arguments again: fine
    ch.exchange_declare(x, passive=True)
    ch.exchange_delete(x)
    with channel_closed(404, "NOT_FOUND - no exchange %s" % vhost_ex(x)):
        ch.exchange_declare(x, passive=True)


def test_builtin_exchanges_exist(ch):
    for x in ("amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"):
        ch.exchange_declare(x, passive=True)


def test_redeclare_builtin_with_same_arguments_is_allowed(ch):
    # The amq.* prefix check applies only to exchanges that do not exist yet.
    ch.exchange_declare("amq.direct", "direct", durable=True)
    ch.exchange_declare("amq.topic", "topic", durable=True)


def test_passive_missing_is_404(ch):
    x = uid("missing")
    with channel_closed(404, "NOT_FOUND - no exchange %s" % vhost_ex(x)):
        ch.exchange_declare(x, passive=True)


def test_redeclare_with_different_type_is_406(conn, names):
    ch = conn.channel()
    x = names.exchange()
    ch.exchange_declare(x, "direct")
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'type' for exchange %s: "
                             "received 'fanout' but current is 'direct'" % vhost_ex(x)):
        ch.exchange_declare(x, "fanout")
    conn.channel().exchange_declare(x, passive=True)  # the original is untouched


def test_redeclare_with_different_durable_is_406(conn, names):
    ch = conn.channel()
    x = names.exchange()
    ch.exchange_declare(x, "topic")
    with channel_closed(406, "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange %s: "
                             "received 'true' but current is 'false'" % vhost_ex(x)):
        ch.exchange_declare(x, "topic", durable=True)


def test_reserved_amq_prefix_is_403(ch):
    x = "amq.%s" % uid("reserved")
    with channel_closed(403, "ACCESS_REFUSED - exchange name '%s' contains reserved prefix "
                             "'amq.*'" % x):
        ch.exchange_declare(x, "direct")


@pytest.mark.parametrize("op", ["declare", "passive", "delete", "bind"])
def test_default_exchange_is_untouchable(conn, op):
    ch = conn.channel()
    with channel_closed(403, "ACCESS_REFUSED - operation not permitted on the default exchange"):
        if op == "declare":
            ch.exchange_declare("", "direct")
        elif op == "passive":  # even a passive declare is refused
            ch.exchange_declare("", passive=True)
        elif op == "delete":
            ch.exchange_delete("")
        else:
            q = ch.queue_declare("", exclusive=True).method.queue
            ch.queue_bind(q, "", "key")


def test_delete_builtin_is_403(ch):
    with channel_closed(403, "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in "
                             "vhost '/' not allowed"):
        ch.exchange_delete("amq.direct")


def test_delete_missing_is_ok(ch):
    # RabbitMQ 3.10: deleting an exchange that does not exist succeeds (idempotent delete).
    ok = ch.exchange_delete(uid("missing"))
    assert isinstance(ok.method, pika.spec.Exchange.DeleteOk)


def test_publish_to_missing_exchange_is_404(ch):
    x = uid("missing")
    ch.basic_publish(x, "key", b"body")
    with channel_closed(404, "NOT_FOUND - no exchange %s" % vhost_ex(x)):
        sync(ch)


def test_publish_to_internal_exchange_is_403(conn, names):
    ch = conn.channel()
    x = names.exchange("internal")
    ch.exchange_declare(x, "direct", internal=True)
    ch.basic_publish(x, "key", b"body")
    with channel_closed(403, "ACCESS_REFUSED - cannot publish to internal exchange %s"
                        % vhost_ex(x)):
        sync(ch)


def test_internal_exchange_routes_as_binding_destination(ch, names):
    src, internal = names.exchange("src"), names.exchange("internal")
    ch.exchange_declare(src, "direct")
    ch.exchange_declare(internal, "fanout", internal=True)
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, internal)
    ch.exchange_bind(destination=internal, source=src, routing_key="k")
    ch.confirm_delivery()
    ch.basic_publish(src, "k", b"via-internal")
    assert get_all(ch, q) == [b"via-internal"]


def test_delete_if_unused(conn, names):
    ch = conn.channel()
    x = names.exchange()
    ch.exchange_declare(x, "direct")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "k")
    with channel_closed(406, "PRECONDITION_FAILED - exchange %s in use" % vhost_ex(x)):
        ch.exchange_delete(x, if_unused=True)
    ch = conn.channel()
    ch.queue_unbind(q, x, "k")
    ch.exchange_delete(x, if_unused=True)
    with channel_closed(404, "NOT_FOUND - no exchange %s" % vhost_ex(x)):
        ch.exchange_declare(x, passive=True)


def test_delete_if_unused_counts_exchange_bindings_as_source(conn, names):
    ch = conn.channel()
    src, dst = names.exchange("src"), names.exchange("dst")
    ch.exchange_declare(src, "direct")
    ch.exchange_declare(dst, "fanout")
    ch.exchange_bind(destination=dst, source=src, routing_key="k")
    with channel_closed(406, "PRECONDITION_FAILED - exchange %s in use" % vhost_ex(src)):
        ch.exchange_delete(src, if_unused=True)


def test_delete_removes_its_bindings(ch, names):
    x = names.exchange()
    ch.exchange_declare(x, "fanout")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x)
    ch.exchange_delete(x)
    ch.exchange_declare(x, "fanout")  # recreated: the old binding is gone
    ch.confirm_delivery()
    ch.basic_publish(x, "", b"after")
    assert get_all(ch, q) == []


def test_auto_delete_exchange_goes_when_last_binding_goes(conn, names):
    ch = conn.channel()
    x = names.exchange("autodel")
    ch.exchange_declare(x, "direct", auto_delete=True)
    ch.exchange_declare(x, passive=True)  # never bound: stays
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, x, "a")
    ch.queue_bind(q, x, "b")
    ch.queue_unbind(q, x, "a")
    ch.exchange_declare(x, passive=True)  # one binding left
    ch.queue_unbind(q, x, "b")
    with channel_closed(404, "NOT_FOUND - no exchange %s" % vhost_ex(x)):
        ch.exchange_declare(x, passive=True)


def test_exchange_bind_and_unbind_route_end_to_end(ch, names):
    src, dst = names.exchange("src"), names.exchange("dst")
    ch.exchange_declare(src, "topic")
    ch.exchange_declare(dst, "direct")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, dst, "orders.new")
    ch.exchange_bind(destination=dst, source=src, routing_key="orders.*")
    ch.confirm_delivery()
    ch.basic_publish(src, "orders.new", b"1")
    ch.basic_publish(src, "orders.old", b"2")  # reaches dst, but dst has no binding for it
    ch.basic_publish(src, "other.new", b"3")   # does not match orders.*
    assert get_all(ch, q) == [b"1"]
    ch.exchange_unbind(destination=dst, source=src, routing_key="orders.*")
    ch.basic_publish(src, "orders.new", b"4")
    assert get_all(ch, q) == []
    ch.basic_publish(dst, "orders.new", b"5")  # the destination still routes on its own
    assert get_all(ch, q) == [b"5"]


def test_exchange_bindings_deliver_one_copy_per_queue(ch, names):
    """Two paths to the same queue (direct and through another exchange): one copy."""
    a, b = names.exchange("a"), names.exchange("b")
    ch.exchange_declare(a, "fanout")
    ch.exchange_declare(b, "fanout")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, a)
    ch.queue_bind(q, b)
    ch.exchange_bind(destination=b, source=a)
    ch.confirm_delivery()
    ch.basic_publish(a, "", b"once")
    assert get_all(ch, q) == [b"once"]


def test_exchange_binding_cycle_terminates(ch, names):
    a, b = names.exchange("a"), names.exchange("b")
    ch.exchange_declare(a, "fanout")
    ch.exchange_declare(b, "fanout")
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q, b)
    ch.exchange_bind(destination=b, source=a)
    ch.exchange_bind(destination=a, source=b)
    ch.confirm_delivery()
    ch.basic_publish(a, "", b"cycle")
    assert get_all(ch, q) == [b"cycle"]


def test_exchange_bind_missing_is_404(conn, names):
    ch = conn.channel()
    x = uid("missing")
    with channel_closed(404, "NOT_FOUND - no exchange %s" % vhost_ex(x)):
        ch.exchange_bind(destination=x, source="amq.direct", routing_key="k")
    ch = conn.channel()
    with channel_closed(404, "NOT_FOUND - no exchange %s" % vhost_ex(x)):
        ch.exchange_bind(destination="amq.fanout", source=x, routing_key="k")


def test_alternate_exchange(ch, names):
    main, alt = names.exchange("main"), names.exchange("alt")
    ch.exchange_declare(alt, "fanout")
    ch.exchange_declare(main, "direct", arguments={"alternate-exchange": alt})
    q_main = ch.queue_declare("", exclusive=True).method.queue
    q_alt = ch.queue_declare("", exclusive=True).method.queue
    ch.queue_bind(q_main, main, "known")
    ch.queue_bind(q_alt, alt)
    returned = []
    ch.add_on_return_callback(lambda *a: returned.append(a))
    ch.confirm_delivery()
    ch.basic_publish(main, "known", b"routed")
    # Unroutable on `main`: goes to the alternate exchange; mandatory is satisfied there.
    ch.basic_publish(main, "unknown", b"to-alt", mandatory=True)
    assert get_all(ch, q_main) == [b"routed"]
    assert get_all(ch, q_alt) == [b"to-alt"]
    assert returned == []


def test_alternate_exchange_missing_means_unroutable(ch, names):
    main = names.exchange("main")
    ch.exchange_declare(main, "direct", arguments={"alternate-exchange": uid("missing-alt")})
    ch.confirm_delivery()
    with pytest.raises(pika.exceptions.UnroutableError):
        ch.basic_publish(main, "k", b"lost", mandatory=True)
