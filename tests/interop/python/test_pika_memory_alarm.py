"""The memory alarm: over the high watermark, publishers get connection.blocked and are no longer
read; when memory is released they get connection.unblocked and carry on. Consumers keep working
throughout (as in RabbitMQ)."""

import time

import pika


def wait_until(conn, predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        conn.process_data_events(0.05)
    return predicate()


def test_publisher_is_blocked_and_unblocked(start_broker):
    broker = start_broker(["--memory-high-watermark", "200000"])
    params = pika.URLParameters(broker.url())
    publisher = pika.BlockingConnection(params)
    events = []
    publisher.add_on_connection_blocked_callback(lambda _c, m: events.append("blocked"))
    publisher.add_on_connection_unblocked_callback(lambda _c, m: events.append("unblocked"))
    pch = publisher.channel()
    q = pch.queue_declare("", exclusive=False, auto_delete=False).method.queue
    for _ in range(50):
        pch.basic_publish("", q, b"x" * 10000)
    assert wait_until(publisher, lambda: "blocked" in events), events

    # Another connection that never published is still served and frees the memory.
    other = pika.BlockingConnection(params)
    och = other.channel()
    drained = 0
    while True:
        method, _, _ = och.basic_get(q, auto_ack=True)
        if method is None:
            break
        drained += 1
    assert drained == 50
    assert wait_until(publisher, lambda: "unblocked" in events), events
    assert events == ["blocked", "unblocked"]

    # The publisher works again.
    pch.basic_publish("", q, b"after")
    method, _, body = pch.basic_get(q, auto_ack=True)
    assert body == b"after"
    och.queue_delete(q)
    other.close()
    publisher.close()
