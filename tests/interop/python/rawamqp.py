"""A tiny hand-written AMQP 0-9-1 codec over raw sockets, for feeding a broker bad input.

Deliberately independent of the broker's own codec: frames, the few field types the handshake
needs (octet/short/long/longlong, shortstr, longstr, a flat field table), and just enough client
to complete a handshake (PLAIN guest/guest), open channels, declare a queue, publish, confirm,
basic.get, and read back the server's connection.close / channel.close. Every socket read has a
deadline; `raw_test_timeout` (autouse when imported into a test module) bounds a whole test.
"""

import os
import socket
import struct
import time
import uuid

import pytest

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"

FRAME_METHOD = 1
FRAME_HEADER = 2
FRAME_BODY = 3
FRAME_HEARTBEAT = 8
FRAME_END = 0xCE

# (class_id, method_id)
CONNECTION_START = (10, 10)
CONNECTION_START_OK = (10, 11)
CONNECTION_TUNE = (10, 30)
CONNECTION_TUNE_OK = (10, 31)
CONNECTION_OPEN = (10, 40)
CONNECTION_OPEN_OK = (10, 41)
CONNECTION_CLOSE = (10, 50)
CONNECTION_CLOSE_OK = (10, 51)
CHANNEL_OPEN = (20, 10)
CHANNEL_OPEN_OK = (20, 11)
CHANNEL_CLOSE = (20, 40)
CHANNEL_CLOSE_OK = (20, 41)
QUEUE_DECLARE = (50, 10)
QUEUE_DECLARE_OK = (50, 11)
QUEUE_DELETE = (50, 40)
QUEUE_DELETE_OK = (50, 41)
BASIC_PUBLISH = (60, 40)
BASIC_GET = (60, 70)
BASIC_GET_OK = (60, 71)
BASIC_GET_EMPTY = (60, 72)
BASIC_ACK = (60, 80)
CONFIRM_SELECT = (85, 10)
CONFIRM_SELECT_OK = (85, 11)

# Reply codes (AMQP 0-9-1 spec).
FRAME_ERROR = 501
SYNTAX_ERROR = 502
COMMAND_INVALID = 503
CHANNEL_ERROR = 504
UNEXPECTED_FRAME = 505
NOT_IMPLEMENTED = 540


# ---------------------------------------------------------------- encoding

def octet(v):
    return struct.pack(">B", v)


def short(v):
    return struct.pack(">H", v)


def long_(v):
    return struct.pack(">I", v)


def longlong(v):
    return struct.pack(">Q", v)


def shortstr(s):
    if isinstance(s, str):
        s = s.encode()
    assert len(s) < 256
    return octet(len(s)) + s


def longstr(s):
    if isinstance(s, str):
        s = s.encode()
    return long_(len(s)) + s


def table(items=None):
    """A field table; values may be str (longstr 'S'), bool ('t') or int ('I')."""
    out = b""
    for k, v in (items or {}).items():
        out += shortstr(k)
        if isinstance(v, bool):
            out += b"t" + octet(1 if v else 0)
        elif isinstance(v, int):
            out += b"I" + struct.pack(">i", v)
        else:
            out += b"S" + longstr(v)
    return long_(len(out)) + out


def frame(ftype, channel, payload, end=FRAME_END):
    return octet(ftype) + short(channel) + long_(len(payload)) + payload + octet(end)


def method_payload(cm, args=b""):
    return short(cm[0]) + short(cm[1]) + args


def method_frame(channel, cm, args=b""):
    return frame(FRAME_METHOD, channel, method_payload(cm, args))


def header_frame(channel, body_size, class_id=60, flags=0, props=b""):
    return frame(FRAME_HEADER, channel, short(class_id) + short(0) + longlong(body_size)
                 + short(flags) + props)


def body_frame(channel, data):
    return frame(FRAME_BODY, channel, data)


def heartbeat_frame(channel=0):
    return frame(FRAME_HEARTBEAT, channel, b"")


def basic_publish_args(exchange="", routing_key="", mandatory=False, immediate=False):
    bits = (1 if mandatory else 0) | (2 if immediate else 0)
    return short(0) + shortstr(exchange) + shortstr(routing_key) + octet(bits)


def queue_declare_args(name="", passive=False, durable=False, exclusive=False,
                       auto_delete=False, nowait=False):
    bits = ((1 if passive else 0) | (2 if durable else 0) | (4 if exclusive else 0)
            | (8 if auto_delete else 0) | (16 if nowait else 0))
    return short(0) + shortstr(name) + octet(bits) + table()


# ---------------------------------------------------------------- decoding

