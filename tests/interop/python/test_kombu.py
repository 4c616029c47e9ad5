"""kombu (Celery's messaging library, py-amqp transport) against the broker."""

import socket
import time

import kombu
import pytest
from kombu import Exchange, Queue, binding

from helpers_pika import *  # noqa: F401,F403


@pytest.fixture
def kconn(broker):
    c = kombu.Connection(hostname=broker.host, port=broker.port, userid="guest",
                         password="guest", virtual_host="/", transport="pyamqp",
                         connect_timeout=10, heartbeat=0,
                         transport_options={"confirm_publish": True})
    c.connect()
    yield c
    c.release()


def drain(kconn, received, n, timeout=WAIT):
    """drain_events until `received` has n items."""
    deadline = time.monotonic() + timeout
    while len(received) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("got %d of %d messages" % (len(received), n))
        try:
            kconn.drain_events(timeout=min(left, 0.5))
        except socket.timeout:
            pass


def test_server_properties(kconn):
    props = kconn.connection.server_properties  # py-amqp's Connection
    assert props["capabilities"]["publisher_confirms"] is True


def test_producer_consumer_round_trip(kconn, names):
    x = Exchange(names.exchange("kombu-x"), type="direct", durable=False)
    q = Queue(names.queue("kombu-q"), exchange=x, routing_key="jobs", durable=False)
    received = []

    def on_message(body, message):
        received.append((body, message.content_type, message.headers,
                         message.delivery_info["routing_key"]))
        message.ack()

    with kconn.Consumer(q, callbacks=[on_message]):  # declares x, q and the binding
        producer = kconn.Producer(serializer="json")
        for i in range(3):
            producer.publish({"n": i, "s": "ü"}, exchange=x, routing_key="jobs",
                             headers={"attempt": i}, declare=[q])
        drain(kconn, received, 3)
    assert [r[0] for r in received] == [{"n": i, "s": "ü"} for i in range(3)]
    assert all(r[1] == "application/json" for r in received)
    assert [r[2]["attempt"] for r in received] == [0, 1, 2]
    assert all(r[3] == "jobs" for r in received)


def test_persistent_messages_to_durable_queue(kconn, names):
    q = Queue(names.queue("kombu-durable"), durable=True)
    producer = kconn.Producer(serializer="json")
    for i in range(5):
        producer.publish({"i": i}, routing_key=q.name, declare=[q], delivery_mode=2)
    with kconn.SimpleQueue(q) as sq:
        assert sq.qsize() == 5  # confirmed publishes: all there
        assert [sq.get(block=True, timeout=WAIT).payload["i"] for _ in range(5)] == list(range(5))


def test_simple_queue(kconn, names):
    name = names.queue("kombu-simple")
    with kconn.SimpleQueue(name) as sq:
        sq.put({"hello": "world"})
        sq.put("plain text", serializer="raw", content_type="text/plain")
        m = sq.get(block=True, timeout=WAIT)
        assert m.payload == {"hello": "world"}
        m.ack()
        m = sq.get(block=True, timeout=WAIT)
        assert m.body in ("plain text", b"plain text")
        m.ack()
        with pytest.raises(sq.Empty):
            sq.get(block=False)
        assert sq.qsize() == 0


def test_simple_queue_requeue(kconn, names):
    name = names.queue("kombu-requeue")
    with kconn.SimpleQueue(name) as sq:
        sq.put("x")
        m = sq.get(block=True, timeout=WAIT)
        m.requeue()
        m = sq.get(block=True, timeout=WAIT)
        assert m.delivery_info["redelivered"] is True
        m.ack()


def test_exchange_and_queue_declare_with_bindings(kconn, names):
    topic = Exchange(names.exchange("kombu-topic"), type="topic", durable=False)
    fan = Exchange(names.exchange("kombu-fan"), type="fanout", durable=False)
    q = Queue(names.queue("kombu-multi"), durable=False,
              bindings=[binding(topic, routing_key="eu.*"), binding(topic, routing_key="*.urgent"),
                        binding(fan)])
    channel = kconn.channel()  # publishes are confirmed (confirm_publish): routed on return
    try:
        topic(channel).declare()
        fan(channel).declare()
        bound = q(channel)
        bound.declare()  # the queue and its three bindings
        producer = kombu.Producer(channel, serializer="json")
        for exchange, key in ((topic, "eu.normal"), (topic, "us.urgent"), (topic, "us.normal"),
                              (fan, "ignored")):
            producer.publish({"key": key}, exchange=exchange, routing_key=key)
        assert get_payload_keys(bound) == ["eu.normal", "us.urgent", "ignored"]
        # Passive declares of what now exists succeed.
        topic(channel).declare(passive=True)
        assert bound.queue_declare(passive=True).message_count == 0
        # Unbinding one key stops its routing; the other bindings stay.
        bound.unbind_from(topic, routing_key="eu.*")
        producer.publish({"key": "eu.normal"}, exchange=topic, routing_key="eu.normal")
        producer.publish({"key": "eu.urgent"}, exchange=topic, routing_key="eu.urgent")
        assert get_payload_keys(bound) == ["eu.urgent"]
        assert bound.delete() == 0
    finally:
        channel.close()


def get_payload_keys(bound_queue):
    out = []
    while True:
        m = bound_queue.get(no_ack=True)
        if m is None:
            return out
        out.append(m.payload["key"])
