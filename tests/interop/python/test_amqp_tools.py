"""rabbitmq-c's command-line tools (Debian package amqp-tools 0.11) against the broker:
amqp-declare-queue, amqp-publish, amqp-get, amqp-consume, amqp-delete-queue. pika checks what the
tools did (properties, queue state) and feeds them messages.

Observed on RabbitMQ 3.10 (the reference):
  * amqp-declare-queue prints the queue name (a server-generated "amq.gen-..." for -q "");
  * amqp-publish sets delivery_mode explicitly (1, or 2 with -p); -H "k: v" gives longstr
    headers; -l publishes one message per stdin line, newline included;
  * amqp-get prints the body as is and exits 0; on an empty queue it prints nothing and exits 2;
    on a missing queue it exits 1 with "404 ... NOT_FOUND" on stderr;
  * amqp-consume -c N runs the command once per message with the body on stdin, acks each, and
    exits 0 after N; with -e/-r it declares the queue auto-delete and binds it first;
  * amqp-delete-queue prints the number of messages deleted; --if-empty on a non-empty queue exits
    1 with "406 ... PRECONDITION_FAILED".
"""

import contextlib
import shutil
import subprocess
import time

import pika
import pika.exceptions
import pytest

from rawamqp import uid

TOOL_TIMEOUT = 20
WAIT = 10.0

pytestmark = pytest.mark.skipif(shutil.which("amqp-publish") is None,
                                reason="amqp-tools not installed")


def run(tool, broker, *args, stdin=None, timeout=TOOL_TIMEOUT):
    # --url (not -u: amqp-delete-queue uses -u for --if-unused). broker.url() spells the vhost
    # "/" as %2F, which rabbitmq-c needs (a bare trailing "/" means the vhost "").
    return subprocess.run([tool, "--url=" + broker.url(), *args], input=stdin,
                          capture_output=True, timeout=timeout)


def pika_params(broker):
    p = pika.URLParameters(broker.url())
    p.connection_attempts = 1
    p.socket_timeout = 10
    p.stack_timeout = 15
    return p


@pytest.fixture
def conn(broker):
    c = pika.BlockingConnection(pika_params(broker))
    yield c
    with contextlib.suppress(Exception):
        if c.is_open:
            c.close()


@pytest.fixture
def queues(broker):
    """Names of queues to delete (if still there) after the test."""
    names = []
    yield names
    if not names:
        return
    c = pika.BlockingConnection(pika_params(broker))
    try:
        for q in names:
            with contextlib.suppress(pika.exceptions.ChannelClosedByBroker):
                c.channel().queue_delete(q)
    finally:
        c.close()


def new_queue(conn, queues, **kw):
    q = uid("tools")
    queues.append(q)
    conn.channel().queue_declare(q, **kw)
    return q


