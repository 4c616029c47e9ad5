"""Shared helpers and fixtures for the pika / kombu interop tests.

Test modules take everything with a star import (pytest registers the fixtures it finds in a
test module's namespace, and a fixture's own dependencies must be there too):

    from helpers_pika import *  # noqa: F401,F403

Everything here talks to the session `broker` fixture from conftest.py: the real warren binary, or
the broker named by WARREN_TEST_URL (RabbitMQ 3.10 is the reference: every test passes on it).
"""

import contextlib
import os
import time
import uuid

import pika
import pika.exceptions
import pytest

__all__ = [
    # fixtures
    "connect", "conn", "ch", "names",
    # helpers
    "WAIT", "QUIET", "uid", "params", "Names", "channel_closed",
    "connection_closed", "sync", "wait_until", "pump", "Collector", "consume", "publish_all",
    "get_all", "message_count", "declare_queue",
]

# How long a test waits for something that should happen ("eventually") before failing.
WAIT = 10.0
# How long a test watches for something that must NOT happen (e.g. a delivery beyond prefetch).
QUIET = 0.3


def uid(prefix="t"):
    """A name no other test (or earlier run) uses."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def params(broker, user="guest", password="guest", vhost="/", **overrides):
    """pika connection parameters for `broker`, with short timeouts so failures are quick."""
    p = pika.URLParameters(broker.url(user=user, password=password, vhost=vhost))
    p.connection_attempts = 1
    p.socket_timeout = 10
    p.stack_timeout = 15
    p.blocked_connection_timeout = 30
    for k, v in overrides.items():
        setattr(p, k, v)
    return p


@pytest.fixture
def connect(broker):
    """Factory: connect(**param_overrides) -> pika.BlockingConnection, closed at teardown."""
    opened = []

    def _connect(**kw):
        c = pika.BlockingConnection(params(broker, **kw))
        opened.append(c)
        return c

    yield _connect
    for c in opened:
        with contextlib.suppress(Exception):
            if c.is_open:
                c.close()


@pytest.fixture
def conn(connect):
    return connect()


@pytest.fixture
def ch(conn):
    return conn.channel()


class Names:
    """Unique queue / exchange names, deleted (over a fresh connection) at teardown."""

    def __init__(self, broker):
        self.broker = broker
        self.queues = []
        self.exchanges = []

    def queue(self, prefix="q"):
        n = uid(prefix)
        self.queues.append(n)
        return n

    def exchange(self, prefix="x"):
        n = uid(prefix)
        self.exchanges.append(n)
        return n

    def cleanup(self):
        if not (self.queues or self.exchanges):
            return
        c = pika.BlockingConnection(params(self.broker))
        try:
            for kind, items in (("queue", self.queues), ("exchange", self.exchanges)):
                for n in items:
                    # One channel per delete: a delete that fails closes only its own channel.
                    with contextlib.suppress(pika.exceptions.ChannelClosedByBroker):
                        c2 = c.channel()
                        if kind == "queue":
                            c2.queue_delete(n)
                        else:
                            c2.exchange_delete(n)
                        c2.close()
        finally:
            if c.is_open:
                c.close()


@pytest.fixture
def names(broker):
    n = Names(broker)
    yield n
    n.cleanup()


@contextlib.contextmanager
def channel_closed(code, text):
    """Expect the broker to close the channel with `code`; its reply text must start with `text`."""
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        yield ei
    assert ei.value.reply_code == code, ei.value
    assert ei.value.reply_text.startswith(text), ei.value.reply_text


@contextlib.contextmanager
def connection_closed(code, text):
    """Expect the broker to close the connection with `code` and a reply text starting `text`."""
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        yield ei
    assert ei.value.reply_code == code, ei.value
    assert ei.value.reply_text.startswith(text), ei.value.reply_text


def sync(ch):
    """A round trip on `ch`: a channel error caused by an earlier async method surfaces here."""
    ch.exchange_declare("amq.direct", passive=True)


def wait_until(conn, pred, timeout=WAIT):
    """Pump `conn`'s I/O until pred() is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %ss" % timeout)
        conn.process_data_events(time_limit=0.02)


def pump(conn, seconds=QUIET):
    """Pump `conn`'s I/O for `seconds` (to check that something does NOT arrive)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.process_data_events(time_limit=0.02)


class Collector:
    """A basic.consume callback that records deliveries as (method, properties, body)."""

    def __init__(self):
        self.got = []

    def __call__(self, channel, method, properties, body):
        self.got.append((method, properties, body))

    @property
    def bodies(self):
        return [b for _, _, b in self.got]

    @property
    def tags(self):
        return [m.delivery_tag for m, _, _ in self.got]

    def __len__(self):
        return len(self.got)


def consume(conn, ch, queue, n, auto_ack=False, **kw):
    """Start a consumer on `queue` and wait for `n` deliveries. Returns (collector, consumer_tag)."""
    col = Collector()
    tag = ch.basic_consume(queue, col, auto_ack=auto_ack, **kw)
    wait_until(conn, lambda: len(col) >= n)
    return col, tag


def publish_all(ch, queue, bodies, exchange="", **props):
    for b in bodies:
        ch.basic_publish(exchange, queue, b if isinstance(b, bytes) else str(b).encode(),
                         pika.BasicProperties(**props) if props else None)


def get_all(ch, queue, auto_ack=True):
    """basic.get until get-empty; returns the bodies."""
    out = []
    while True:
        m, _, body = ch.basic_get(queue, auto_ack=auto_ack)
        if m is None:
            return out
        out.append(body)


def message_count(ch, queue):
    return ch.queue_declare(queue, passive=True).method.message_count


def declare_queue(ch, names, prefix="q", **kw):
    """Declare a uniquely named queue that is deleted at teardown; returns its name."""
    q = names.queue(prefix)
    ch.queue_declare(q, **kw)
    return q
