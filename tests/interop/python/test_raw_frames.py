"""Bad frames after a complete handshake, over raw sockets (rawamqp.py).

Each test opens a connection with a hand-written handshake (PLAIN guest/guest, heartbeat 0,
channel 1 open), sends something malformed, and checks the exact reaction of RabbitMQ 3.10: a
connection.close on channel 0 with the given reply code and cause (class-id, method-id), a reply
text that starts with the reply code's name, and then the socket closing once close-ok is sent.
Afterwards a fresh, well-behaved client must still be able to publish and get a message.

Observed on RabbitMQ 3.10.8 (reply texts abbreviated):
  garbage / unknown frame type        501 FRAME_ERROR "type N, all octets = ...: unknown_frame"
                                          or "...: {frame_too_large,Size,Max}" (cause 0.0)
  frame over negotiated frame_max     501 FRAME_ERROR "...: {frame_too_large,Size,FrameMax-8}"
  bad frame-end octet                 501 FRAME_ERROR "...: {invalid_frame_end_marker,N}"
  header/body frame with no publish   505 UNEXPECTED_FRAME "expected method frame, got non method
                                          frame instead" (cause 0.0)
  body longer than declared size      nothing at first (RabbitMQ waits for the "rest" of the
                                          body); the next method frame gets 505 UNEXPECTED_FRAME
                                          "expected content body, got non content body frame
                                          instead" (cause 60.40)
  method on a never-opened channel    504 CHANNEL_ERROR "expected 'channel.open'" (cause = method)
  heartbeat on channel != 0           505 UNEXPECTED_FRAME "type 8, all octets = <<>>" (cause 0.0)
  unknown class / method id           no connection.close at all: RabbitMQ's reader crashes on the
                                          lookup and the socket is dropped (reset)
After a frame-level error (501) RabbitMQ keeps the socket open ~3 s after close-ok before
closing it; after other errors it closes as soon as close-ok arrives.
"""

import pytest

from rawamqp import (BASIC_ACK, BASIC_PUBLISH, CHANNEL_CLOSE, CHANNEL_CLOSE_OK, CHANNEL_ERROR,
                     CHANNEL_OPEN, COMMAND_INVALID, CONNECTION_OPEN, FRAME_BODY, FRAME_ERROR,
                     FRAME_HEARTBEAT, FRAME_METHOD, NOT_IMPLEMENTED, QUEUE_DECLARE,
                     QUEUE_DECLARE_OK, UNEXPECTED_FRAME, RawConnection, basic_publish_args,
                     body_frame, frame, good_client_round_trip, header_frame, heartbeat_frame,
                     method_frame, method_payload, octet, queue_declare_args, short, shortstr)

NAMES = {FRAME_ERROR: "FRAME_ERROR", UNEXPECTED_FRAME: "UNEXPECTED_FRAME",
         CHANNEL_ERROR: "CHANNEL_ERROR", COMMAND_INVALID: "COMMAND_INVALID",
         NOT_IMPLEMENTED: "NOT_IMPLEMENTED"}


@pytest.fixture
def raw(broker):
    """A raw connection, handshake done, channel 1 open. After the test, a good client must work."""
    c = RawConnection(broker.host, broker.port)
    c.handshake(heartbeat=0)
    c.open_channel(1)
    yield c
    c.close()
    good_client_round_trip(broker)


def publish(ch=1, rk="raw-nowhere"):
    return method_frame(ch, BASIC_PUBLISH, basic_publish_args("", rk))


def declare(ch=1):
    return method_frame(ch, QUEUE_DECLARE, queue_declare_args("", exclusive=True))


def assert_close(close, code, cause=(0, 0)):
    assert close.reply_code == code, close
    assert close.reply_text.startswith(NAMES[code] + " - "), close
    # readable text (RabbitMQ's may contain a newline from Erlang's pretty-printer)
    assert all(ch.isprintable() or ch in "\n\t" for ch in close.reply_text), close
    assert (close.class_id, close.method_id) == cause, close


