"""Durability: what survives a restart (clean or kill -9) of the real broker on the same data dir.

Each test starts its own warren (start_broker), stops or kills it, and starts a new one on the
same data directory. RabbitMQ's rules: durable exchanges, queues and bindings survive, transient
and exclusive ones do not; persistent messages in durable queues survive, in order; acked ones
never come back; delivered-but-unacked ones come back redelivered.
"""

import os
import subprocess
import time

import pika
import pika.exceptions
import pytest

from helpers_pika import channel_closed

PERSISTENT = pika.BasicProperties(delivery_mode=2)
TRANSIENT = pika.BasicProperties(delivery_mode=1)


def connect(b):
    p = pika.URLParameters(b.url())
    p.connection_attempts = 1
    p.socket_timeout = 10
    p.stack_timeout = 15
    return pika.BlockingConnection(p)


@pytest.fixture
def restartable(start_broker):
    """start() -> broker; restart(kill=False) -> a new broker on the same data dir."""
    state = {}

    def start(extra_args=()):
        state["b"] = start_broker(extra_args)
        state["args"] = extra_args
        return state["b"]

    def restart(kill=False):
        old = state["b"]
        if kill:
            old.kill()
        else:
            assert old.stop() == 0
        state["b"] = start_broker(state["args"], data_dir=old.data_dir)
        return state["b"]

    start.restart = restart
    return start


def get_all(ch, queue):
    """basic.get (auto-ack) until get-empty: [(method, properties, body)]."""
    out = []
    while True:
        m, props, body = ch.basic_get(queue, auto_ack=True)
        if m is None:
            return out
        out.append((m, props, body))


def bodies(msgs):
    return [body for _, _, body in msgs]


def test_durable_definitions_survive_and_transient_ones_do_not(restartable):
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.exchange_declare("dx", "topic", durable=True, arguments={"alternate-exchange": "dae"})
    ch.exchange_declare("dae", "fanout", durable=True)
    ch.exchange_declare("tx", "direct", durable=False)
    ch.queue_declare("dq", durable=True, arguments={"x-max-length": 100, "x-message-ttl": 60000})
    ch.queue_declare("dq-ae", durable=True)
    ch.queue_declare("tq", durable=False)
    ch.queue_declare("xq", durable=True, exclusive=True)
    ch.queue_bind("dq", "dx", routing_key="a.*")
    ch.queue_bind("dq-ae", "dae")
    ch.exchange_bind(destination="dx", source="amq.direct", routing_key="to-dx")
    ch.queue_bind("tq", "dx", routing_key="t")  # to a transient queue: not durable
    c.close()

    b = restartable.restart()
    c = connect(b)
    ch = c.channel()
    ch.exchange_declare("dx", "topic", durable=True, passive=True)
    ch.queue_declare("dq", durable=True, passive=True)
    # Redeclaring with the recorded arguments is equivalent; with others it is not.
    ch.queue_declare("dq", durable=True, arguments={"x-max-length": 100, "x-message-ttl": 60000})
    with channel_closed(404, "NOT_FOUND"):
        ch.exchange_declare("tx", "direct", passive=True)
    ch = c.channel()
    with channel_closed(404, "NOT_FOUND"):
        ch.queue_declare("tq", passive=True)
    ch = c.channel()
    with channel_closed(404, "NOT_FOUND"):
        ch.queue_declare("xq", passive=True)
    ch = c.channel()
    # Bindings route: queue binding, alternate exchange, exchange-to-exchange.
    ch.basic_publish("dx", "a.b", b"via-binding")
    ch.basic_publish("dx", "zzz", b"via-ae")
    ch.basic_publish("amq.direct", "to-dx", b"via-e2e", properties=pika.BasicProperties())
    assert bodies(get_all(ch, "dq")) == [b"via-binding"]
    # amq.direct -> dx with routing key "to-dx" matches no dx binding, so it goes to dae too.
    assert bodies(get_all(ch, "dq-ae")) == [b"via-ae", b"via-e2e"]
    c.close()


def test_deleted_definitions_stay_deleted_and_bindings_do_not_come_back(restartable):
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.exchange_declare("gone-x", "direct", durable=True)
    ch.exchange_declare("kept-x", "direct", durable=True)
    ch.queue_declare("reborn", durable=True)
    ch.queue_bind("reborn", "kept-x", routing_key="old")
    ch.queue_bind("reborn", "kept-x", routing_key="unbound")
    ch.queue_unbind("reborn", "kept-x", routing_key="unbound")
    ch.exchange_delete("gone-x")
    ch.queue_delete("reborn")
    ch.queue_declare("reborn", durable=True)  # same name, new queue: no old bindings
    c.close()

    b = restartable.restart()
    c = connect(b)
    ch = c.channel()
    with channel_closed(404, "NOT_FOUND"):
        ch.exchange_declare("gone-x", "direct", passive=True)
    ch = c.channel()
    ch.basic_publish("kept-x", "old", b"x")
    ch.basic_publish("kept-x", "unbound", b"y")
    assert get_all(ch, "reborn") == []
    c.close()


