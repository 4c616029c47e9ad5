"""Bad input before and during the AMQP handshake, over raw sockets (rawamqp.py).

Expected behaviour is RabbitMQ 3.10's (run with WARREN_TEST_URL=amqp://guest:guest@127.0.0.1:5674/):
  * any protocol header other than AMQP 0-9-1 gets back exactly b"AMQP\\x00\\x00\\x09\\x01" and the
    socket is closed right away, with nothing else sent;
  * a client that does not finish the handshake (connection.open) within the handshake timeout
    (10 s by default) is dropped without a connection.close, whatever stage it stopped at; the
    timeout counts from the TCP connect.
"""

import socket
import time

import pytest

from rawamqp import (BASIC_PUBLISH, CONNECTION_START, CONNECTION_START_OK, CONNECTION_TUNE,
                     CONNECTION_TUNE_OK, FRAME_BODY, FRAME_ERROR, PROTOCOL_HEADER, QUEUE_DECLARE,
                     QUEUE_DECLARE_OK, RawConnection, basic_publish_args, body_frame, frame,
                     good_client_round_trip, header_frame, long_, longstr, method_frame,
                     queue_declare_args, short, shortstr, table)

# RabbitMQ's (and Warren's) default handshake timeout.
DEFAULT_HANDSHAKE_TIMEOUT = 10.0

BAD_HEADERS = {
    "amqp-0-9-0": b"AMQP\x00\x00\x09\x00",
    "amqp-0-9-2": b"AMQP\x00\x00\x09\x02",
    "amqp-0-8": b"AMQP\x00\x00\x08\x00",
    "amqp-0-10": b"AMQP\x00\x00\x0a\x00",
    "amqp-1-0": b"AMQP\x00\x01\x00\x00",
    "amqp-1-0-sasl": b"AMQP\x03\x01\x00\x00",
    "http-1-1": b"HTTP/1.1",
    "http-get": b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "tls-client-hello": bytes.fromhex("16030100a5010000a10303") + b"\x00" * 32,
    "junk": b"XXXXXXXX",
    "zeros": b"\x00" * 8,
}


@pytest.mark.parametrize("header", list(BAD_HEADERS.values()), ids=list(BAD_HEADERS))
def test_bad_protocol_header_gets_0_9_1_header_and_close(broker, header):
    with RawConnection(broker.host, broker.port) as c:
        c.send(header)
        # Exactly the 0-9-1 protocol header, then EOF (no connection.start, no close frame).
        assert c.wait_eof(timeout=10) == PROTOCOL_HEADER
    good_client_round_trip(broker)


def _start_ok():
    return method_frame(0, CONNECTION_START_OK, table({"product": "rawamqp"}) + shortstr("PLAIN")
                        + longstr(b"\x00guest\x00guest") + shortstr("en_US"))


def _stalled_clients(broker):
    """Four clients that stop at different handshake stages. Returns [(name, conn, connected_at)]."""
    out = []
    # 1. connects and says nothing at all
    c = RawConnection(broker.host, broker.port)
    out.append(("silent", c, time.monotonic()))
    # 2. sends half a protocol header
    c = RawConnection(broker.host, broker.port)
    out.append(("partial-header", c, time.monotonic()))
    c.send(b"AMQP")
    # 3. sends the header, reads connection.start, never answers
    c = RawConnection(broker.host, broker.port)
    out.append(("after-start", c, time.monotonic()))
    c.send(PROTOCOL_HEADER)
    c.expect_method(CONNECTION_START, 0)
    # 4. gets as far as tune-ok but never sends connection.open
    c = RawConnection(broker.host, broker.port)
    out.append(("after-tune-ok", c, time.monotonic()))
    c.send(PROTOCOL_HEADER)
    c.expect_method(CONNECTION_START, 0)
    c.send(_start_ok())
    tune = c.expect_method(CONNECTION_TUNE, 0)
    r = tune.args()
    channel_max, frame_max = r.short(), r.long()
    c.send(method_frame(0, CONNECTION_TUNE_OK, short(channel_max) + long_(frame_max) + short(0)))
    return out


def _assert_dropped_after(clients, timeout):
    for name, c, connected_at in clients:
        # Nothing more is sent (no connection.close): just EOF.
        rest = c.wait_eof(timeout=timeout + 10)
        elapsed = time.monotonic() - connected_at
        assert rest == b"", (name, rest)
        assert elapsed >= timeout - 0.5, "%s dropped too early, after %.2fs" % (name, elapsed)
        assert elapsed <= timeout + 5, "%s dropped too late, after %.2fs" % (name, elapsed)
        c.close()


def test_stalled_handshake_dropped_after_default_timeout(broker):
    clients = _stalled_clients(broker)
    try:
        _assert_dropped_after(clients, DEFAULT_HANDSHAKE_TIMEOUT)
    finally:
        for _, c, _ in clients:
            c.close()
    good_client_round_trip(broker)


def test_stalled_handshake_dropped_after_configured_timeout(start_broker):
    b = start_broker(["--handshake-timeout", "1"])
    clients = _stalled_clients(b)
    try:
        _assert_dropped_after(clients, 1.0)
    finally:
        for _, c, _ in clients:
            c.close()
    good_client_round_trip(b)


def test_open_connection_not_subject_to_handshake_timeout(start_broker):
    b = start_broker(["--handshake-timeout", "1"])
    with RawConnection(b.host, b.port) as c:
        c.handshake(heartbeat=0)
        # Idle for well past the handshake timeout: the connection must stay up.
        c.sock.settimeout(3.0)
        with pytest.raises(socket.timeout):
            data = c.sock.recv(1)
            pytest.fail("server sent %r / closed an open, idle connection" % data)
        c.open_channel(1)
        c.close_connection()


def test_server_frame_max_is_configurable(start_broker):
    b = start_broker(["--frame-max", "4096"])
    with RawConnection(b.host, b.port) as c:
        c.handshake()
        assert c.server_tune[1] == 4096
        c.open_channel(1)
        # A frame of exactly frame_max octets (payload 4088) is fine ...
        c.send(method_frame(1, BASIC_PUBLISH, basic_publish_args("", "nowhere"))
               + header_frame(1, 4088) + body_frame(1, b"x" * 4088))
        c.send(method_frame(1, QUEUE_DECLARE, queue_declare_args("", exclusive=True)))
        c.expect_method(QUEUE_DECLARE_OK, 1)
        # ... one over it is a connection error.
        c.send_tolerant(method_frame(1, BASIC_PUBLISH, basic_publish_args("", "nowhere"))
                        + header_frame(1, 5000) + frame(FRAME_BODY, 1, b"x" * 5000))
        close = c.expect_connection_close()
        assert close.reply_code == FRAME_ERROR, close
        assert close.reply_text.startswith("FRAME_ERROR"), close
    good_client_round_trip(b)