# Each case: raw -> bytes to send after the handshake; expected reply code and cause.
CASES = {
    # garbage: read as a frame header with a huge size / unknown frame type
    "garbage-deadbeef": (lambda c: b"\xde\xad\xbe\xef" * 4, FRAME_ERROR, (0, 0)),
    "garbage-http": (lambda c: b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", FRAME_ERROR, (0, 0)),
    "unknown-frame-type-9": (lambda c: frame(9, 1, b"abc"), FRAME_ERROR, (0, 0)),
    "unknown-frame-type-0": (lambda c: frame(0, 1, b""), FRAME_ERROR, (0, 0)),
    "method-frame-too-short": (lambda c: frame(FRAME_METHOD, 1, b"\x00"), FRAME_ERROR, (0, 0)),
    "heartbeat-with-payload": (lambda c: frame(FRAME_HEARTBEAT, 0, b"xx"), FRAME_ERROR, (0, 0)),
    # frames over the negotiated frame_max (the server's proposal, accepted as is)
    "body-frame-over-frame-max": (
        lambda c: publish() + header_frame(1, c.frame_max + 1)
        + body_frame(1, b"x" * (c.frame_max + 1)), FRAME_ERROR, (0, 0)),
    "method-frame-over-frame-max": (
        lambda c: frame(FRAME_METHOD, 1, method_payload(QUEUE_DECLARE, b"x" * c.frame_max)),
        FRAME_ERROR, (0, 0)),
    "frame-header-announcing-huge-size": (
        lambda c: octet(FRAME_BODY) + short(1) + (10 * c.frame_max).to_bytes(4, "big"),
        FRAME_ERROR, (0, 0)),
    # wrong frame-end octet
    "bad-frame-end-method": (
        lambda c: frame(FRAME_METHOD, 1, method_payload(QUEUE_DECLARE, queue_declare_args("")),
                        end=0x00), FRAME_ERROR, (0, 0)),
    "bad-frame-end-heartbeat": (lambda c: frame(FRAME_HEARTBEAT, 0, b"", end=0xCD),
                                FRAME_ERROR, (0, 0)),
    # content frames out of sequence
    "body-without-publish": (lambda c: body_frame(1, b"abc"), UNEXPECTED_FRAME, (0, 0)),
    "header-without-publish": (lambda c: header_frame(1, 3), UNEXPECTED_FRAME, (0, 0)),
    "body-without-publish-unopened-channel": (lambda c: body_frame(7, b"abc"),
                                              UNEXPECTED_FRAME, (0, 0)),
    "body-frame-on-channel-0": (lambda c: body_frame(0, b"abc"), UNEXPECTED_FRAME, (0, 0)),
    "body-longer-than-declared": (
        lambda c: publish() + header_frame(1, 3) + body_frame(1, b"abcdef") + declare(),
        UNEXPECTED_FRAME, (60, 40)),
    "body-longer-than-declared-in-two-frames": (
        lambda c: publish() + header_frame(1, 3) + body_frame(1, b"ab") + body_frame(1, b"cd")
        + declare(), UNEXPECTED_FRAME, (60, 40)),
    "zero-size-content-then-body": (
        lambda c: publish() + header_frame(1, 0) + body_frame(1, b"a"), UNEXPECTED_FRAME, (0, 0)),
    "method-instead-of-header": (lambda c: publish() + publish(), UNEXPECTED_FRAME, (60, 40)),
    "method-instead-of-body": (lambda c: publish() + header_frame(1, 3) + declare(),
                               UNEXPECTED_FRAME, (60, 40)),
    "header-class-mismatch": (
        lambda c: publish() + header_frame(1, 3, class_id=50) + body_frame(1, b"abc"),
        UNEXPECTED_FRAME, (60, 40)),
    # heartbeats belong on channel 0
    "heartbeat-on-channel-1": (lambda c: heartbeat_frame(1), UNEXPECTED_FRAME, (0, 0)),
    "heartbeat-on-unopened-channel": (lambda c: heartbeat_frame(9), UNEXPECTED_FRAME, (0, 0)),
    # channels that were never opened
    "queue-declare-on-unopened-channel": (lambda c: declare(5), CHANNEL_ERROR, (50, 10)),
    "publish-on-unopened-channel": (
        lambda c: publish(5) + header_frame(5, 3) + body_frame(5, b"abc"),
        CHANNEL_ERROR, (60, 40)),
    "channel-close-on-unopened-channel": (
        lambda c: method_frame(5, CHANNEL_CLOSE, short(200) + shortstr("x") + short(0) + short(0)),
        CHANNEL_ERROR, (20, 40)),
    "channel-close-ok-on-unopened-channel": (lambda c: method_frame(5, CHANNEL_CLOSE_OK),
                                             CHANNEL_ERROR, (20, 41)),
    "channel-open-twice": (lambda c: method_frame(1, CHANNEL_OPEN, shortstr("")),
                           CHANNEL_ERROR, (20, 10)),
    # methods on the wrong kind of channel
    "channel-method-on-channel-0": (lambda c: declare(0), CHANNEL_ERROR, (50, 10)),
    "connection-method-on-channel-1": (
        lambda c: method_frame(1, CONNECTION_OPEN, shortstr("/") + shortstr("") + octet(0)),
        COMMAND_INVALID, (10, 40)),
    # a method whose arguments are cut short
    "truncated-method-arguments": (lambda c: method_frame(1, QUEUE_DECLARE, short(0) + b"\x05ab"),
                                   FRAME_ERROR, (50, 10)),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_frame_closes_connection(raw, case):
    build, code, cause = case
    raw.send_tolerant(build(raw))
    close = raw.expect_connection_close(timeout=10)
    assert_close(close, code, cause)


UNKNOWN_METHODS = {
    "unknown-class-channel-1": (1, (999, 1)),
    "unknown-method-basic-channel-1": (1, (60, 999)),
    "unknown-class-channel-0": (0, (999, 1)),
    "unknown-method-connection-channel-0": (0, (10, 99)),
}


@pytest.mark.parametrize("case", list(UNKNOWN_METHODS.values()), ids=list(UNKNOWN_METHODS))
def test_unknown_class_or_method(raw, case):
    # RabbitMQ 3.10 drops the socket without a connection.close (its reader crashes on the
    # unknown method id). A connection.close with 540 NOT_IMPLEMENTED / 503 COMMAND_INVALID
    # before closing is accepted too; either way the connection must end.
    channel, cm = case
    raw.send(method_frame(channel, cm, b"\x00\x00\x00\x00"))
    close = raw.expect_close_or_drop(timeout=10)
    if close is not None:
        assert close.reply_code in (NOT_IMPLEMENTED, COMMAND_INVALID), close
        assert close.reply_text.startswith(NAMES[close.reply_code] + " - "), close


def test_frame_of_exactly_frame_max_is_accepted(raw):
    # A body frame of exactly frame_max octets (payload frame_max - 8) is legal.
    n = raw.frame_max - 8
    raw.send(method_frame(1, QUEUE_DECLARE, queue_declare_args("", exclusive=True)))
    q = raw.expect_method(QUEUE_DECLARE_OK, 1).args().shortstr().decode()
    raw.confirm_select(1)
    body = bytes(range(256)) * (n // 256) + b"z" * (n % 256)
    raw.send(publish(rk=q) + header_frame(1, n) + body_frame(1, body))
    ack = raw.expect_method(BASIC_ACK, 1).args()
    assert ack.longlong() == 1  # delivery tag
    assert raw.basic_get(q) == body
    raw.close_connection()


def test_frame_over_client_lowered_frame_max(broker):
    # The client may negotiate a frame_max below the server's proposal; the server must then
    # enforce the lower value.
    with RawConnection(broker.host, broker.port) as c:
        c.handshake(frame_max=4096)
        c.open_channel(1)
        # exactly 4096 octets is fine
        c.send(publish() + header_frame(1, 4088) + body_frame(1, b"x" * 4088) + declare())
        c.expect_method(QUEUE_DECLARE_OK, 1)
        # well over it is not
        c.send_tolerant(publish() + header_frame(1, 5000) + body_frame(1, b"x" * 5000))
        assert_close(c.expect_connection_close(timeout=10), FRAME_ERROR)
    good_client_round_trip(broker)


def test_raw_happy_path(raw):
    # Sanity check of the hand-written client: a second channel works and a clean close works.
    raw.open_channel(2)
    raw.send(declare(2))
    raw.expect_method(QUEUE_DECLARE_OK, 2)
    raw.close_connection()
