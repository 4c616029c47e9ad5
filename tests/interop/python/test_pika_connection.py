"""Connection-level behaviour seen through pika: handshake, authentication, vhosts, tuning,
heartbeats, channels, connection-level errors."""

import time

import pika
import pika.exceptions
import pytest

from helpers_pika import *  # noqa: F401,F403

# What RabbitMQ 3.10 advertises in connection.start server-properties.capabilities; clients
# switch features on these (pika, amqplib and the Java client read consumer_cancel_notify,
# publisher_confirms, basic.nack, authentication_failure_close, ...).
RABBIT_CAPABILITIES = [
    "publisher_confirms", "exchange_exchange_bindings", "basic.nack", "consumer_cancel_notify",
    "connection.blocked", "consumer_priorities", "authentication_failure_close",
    "per_consumer_qos", "direct_reply_to",
]


def test_open_and_close(connect):
    c = connect()
    assert c.is_open
    channel = c.channel()
    assert channel.is_open
    channel.close()
    assert channel.is_closed
    c.close()
    assert c.is_closed


def test_close_with_open_channels(connect):
    c = connect()
    chans = [c.channel() for _ in range(5)]
    chans[0].queue_declare("", exclusive=True)
    c.close()
    assert c.is_closed
    assert all(x.is_closed for x in chans)


def test_server_properties_capabilities(conn):
    props = conn._impl.server_properties
    caps = props["capabilities"]
    for cap in RABBIT_CAPABILITIES:
        assert caps.get(cap) is True, cap
    for key in ("product", "version", "platform"):
        assert key in props, key


def test_tune_defaults(broker):
    """RabbitMQ proposes channel_max 2047, frame_max 131072 and heartbeat 60 s."""
    proposed = {}

    def heartbeat(connection, server_value):
        proposed["heartbeat"] = server_value
        return server_value

    c = pika.BlockingConnection(params(broker, heartbeat=heartbeat))
    try:
        assert proposed["heartbeat"] == 60
        assert c._impl.params.heartbeat == 60
        assert c._impl.params.channel_max == 2047  # min(server 2047, pika's 65535)
        assert c._impl.params.frame_max == 131072  # pika's own maximum
    finally:
        c.close()


def test_bad_password_is_access_refused(broker):
    # RabbitMQ honours the client's authentication_failure_close capability: connection.close
    # 403 ACCESS_REFUSED, which pika reports as ProbableAuthenticationError.
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as ei:
        pika.BlockingConnection(params(broker, password="wrong-password"))
    msg = str(ei.value)
    assert "(403)" in msg, msg
    assert "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN" in msg, msg


def test_unknown_user_is_access_refused(broker):
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as ei:
        pika.BlockingConnection(params(broker, user=uid("nobody"), password="x"))
    msg = str(ei.value)
    assert "(403)" in msg, msg
    assert "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN" in msg, msg


def test_unknown_vhost_is_not_allowed(broker):
    vhost = uid("novhost")
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as ei:
        pika.BlockingConnection(params(broker, vhost=vhost))
    msg = str(ei.value)
    assert "(530)" in msg, msg
    assert "NOT_ALLOWED - vhost %s not found" % vhost in msg, msg


def test_heartbeat_client_value_is_used_and_server_sends_heartbeats(broker):
    """The server proposes 60; the client asks for 1 s; the server then sends a heartbeat frame
    about every 0.5 s while the connection is otherwise idle."""
    proposed = {}

    def heartbeat(connection, server_value):
        proposed["heartbeat"] = server_value
        return 1

    c = pika.BlockingConnection(params(broker, heartbeat=heartbeat))
    try:
        assert proposed["heartbeat"] == 60
        assert c._impl.params.heartbeat == 1
        pump(c, 2.6)
        assert c.is_open
        assert c._impl._heartbeat_checker._heartbeat_frames_received >= 2
        c.channel().queue_declare("", exclusive=True)  # still usable
    finally:
        if c.is_open:
            c.close()


def test_server_drops_connection_without_client_heartbeats(broker):
    """With a 1 s heartbeat, a client that goes silent is disconnected (RabbitMQ: after ~2 s,
    by closing the socket without a connection.close)."""
    c = pika.BlockingConnection(params(broker, heartbeat=1))
    c._impl._heartbeat_checker.stop()  # stop sending (and checking) heartbeats
    start = time.monotonic()
    with pytest.raises(pika.exceptions.AMQPConnectionError):
        while time.monotonic() - start < 15:
            c.process_data_events(time_limit=0.1)
    assert time.monotonic() - start < 10


def test_heartbeat_zero_disables(broker):
    c = pika.BlockingConnection(params(broker, heartbeat=0))
    try:
        assert c._impl.params.heartbeat == 0
        assert c._impl._heartbeat_checker is None
        pump(c, 1.2)
        assert c.is_open
    finally:
        c.close()


def test_many_channels(conn, names):
    q = names.queue()
    chans = [conn.channel() for _ in range(200)]
    assert len({x.channel_number for x in chans}) == 200
    chans[0].queue_declare(q)
    for i, x in enumerate(chans):
        x.basic_publish("", q, str(i).encode())
    for x in chans[::2]:
        x.close()
    # Closed channel numbers can be reused.
    again = conn.channel(channel_number=chans[0].channel_number)
    assert again.is_open
    assert again.queue_declare(q, passive=True).method.message_count == 200
    for x in chans[1::2]:
        x.close()


def test_many_connections(connect):
    conns = [connect() for _ in range(20)]
    for c in conns:
        c.channel().queue_declare("", exclusive=True)
    for c in conns:
        c.close()


def test_channel_error_leaves_connection_usable(conn):
    bad = conn.channel()
    with channel_closed(404, "NOT_FOUND - no queue"):
        bad.queue_declare(uid("missing"), passive=True)
    assert bad.is_closed
    assert conn.is_open
    good = conn.channel()
    assert good.queue_declare("", exclusive=True).method.queue.startswith("amq.gen-")


def test_unknown_exchange_type_closes_connection(conn, names):
    """RabbitMQ treats an unknown exchange type as a connection error (503 COMMAND_INVALID)."""
    channel = conn.channel()
    with connection_closed(503, "COMMAND_INVALID - unknown exchange type 'no-such-type'"):
        channel.exchange_declare(names.exchange(), "no-such-type")
    assert conn.is_closed


def test_prefetch_size_not_implemented(conn):
    channel = conn.channel()
    with connection_closed(540, "NOT_IMPLEMENTED - prefetch_size!=0 (10)"):
        channel.basic_qos(prefetch_size=10)


def test_recover_without_requeue_not_implemented(conn):
    channel = conn.channel()
    with connection_closed(540, "NOT_IMPLEMENTED - requeue=false"):
        channel.basic_recover(requeue=False)
