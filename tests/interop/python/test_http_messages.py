"""Publishing, getting and purging messages through the admin API (RabbitMQ's publish, get with
its four ackmodes, and DELETE .../contents)."""

import base64

import pika

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403


def publish(api, exchange, key, payload, encoding="string", properties=None, vhost="/"):
    return api.post("/api/exchanges/%s/%s/publish" % (q(vhost), q(exchange)),
                    {"properties": properties or {}, "routing_key": key, "payload": payload,
                     "payload_encoding": encoding})


def get(api, queue, count=1, ackmode="ack_requeue_false", encoding="auto", **extra):
    body = {"count": count, "ackmode": ackmode, "encoding": encoding}
    body.update(extra)
    return api.post("/api/queues/%%2F/%s/get" % q(queue), body)


def test_publish_routed_and_unrouted(api, ch, names):
    qn = names.queue("pub")
    ch.queue_declare(qn)
    assert publish(api, "amq.default", qn, "hello",
                   properties={"delivery_mode": 2, "headers": {"h": 1}, "content_type": "text/x",
                               "message_id": "m1", "priority": 3}) == (200, {"routed": True})
    assert publish(api, "amq.default", "no-queue-" + qn, "x") == (200, {"routed": False})
    method, props, body = ch.basic_get(qn, auto_ack=True)
    assert body == b"hello"
    assert props.delivery_mode == 2 and props.headers == {"h": 1}
    assert props.content_type == "text/x" and props.message_id == "m1" and props.priority == 3
    assert method.routing_key == qn and method.exchange == ""


def test_publish_base64_and_errors(api, ch, names):
    qn = names.queue("pub64")
    ch.queue_declare(qn)
    assert publish(api, "amq.default", qn, base64.b64encode(b"\x00\x01bin").decode(),
                   encoding="base64") == (200, {"routed": True})
    assert ch.basic_get(qn, auto_ack=True)[2] == b"\x00\x01bin"
    status, body = api.post("/api/exchanges/%2F/amq.default/publish", {"routing_key": qn})
    assert status == 400
    assert body["reason"] == ("[{key_missing,properties},\n {key_missing,payload},\n"
                              " {key_missing,payload_encoding}]")
    assert publish(api, "no-such-exchange", "k", "x") == (400, {
        "error": "bad_request",
        "reason": "404 NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'"})


def test_publish_through_exchange_and_expiration(api, ch, names):
    x, qn = names.exchange("pubx"), names.queue("pubx")
    ch.exchange_declare(x, "topic")
    ch.queue_declare(qn)
    ch.queue_bind(qn, x, "a.#")
    assert publish(api, x, "a.b.c", "one", properties={"expiration": "60000"})[1] == {"routed": True}
    assert publish(api, x, "b", "two")[1] == {"routed": False}
    method, props, body = ch.basic_get(qn, auto_ack=True)
    assert (body, props.expiration, method.exchange) == (b"one", "60000", x)


def test_get_ack_requeue_true_keeps_messages(api, ch, names):
    qn = names.queue("get")
    ch.queue_declare(qn)
    publish_all(ch, qn, [b"m1", b"m2", b"m3"], headers={"k": "v"})
    status, got = get(api, qn, count=2, ackmode="ack_requeue_true")
    assert status == 200
    assert [m["payload"] for m in got] == ["m1", "m2"]
    first = got[0]
    assert first["payload_bytes"] == 2 and first["redelivered"] is False
    assert first["exchange"] == "" and first["routing_key"] == qn
    assert first["payload_encoding"] == "string"
    assert first["properties"]["headers"]["k"] == "v"
    assert [m["message_count"] for m in got] == [2, 1]
    # Requeued in place, marked redelivered.
    status, again = get(api, qn, count=5, ackmode="ack_requeue_true")
    assert [m["payload"] for m in again] == ["m1", "m2", "m3"]
    assert [m["redelivered"] for m in again] == [True, True, False]
    assert api.get("/api/queues/%2F/" + q(qn))[1]["messages"] == 3


def test_get_ack_requeue_false_removes(api, ch, names):
    qn = names.queue("getrm")
    ch.queue_declare(qn)
    publish_all(ch, qn, [b"a", b"b"])
    assert [m["payload"] for m in get(api, qn, count=1)[1]] == ["a"]
    assert [m["payload"] for m in get(api, qn, count=5)[1]] == ["b"]
    assert get(api, qn, count=5) == (200, [])
    stats = api.get("/api/queues/%2F/" + q(qn))[1]["message_stats"]
    assert stats["get"] == 2 and stats["ack"] == 2 and stats["get_empty"] == 1


def test_get_reject_requeue_false_dead_letters(api, ch, names):
    dlx, qn, dead = names.exchange("dlx"), names.queue("rej"), names.queue("dead")
    ch.exchange_declare(dlx, "fanout")
    ch.queue_declare(dead)
    ch.queue_bind(dead, dlx)
    ch.queue_declare(qn, arguments={"x-dead-letter-exchange": dlx})
    publish_all(ch, qn, [b"bad"])
    assert [m["payload"] for m in get(api, qn, ackmode="reject_requeue_false")[1]] == ["bad"]
    method, props, body = ch.basic_get(dead, auto_ack=True)
    assert body == b"bad"
    assert props.headers["x-death"][0]["reason"] == "rejected"


def test_get_reject_requeue_true(api, ch, names):
    qn = names.queue("rejq")
    ch.queue_declare(qn)
    publish_all(ch, qn, [b"again"])
    get(api, qn, ackmode="reject_requeue_true")
    method, props, body = ch.basic_get(qn, auto_ack=True)
    assert body == b"again" and method.redelivered


def test_get_encoding_and_truncate(api, ch, names):
    qn = names.queue("enc")
    ch.queue_declare(qn)
    publish_all(ch, qn, [b"\xff\xfe binary", b"plain text"])
    got = get(api, qn, count=2, ackmode="ack_requeue_true")[1]
    assert got[0]["payload_encoding"] == "base64"
    assert base64.b64decode(got[0]["payload"]) == b"\xff\xfe binary"
    assert got[1] == {**got[1], "payload": "plain text", "payload_encoding": "string"}
    got = get(api, qn, count=2, ackmode="ack_requeue_true", encoding="base64", truncate=3)[1]
    assert [base64.b64decode(m["payload"]) for m in got] == [b"\xff\xfe ", b"pla"]
    assert [m["payload_bytes"] for m in got] == [9, 10]


def test_get_errors(api, ch, names):
    qn = names.queue("geterr")
    ch.queue_declare(qn)
    status, body = api.post("/api/queues/%%2F/%s/get" % q(qn), {"count": 1, "ackmode": "ack_requeue_true"})
    assert (status, body["reason"]) == (400, "[{key_missing,encoding}]")
    status, body = get(api, "no-such-queue-" + qn)
    assert (status, body) == (404, {"error": "not_found",
                                    "reason": "NOT_FOUND - no queue 'no-such-queue-%s' in vhost '/'"
                                              % qn})
    assert get(api, qn, ackmode="bogus")[0] in (400, 500)  # RabbitMQ 3.10 answers 500


def test_purge(api, ch, names):
    qn = names.queue("purge")
    ch.queue_declare(qn)
    publish_all(ch, qn, [b"1", b"2", b"3"])
    assert api.delete("/api/queues/%%2F/%s/contents" % q(qn))[0] == 204
    assert api.get("/api/queues/%2F/" + q(qn))[1]["messages"] == 0
    assert ch.basic_get(qn)[0] is None
    assert api.delete("/api/queues/%2F/no-such-queue/contents")[0] == 404