def test_persistent_messages_survive_in_order_and_transient_ones_do_not(restartable):
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("pq", durable=True)
    ch.queue_declare("tq2", durable=False)
    for i in range(200):
        props = PERSISTENT if i % 2 == 0 else TRANSIENT
        ch.basic_publish("", "pq", b"m%d" % i, properties=props)
    ch.basic_publish("", "tq2", b"persistent-in-transient-queue", properties=PERSISTENT)
    c.close()

    b = restartable.restart()
    c = connect(b)
    ch = c.channel()
    msgs = get_all(ch, "pq")
    assert bodies(msgs) == [b"m%d" % i for i in range(0, 200, 2)]
    # A clean stop recorded that none had been delivered.
    assert [m.redelivered for m, _, _ in msgs] == [False] * 100
    # Properties come back exactly.
    assert msgs[0][1].delivery_mode == 2
    with channel_closed(404, "NOT_FOUND"):
        ch.queue_declare("tq2", passive=True)
    c.close()


def test_acked_messages_never_come_back_and_unacked_come_back_redelivered(restartable):
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("aq", durable=True)
    for i in range(10):
        ch.basic_publish("", "aq", b"%d" % i, properties=PERSISTENT)
    got = [ch.basic_get("aq") for _ in range(6)]
    for m, _, _ in got[:3]:
        ch.basic_ack(m.delivery_tag)  # 0, 1, 2 acked; 3, 4, 5 held unacked
    ch.basic_publish("", "aq", b"sync", properties=PERSISTENT)  # confirmed after the acks' batch
    restartable.restart(kill=True)  # the connection is lost with the process

    b = restartable.restart()  # and once more, cleanly: nothing changes
    c = connect(b)
    ch = c.channel()
    msgs = get_all(ch, "aq")
    assert bodies(msgs) == [b"3", b"4", b"5", b"6", b"7", b"8", b"9", b"sync"]
    assert [m.redelivered for m, _, _ in msgs[:3]] == [True, True, True]
    c.close()


def test_kill_9_loses_no_confirmed_message(restartable):
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("kq", durable=True)
    for i in range(500):
        ch.basic_publish("", "kq", b"%d" % i, properties=PERSISTENT)  # returns when confirmed
    b = restartable.restart(kill=True)
    c = connect(b)
    ch = c.channel()
    assert bodies(get_all(ch, "kq")) == [b"%d" % i for i in range(500)]
    c.close()


def test_purge_and_queue_delete_are_durable(restartable):
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("purged", durable=True)
    ch.queue_declare("deleted", durable=True)
    for i in range(20):
        ch.basic_publish("", "purged", b"%d" % i, properties=PERSISTENT)
        ch.basic_publish("", "deleted", b"%d" % i, properties=PERSISTENT)
    assert ch.queue_purge("purged").method.message_count == 20
    ch.queue_delete("deleted")
    ch.basic_publish("", "purged", b"after", properties=PERSISTENT)
    b = restartable.restart(kill=True)
    c = connect(b)
    ch = c.channel()
    assert bodies(get_all(ch, "purged")) == [b"after"]
    with channel_closed(404, "NOT_FOUND"):
        ch.queue_declare("deleted", passive=True)
    ch = c.channel()
    ch.queue_declare("deleted", durable=True)  # a new queue of that name starts empty
    assert get_all(ch, "deleted") == []
    c.close()


def test_dead_lettered_messages_survive_in_the_dlq(restartable):
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("dlq", durable=True)
    ch.queue_declare("work", durable=True, arguments={"x-dead-letter-exchange": "",
                                                      "x-dead-letter-routing-key": "dlq"})
    for i in range(5):
        ch.basic_publish("", "work", b"%d" % i, properties=PERSISTENT)
    for _ in range(5):
        m, _, _ = ch.basic_get("work")
        ch.basic_reject(m.delivery_tag, requeue=False)
    ch.basic_publish("", "work", b"sync", properties=PERSISTENT)
    b = restartable.restart(kill=True)
    c = connect(b)
    ch = c.channel()
    msgs = get_all(ch, "dlq")
    assert bodies(msgs) == [b"0", b"1", b"2", b"3", b"4"]
    death = msgs[0][1].headers["x-death"][0]
    assert death["reason"] == "rejected" and death["queue"] == "work"
    assert bodies(get_all(ch, "work")) == [b"sync"]
    c.close()


def test_transaction_commit_is_durable(restartable):
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.queue_declare("txq", durable=True)
    ch.tx_select()
    ch.basic_publish("", "txq", b"committed", properties=PERSISTENT)
    ch.tx_commit()
    ch.basic_publish("", "txq", b"rolled back", properties=PERSISTENT)
    ch.tx_rollback()
    b = restartable.restart(kill=True)
    c = connect(b)
    ch = c.channel()
    assert bodies(get_all(ch, "txq")) == [b"committed"]
    c.close()