def queue_state(conn, q):
    """(message_count, consumer_count), or None if the queue does not exist."""
    ch = conn.channel()
    try:
        ok = ch.queue_declare(q, passive=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        assert e.reply_code == 404, e
        return None
    ch.close()
    return ok.method.message_count, ok.method.consumer_count


def wait_state(conn, q, want):
    deadline = time.monotonic() + WAIT
    while True:
        got = queue_state(conn, q)
        if got == want:
            return
        assert time.monotonic() < deadline, "queue %s: state %r, waited for %r" % (q, got, want)
        conn.process_data_events(time_limit=0.05)


def get(conn, q):
    """basic.get one message (waiting up to WAIT for it: the tool's publish is asynchronous)."""
    ch = conn.channel()
    deadline = time.monotonic() + WAIT
    while True:
        m, props, body = ch.basic_get(q, auto_ack=True)
        if m is not None:
            break
        assert time.monotonic() < deadline, "queue %s stayed empty" % q
        conn.process_data_events(time_limit=0.05)
    ch.close()
    return props, body


def test_declare_queue(broker, conn, queues):
    q = uid("tools")
    queues.append(q)
    r = run("amqp-declare-queue", broker, "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (q + "\n").encode()
    assert queue_state(conn, q) == (0, 0)


def test_declare_durable_queue(broker, conn, queues):
    q = uid("tools")
    queues.append(q)
    r = run("amqp-declare-queue", broker, "-d", "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (q + "\n").encode()
    # It is durable: redeclaring it non-durable is refused.
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        conn.channel().queue_declare(q, durable=False)
    assert ei.value.reply_code == 406
    conn.channel().queue_declare(q, durable=True)


def test_declare_server_named_queue(broker, conn, queues):
    r = run("amqp-declare-queue", broker, "-q", "")
    assert r.returncode == 0, r.stderr
    name = r.stdout.decode().strip()
    queues.append(name)
    assert name.startswith("amq.gen-"), name
    # Not exclusive: it outlives the tool's connection.
    assert queue_state(conn, name) == (0, 0)


def test_publish_with_properties(broker, conn, queues):
    q = new_queue(conn, queues)
    r = run("amqp-publish", broker, "-r", q, "-p", "-C", "application/json", "-E", "utf-8",
            "-t", "reply-here", "-H", "x-str: value", "-H", "x-num: 42", "-b", '{"a": 1}')
    assert r.returncode == 0, r.stderr
    props, body = get(conn, q)
    assert body == b'{"a": 1}'
    assert props.delivery_mode == 2
    assert props.content_type == "application/json"
    assert props.content_encoding == "utf-8"
    assert props.reply_to == "reply-here"
    assert props.headers == {"x-str": "value", "x-num": "42"}


def test_publish_transient_sets_delivery_mode_1(broker, conn, queues):
    q = new_queue(conn, queues)
    r = run("amqp-publish", broker, "-r", q, "-b", "plain")
    assert r.returncode == 0, r.stderr
    props, body = get(conn, q)
    assert body == b"plain"
    assert props.delivery_mode == 1
    assert props.content_type is None and props.headers is None


def test_publish_binary_body_from_stdin(broker, conn, queues):
    q = new_queue(conn, queues)
    data = bytes(range(256)) * 64  # 16 KiB, every byte value, NULs included
    r = run("amqp-publish", broker, "-r", q, stdin=data)
    assert r.returncode == 0, r.stderr
    assert get(conn, q)[1] == data


def test_publish_line_buffered(broker, conn, queues):
    q = new_queue(conn, queues)
    r = run("amqp-publish", broker, "-r", q, "-l", stdin=b"one\ntwo\nthree\n")
    assert r.returncode == 0, r.stderr
    assert [get(conn, q)[1] for _ in range(3)] == [b"one\n", b"two\n", b"three\n"]
    assert queue_state(conn, q) == (0, 0)


def test_publish_to_exchange(broker, conn, queues):
    q = new_queue(conn, queues)
    rk = uid("rk")
    conn.channel().queue_bind(q, "amq.direct", rk)
    r = run("amqp-publish", broker, "-e", "amq.direct", "-r", rk, "-b", "via exchange")
    assert r.returncode == 0, r.stderr
    assert get(conn, q)[1] == b"via exchange"


def test_get(broker, conn, queues):
    q = new_queue(conn, queues)
    ch = conn.channel()
    ch.basic_publish("", q, b"first\x00body")
    ch.basic_publish("", q, b"second")
    wait_state(conn, q, (2, 0))
    r = run("amqp-get", broker, "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"first\x00body"
    r = run("amqp-get", broker, "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"second"
    # Empty queue: nothing printed, exit status 2.
    r = run("amqp-get", broker, "-q", q)
    assert (r.returncode, r.stdout) == (2, b""), r.stderr
    assert queue_state(conn, q) == (0, 0)


def test_get_missing_queue(broker):
    r = run("amqp-get", broker, "-q", uid("tools-missing"))
    assert r.returncode == 1
    assert b"404" in r.stderr and b"NOT_FOUND" in r.stderr, r.stderr


def test_consume_count(broker, conn, queues):
    q = new_queue(conn, queues)
    ch = conn.channel()
    for i in range(5):
        ch.basic_publish("", q, b"msg-%d;" % i)
    r = run("amqp-consume", broker, "-q", q, "-c", "3", "cat")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"msg-0;msg-1;msg-2;"
    # The three were acked; the other two are still there; the consumer is gone.
    wait_state(conn, q, (2, 0))


def test_consume_no_ack_with_prefetch(broker, conn, queues):
    q = new_queue(conn, queues)
    ch = conn.channel()
    for i in range(4):
        ch.basic_publish("", q, b"n%d " % i)
    r = run("amqp-consume", broker, "-q", q, "-A", "-p", "2", "-c", "4", "cat")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"n0 n1 n2 n3 "
    wait_state(conn, q, (0, 0))


def test_consume_binds_to_exchange(broker, conn, queues):
    q = uid("tools")
    queues.append(q)
    rk = uid("rk")
    proc = subprocess.Popen(["amqp-consume", "--url=" + broker.url(), "-q", q, "-e", "amq.direct",
                             "-r", rk, "-c", "2", "cat"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Declared, bound, then consumed: once the consumer is there, the binding is too.
        wait_state(conn, q, (0, 1))
        ch = conn.channel()
        ch.basic_publish("amq.direct", rk, b"hello ")
        ch.basic_publish("amq.direct", rk, b"world")
        out, err = proc.communicate(timeout=TOOL_TIMEOUT)
        assert proc.returncode == 0, err
        assert out == b"hello world"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # amqp-consume declared it auto-delete: gone with its only consumer.
    wait_state(conn, q, None)


def test_delete_queue(broker, conn, queues):
    q = new_queue(conn, queues)
    ch = conn.channel()
    for _ in range(3):
        ch.basic_publish("", q, b"x")
    wait_state(conn, q, (3, 0))
    r = run("amqp-delete-queue", broker, "-q", q)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"3\n"  # messages deleted
    assert queue_state(conn, q) is None


def test_delete_queue_if_empty_refused(broker, conn, queues):
    q = new_queue(conn, queues)
    conn.channel().basic_publish("", q, b"x")
    wait_state(conn, q, (1, 0))
    r = run("amqp-delete-queue", broker, "-q", q, "--if-empty")
    assert r.returncode == 1
    assert b"406" in r.stderr and b"PRECONDITION_FAILED" in r.stderr, r.stderr
    assert queue_state(conn, q) == (1, 0)
    r = run("amqp-delete-queue", broker, "-q", q)
    assert (r.returncode, r.stdout) == (0, b"1\n"), r.stderr


def test_round_trip_between_tools(broker, conn, queues):
    q = uid("tools")
    queues.append(q)
    assert run("amqp-declare-queue", broker, "-q", q).returncode == 0
    assert run("amqp-publish", broker, "-r", q, "-b", "tool to tool").returncode == 0
    wait_state(conn, q, (1, 0))
    r = run("amqp-get", broker, "-q", q)
    assert (r.returncode, r.stdout) == (0, b"tool to tool"), r.stderr
    r = run("amqp-delete-queue", broker, "-q", q)
    assert (r.returncode, r.stdout) == (0, b"0\n"), r.stderr