class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("truncated: need %d bytes at %d of %d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def octet(self):
        return self.take(1)[0]

    def short(self):
        return struct.unpack(">H", self.take(2))[0]

    def long(self):
        return struct.unpack(">I", self.take(4))[0]

    def longlong(self):
        return struct.unpack(">Q", self.take(8))[0]

    def shortstr(self):
        return self.take(self.octet())

    def longstr(self):
        return self.take(self.long())

    def skip_table(self):
        self.take(self.long())


class Frame:
    def __init__(self, ftype, channel, payload):
        self.type = ftype
        self.channel = channel
        self.payload = payload

    @property
    def method(self):
        if self.type != FRAME_METHOD or len(self.payload) < 4:
            return None
        return struct.unpack(">HH", self.payload[:4])

    def args(self):
        return Reader(self.payload[4:])

    def __repr__(self):
        return "Frame(type=%d, channel=%d, method=%r, payload=%r)" % (
            self.type, self.channel, self.method, self.payload[:80])


class Closed(Exception):
    """The peer closed the socket (EOF or reset) while we were reading."""


class Close:
    """A decoded connection.close or channel.close."""

    def __init__(self, channel, reply_code, reply_text, class_id, method_id):
        self.channel = channel
        self.reply_code = reply_code
        self.reply_text = reply_text
        self.class_id = class_id
        self.method_id = method_id

    def __repr__(self):
        return "Close(ch=%d, %d %r, cause=%d.%d)" % (self.channel, self.reply_code,
                                                    self.reply_text, self.class_id, self.method_id)


def decode_close(f):
    r = f.args()
    code = r.short()
    text = r.shortstr().decode("utf-8")  # must be readable text
    class_id = r.short()
    method_id = r.short()
    return Close(f.channel, code, text, class_id, method_id)


# ---------------------------------------------------------------- connection

class RawConnection:
    def __init__(self, host, port, timeout=10.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.frame_max = None
        self.channel_max = None
        self.heartbeat = None
        self.server_properties = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- raw I/O

    def send(self, data):
        self.sock.sendall(data)

    def send_tolerant(self, data):
        """Send, ignoring a reset/broken pipe (the server may already have dropped us)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("timed out waiting for data")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError as e:
            raise Closed("connection reset") from e
        if not chunk:
            raise Closed("EOF")
        self.buf += chunk

    def recv_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_all_until_eof(self, timeout=None):
        """Everything the server sends until it closes the socket."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                self._fill(deadline)
            except Closed:
                out, self.buf = self.buf, b""
                return out

    def wait_eof(self, timeout=None):
        """Wait for the server to close the socket; returns any bytes received before EOF."""
        return self.recv_all_until_eof(timeout)

    def read_frame(self, timeout=None):
        hdr = self.recv_exact(7, timeout)
        ftype, channel, size = struct.unpack(">BHI", hdr)
        payload = self.recv_exact(size, timeout)
        end = self.recv_exact(1, timeout)[0]
        if end != FRAME_END:
            raise ValueError("bad frame-end 0x%02x from server" % end)
        return Frame(ftype, channel, payload)

    def read_non_heartbeat(self, timeout=None):
        while True:
            f = self.read_frame(timeout)
            if f.type != FRAME_HEARTBEAT:
                return f

    def expect_method(self, cm, channel=None, timeout=None):
        f = self.read_non_heartbeat(timeout)
        if f.method != cm or (channel is not None and f.channel != channel):
            if f.method == CONNECTION_CLOSE:
                raise AssertionError("expected %r, server closed: %r" % (cm, decode_close(f)))
            raise AssertionError("expected %r on channel %r, got %r" % (cm, channel, f))
        return f

    # --- handshake

    def handshake(self, user="guest", password="guest", vhost="/", frame_max=None,
                  heartbeat=0, channel_max=None):
        """Protocol header, start-ok (PLAIN), tune-ok, open; returns self once open-ok arrived.

        frame_max/channel_max default to what the server proposes; heartbeat defaults to 0
        (disabled) so the server never sends heartbeats during a test.
        """
        self.send(PROTOCOL_HEADER)
        start = self.expect_method(CONNECTION_START, 0)
        r = start.args()
        r.octet()
        r.octet()
        r.skip_table()
        mechanisms = r.longstr().split()
        assert b"PLAIN" in mechanisms, mechanisms
        response = b"\x00" + user.encode() + b"\x00" + password.encode()
        self.send(method_frame(0, CONNECTION_START_OK,
                               table({"product": "rawamqp", "platform": "python"})
                               + shortstr("PLAIN") + longstr(response) + shortstr("en_US")))
        tune = self.expect_method(CONNECTION_TUNE, 0)
        r = tune.args()
        srv_channel_max, srv_frame_max, srv_heartbeat = r.short(), r.long(), r.short()
        self.channel_max = srv_channel_max if channel_max is None else channel_max
        self.frame_max = srv_frame_max if frame_max is None else frame_max
        self.heartbeat = heartbeat
        self.server_tune = (srv_channel_max, srv_frame_max, srv_heartbeat)
        self.send(method_frame(0, CONNECTION_TUNE_OK, short(self.channel_max)
                               + long_(self.frame_max) + short(heartbeat)))
        self.send(method_frame(0, CONNECTION_OPEN, shortstr(vhost) + shortstr("") + octet(0)))
        self.expect_method(CONNECTION_OPEN_OK, 0)
        return self

    def open_channel(self, channel=1):
        self.send(method_frame(channel, CHANNEL_OPEN, shortstr("")))
        self.expect_method(CHANNEL_OPEN_OK, channel)

    def confirm_select(self, channel=1):
        self.send(method_frame(channel, CONFIRM_SELECT, octet(0)))
        self.expect_method(CONFIRM_SELECT_OK, channel)

    def basic_get(self, queue, channel=1, timeout=None):
        """basic.get with no-ack; returns the body, or None on get-empty."""
        self.send(method_frame(channel, BASIC_GET, short(0) + shortstr(queue) + octet(1)))
        f = self.read_non_heartbeat(timeout)
        if f.method == BASIC_GET_EMPTY and f.channel == channel:
            return None
        assert f.method == BASIC_GET_OK and f.channel == channel, f
        h = self.read_non_heartbeat(timeout)
        assert h.type == FRAME_HEADER and h.channel == channel, h
        r = Reader(h.payload)
        r.short()  # class
        r.short()  # weight
        size = r.longlong()
        body = b""
        while len(body) < size:
            b = self.read_non_heartbeat(timeout)
            assert b.type == FRAME_BODY and b.channel == channel, b
            assert len(b.payload) <= self.frame_max - 8, "server sent a frame over frame_max"
            body += b.payload
        assert len(body) == size, (len(body), size)
        return body

    def close_connection(self, timeout=None):
        """Client-initiated clean close: connection.close, wait for close-ok, close the socket.

        The receiver of close-ok closes the socket (RabbitMQ keeps its end open for up to 30 s
        waiting for the client to do so)."""
        self.send(method_frame(0, CONNECTION_CLOSE, short(200) + shortstr("bye") + short(0)
                               + short(0)))
        while True:
            f = self.read_non_heartbeat(timeout)
            if f.channel == 0 and f.method == CONNECTION_CLOSE_OK:
                break
            # Deliveries etc. may still arrive before close-ok; a close from the server may not.
            assert f.method != CONNECTION_CLOSE, decode_close(f)
        self.close()

    # --- reading the server's reaction to bad input

    def expect_connection_close(self, timeout=None):
        """The server's next frame (heartbeats aside) must be connection.close on channel 0.
        Replies close-ok and waits until the server closes the socket. Returns the decoded
        Close (class 10 method 50: reply-code, reply-text, class-id, method-id)."""
        f = self.read_non_heartbeat(timeout)
        assert f.channel == 0 and f.method == CONNECTION_CLOSE, \
            "expected connection.close, got %r" % f
        close = decode_close(f)
        self.send_tolerant(method_frame(0, CONNECTION_CLOSE_OK))
        rest = self.wait_eof(timeout)
        assert rest == b"", "server sent %r after connection.close" % rest
        return close

    def expect_close_or_drop(self, timeout=None):
        """Either connection.close (returned, after close-ok and EOF) or the socket is dropped
        without one (returns None). Anything else fails."""
        try:
            f = self.read_non_heartbeat(timeout)
        except Closed:
            return None
        assert f.channel == 0 and f.method == CONNECTION_CLOSE, \
            "expected connection.close or a dropped socket, got %r" % f
        close = decode_close(f)
        self.send_tolerant(method_frame(0, CONNECTION_CLOSE_OK))
        rest = self.wait_eof(timeout)
        assert rest == b"", "server sent %r after connection.close" % rest
        return close

    def expect_channel_close(self, channel, timeout=None):
        while True:
            f = self.read_non_heartbeat(timeout)
            if f.method == CONNECTION_CLOSE:
                raise AssertionError("expected channel.close, got %r" % decode_close(f))
            if f.channel == channel and f.method == CHANNEL_CLOSE:
                break
        close = decode_close(f)
        self.send(method_frame(channel, CHANNEL_CLOSE_OK))
        return close


# ---------------------------------------------------------------- test support

def uid(prefix="raw"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def good_client_round_trip(broker):
    """A well-behaved client (pika) still works: declare a queue, publish, get it back, delete."""
    import pika

    p = pika.URLParameters(broker.url())
    p.connection_attempts = 1
    p.socket_timeout = 10
    p.stack_timeout = 15
    p.blocked_connection_timeout = 30
    conn = pika.BlockingConnection(p)
    try:
        ch = conn.channel()
        q = uid("raw-good")
        ch.queue_declare(q, auto_delete=False)
        try:
            body = ("hello " + q).encode()
            ch.basic_publish("", q, body)
            deadline = time.monotonic() + 10
            while True:
                m, _, got = ch.basic_get(q, auto_ack=True)
                if m is not None:
                    break
                assert time.monotonic() < deadline, "published message never arrived"
                conn.process_data_events(time_limit=0.01)
            assert got == body
        finally:
            ch.queue_delete(q)
        ch.close()
    finally:
        if conn.is_open:
            conn.close()
