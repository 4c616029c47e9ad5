"""Direct reply-to (amq.rabbitmq.reply-to): RPC replies without a reply queue."""

import pika

from helpers_pika import *  # noqa: F401,F403


def wait_for(conn, predicate, seconds=5.0):
    import time
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        conn.process_data_events(0.05)
    return predicate()


def test_request_reply_round_trip(connect):
    client = connect()
    server = connect()
    cch, sch = client.channel(), server.channel()
    request_queue = sch.queue_declare("", exclusive=True).method.queue
    replies = []
    cch.basic_consume("amq.rabbitmq.reply-to",
                      lambda _c, method, props, body: replies.append((method, body)),
                      auto_ack=True)
    cch.basic_publish("", request_queue, b"ping",
                      pika.BasicProperties(reply_to="amq.rabbitmq.reply-to", correlation_id="1"))
    got = []

    def request_arrived():
        if not got:
            method, props, body = sch.basic_get(request_queue, auto_ack=True)
            if method is not None:
                got.append((props, body))
        return bool(got)

    assert wait_for(server, request_arrived)
    props, body = got[0]
    assert body == b"ping"
    # The broker rewrote reply_to to a name that identifies the client's channel.
    assert props.reply_to.startswith("amq.rabbitmq.reply-to.")
    assert props.correlation_id == "1"
    sch.basic_publish("", props.reply_to, b"pong")
    assert wait_for(client, lambda: replies)
    method, body = replies[0]
    assert body == b"pong"
    assert method.routing_key == props.reply_to


def test_reply_consumer_must_be_no_ack(ch):
    with channel_closed(406, "PRECONDITION_FAILED - reply consumer cannot acknowledge"):
        ch.basic_consume("amq.rabbitmq.reply-to", lambda *a: None, auto_ack=False)


def test_publishing_with_reply_to_needs_the_reply_consumer(ch):
    with channel_closed(406, "PRECONDITION_FAILED - fast reply consumer does not exist"):
        ch.basic_publish("", "anything", b"x",
                         pika.BasicProperties(reply_to="amq.rabbitmq.reply-to"))
        ch.basic_get("amq.rabbitmq.reply-to-never")  # a round trip to see the close