def test_message_ttl_counts_across_a_restart(restartable):
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("ttlq", durable=True)
    ch.basic_publish("", "ttlq", b"short", properties=pika.BasicProperties(
        delivery_mode=2, expiration="300"))
    ch.basic_publish("", "ttlq", b"long", properties=pika.BasicProperties(
        delivery_mode=2, expiration="600000"))
    b = restartable.restart()
    import time
    time.sleep(0.5)
    c = connect(b)
    ch = c.channel()
    assert bodies(get_all(ch, "ttlq")) == [b"long"]
    c.close()


def test_os_durability_is_accepted_and_a_bad_value_refused(restartable, tmp_path):
    b = restartable(("--durability", "os"))
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("osq", durable=True)
    ch.basic_publish("", "osq", b"x", properties=PERSISTENT)
    b = restartable.restart(kill=True)
    c = connect(b)
    assert bodies(get_all(c.channel(), "osq")) == [b"x"]
    c.close()
    binary = os.environ.get("WARREN_BIN", b.binary)
    r = subprocess.run([binary, "--durability", "sometimes", "--data-dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "durability must be fsync or os" in r.stderr


def test_purge_keeps_a_message_waiting_on_a_delayed_nack_and_the_wait_survives(restartable):
    from test_nack_delay import get_eventually, nack_delay
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("waitq", durable=True)
    ch.basic_publish("", "waitq", b"waiting", properties=PERSISTENT)
    ch.basic_publish("", "waitq", b"ready", properties=PERSISTENT)
    m, _, _ = ch.basic_get("waitq")
    nack_delay(ch, m.delivery_tag, 4000)
    t0 = time.monotonic()
    assert ch.queue_purge("waitq").method.message_count == 1  # only the ready one
    ch.basic_publish("", "waitq", b"sync", properties=PERSISTENT)
    b = restartable.restart(kill=True)
    c = connect(b)
    ch = c.channel()
    # The wait is stored with its due time: after the restart the message still waits.
    assert bodies(get_all(ch, "waitq")) == [b"sync"]
    m, props, body = get_eventually(ch, "waitq", auto_ack=True, what="the waiting message")
    assert time.monotonic() - t0 >= 4.0
    assert body == b"waiting" and m.redelivered
    assert props.headers["x-delivery-count"] == 1  # the count was stored with the wait
    c.close()


def test_a_retry_policy_wait_survives_a_clean_restart(restartable):
    from test_nack_delay import get_eventually
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.queue_declare("retryq", durable=True, arguments={
        "x-delayed-retry-type": "all", "x-delayed-retry-min": 3000})
    ch.basic_publish("", "retryq", b"job", properties=PERSISTENT)
    m, _, _ = ch.basic_get("retryq")
    ch.basic_reject(m.delivery_tag, requeue=True)
    t0 = time.monotonic()
    ch.basic_publish("", "retryq", b"sync", properties=PERSISTENT)  # confirms the batch
    c.close()
    b = restartable.restart()
    c = connect(b)
    ch = c.channel()
    assert bodies(get_all(ch, "retryq")) == [b"sync"]
    m, props, body = get_eventually(ch, "retryq", auto_ack=True, what="the retried message")
    assert time.monotonic() - t0 >= 3.0
    assert body == b"job" and props.headers["x-delivery-count"] == 1
    c.close()


def test_delayed_messages_survive_a_kill_and_come_when_due(restartable):
    from test_nack_delay import get_eventually
    b = restartable()
    c = connect(b)
    ch = c.channel()
    ch.confirm_delivery()
    ch.exchange_declare("dx", "x-delayed-message", durable=True,
                        arguments={"x-delayed-type": "direct"})
    ch.queue_declare("dq", durable=True)
    ch.queue_bind("dq", "dx", "k")
    t0 = time.monotonic()
    for delay in (4000, 2500):
        ch.basic_publish("dx", "k", str(delay).encode(), properties=pika.BasicProperties(
            delivery_mode=2, headers={"x-delay": delay}))
    b = restartable.restart(kill=True)  # both were confirmed: stored
    c = connect(b)
    ch = c.channel()
    assert ch.basic_get("dq")[0] is None
    # The counts (total and per vhost) come back from the timeline's state record.
    from helpers_http import Api
    api = Api(b.http)
    assert api.get("/api/delayed")[1] == {"delayed_messages": 2, "vhosts": {"/": 2}}
    first = get_eventually(ch, "dq", auto_ack=True, what="the first delayed message")
    assert time.monotonic() - t0 >= 2.5 and first[2] == b"2500"
    second = get_eventually(ch, "dq", auto_ack=True, what="the second delayed message")
    assert time.monotonic() - t0 >= 4.0 and second[2] == b"4000"
    assert api.get("/api/delayed")[1] == {"delayed_messages": 0, "vhosts": {"/": 0}}
    api.close()
    # Routed once: nothing comes again after another restart (a clean one: an ack just before
    # a kill -9 may be lost, and the message then comes back, as at-least-once allows).
    b = restartable.restart()
    c = connect(b)
    time.sleep(0.3)
    assert get_all(c.channel(), "dq") == []
    c.close()
