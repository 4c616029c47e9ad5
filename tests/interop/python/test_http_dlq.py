"""Warren's own DLQ tooling (docs/API.md): browse without consuming, one message by id, delete,
move, and redrive with progress and cancel. Not in RabbitMQ: skipped against an external broker."""

import os
import time

import pika
import pytest

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403

pytestmark = pytest.mark.skipif(bool(os.environ.get("WARREN_TEST_URL")),
                                reason="Warren's own endpoints")


@pytest.fixture
def dlq(ch, names):
    """work queue -> (reject) -> dlx -> dead queue, with `n` messages dead-lettered."""
    work, dead, dlx = names.queue("work"), names.queue("dead"), names.exchange("dlx")
    ch.exchange_declare(dlx, "fanout")
    ch.queue_declare(dead)
    ch.queue_bind(dead, dlx)
    ch.queue_declare(work, arguments={"x-dead-letter-exchange": dlx})

    def kill(bodies, **props):
        publish_all(ch, work, bodies, **props)
        for _ in bodies:
            method, _, _ = ch.basic_get(work)
            ch.basic_reject(method.delivery_tag, requeue=False)
    return work, dead, kill


def browse(api, queue, **params):
    query = "&".join("%s=%s" % (k, q(str(v))) for k, v in params.items())
    return api.get("/api/queues/%%2F/%s/messages?%s" % (q(queue), query))


def test_browse_changes_nothing(api, ch, dlq):
    work, dead, kill = dlq
    kill([b"m0", b"m1", b"m2"], content_type="text/plain")
    before = api.get("/api/queues/%2F/" + q(dead))[1]
    status, page = browse(api, dead, limit=2)
    assert status == 200
    assert page["messages_ready"] == 3 and page["next_offset"] == 2
    assert [m["payload"] for m in page["items"]] == ["m0", "m1"]
    m = page["items"][0]
    assert m["routing_key"] == work and m["redelivered"] is False
    assert m["x_death"][0]["reason"] == "rejected" and m["x_death"][0]["queue"] == work
    assert m["properties"]["content_type"] == "text/plain"
    status, rest = browse(api, dead, offset=2)
    assert [x["payload"] for x in rest["items"]] == ["m2"] and rest["next_offset"] is None
    # Nothing changed: same counts, order, no redelivered flag, no delivery count.
    after = api.get("/api/queues/%2F/" + q(dead))[1]
    assert after["messages"] == before["messages"] == 3
    assert after["message_stats"]["get"] == before["message_stats"]["get"]
    method, props, body = ch.basic_get(dead, auto_ack=True)
    assert body == b"m0" and not method.redelivered
    assert "x-delivery-count" not in (props.headers or {})


def test_browse_filters(api, ch, dlq):
    work, dead, kill = dlq
    kill([b"alpha", b"needle in here", b"omega"])
    assert [m["payload"] for m in browse(api, dead, contains="needle")[1]["items"]] == [
        "needle in here"]
    assert len(browse(api, dead, reason="rejected")[1]["items"]) == 3
    assert browse(api, dead, reason="expired")[1]["items"] == []
    assert len(browse(api, dead, original_queue=work)[1]["items"]) == 3
    assert browse(api, dead, routing_key="other")[1]["items"] == []
    now = int(time.time())
    assert len(browse(api, dead, since=now - 60, until=now + 60)[1]["items"]) == 3
    assert browse(api, dead, since=now + 3600)[1]["items"] == []
    assert browse(api, dead, offset="x")[0] == 400


def test_one_message_and_json_body(api, ch, dlq):
    work, dead, kill = dlq
    kill([b'{"order": 7}'], content_type="application/json", headers={"k": "v"})
    first = browse(api, dead)[1]["items"][0]
    status, m = api.get("/api/queues/%%2F/%s/messages/%d" % (q(dead), first["id"]))
    assert status == 200
    assert m["payload_json"] == {"order": 7}
    assert m["properties"]["headers"]["k"] == "v"
    assert m["x_death"][0]["count"] == 1
    assert api.get("/api/queues/%%2F/%s/messages/999999" % q(dead))[0] == 404
    assert api.get("/api/queues/%%2F/%s/messages/abc" % q(dead))[0] == 404


def test_delete_selected(api, ch, dlq):
    work, dead, kill = dlq
    kill([b"keep", b"drop1", b"drop2"])
    items = browse(api, dead)[1]["items"]
    ids = [m["id"] for m in items if m["payload"].startswith("drop")]
    assert api.post("/api/queues/%%2F/%s/messages/delete" % q(dead), {"ids": ids}) == (
        200, {"deleted": 2})
    assert [m["payload"] for m in browse(api, dead)[1]["items"]] == ["keep"]
    keep = browse(api, dead)[1]["items"][0]["id"]
    assert api.delete("/api/queues/%%2F/%s/messages/%d" % (q(dead), keep))[0] == 204
    assert api.delete("/api/queues/%%2F/%s/messages/%d" % (q(dead), keep))[0] == 404
    assert api.get("/api/queues/%2F/" + q(dead))[1]["messages"] == 0


def test_move_selected_and_all(api, ch, dlq, names):
    work, dead, kill = dlq
    other = names.queue("other")
    ch.queue_declare(other)
    kill([b"a", b"b", b"c"])
    first = browse(api, dead)[1]["items"][0]["id"]
    assert api.post("/api/queues/%%2F/%s/messages/move" % q(dead),
                    {"ids": [first], "to": other}) == (200, {"moved": 1, "not_moved": 0})
    assert api.post("/api/queues/%%2F/%s/messages/move" % q(dead),
                    {"all": True, "to": other}) == (200, {"moved": 2, "not_moved": 0})
    assert [m["payload"] for m in browse(api, other)[1]["items"]] == ["a", "b", "c"]
    assert api.get("/api/queues/%2F/" + q(dead))[1]["messages"] == 0
    assert api.post("/api/queues/%%2F/%s/messages/move" % q(dead),
                    {"all": True, "to": "no-such-queue"})[0] == 404


def test_redrive_to_origin_with_progress(api, ch, dlq):
    work, dead, kill = dlq
    kill([b"r%d" % i for i in range(30)])
    status, task = api.post("/api/queues/%%2F/%s/redrive" % q(dead), {"rate": 100})
    assert status == 202
    assert task["total"] == 30 and task["state"] in ("running", "finished")
    deadline = time.time() + 20
    while task["state"] == "running" and time.time() < deadline:
        time.sleep(0.1)
        task = api.get("/api/redrives/%d" % task["id"])[1]
    assert task["state"] == "finished"
    assert (task["moved"], task["skipped"], task["remaining"]) == (30, 0, 0)
    assert api.get("/api/queues/%2F/" + q(dead))[1]["messages"] == 0
    method, props, body = ch.basic_get(work, auto_ack=True)
    assert body == b"r0"
    assert props.headers["x-warren-redrive-count"] == 1
    assert any(t["id"] == task["id"] for t in api.get("/api/redrives")[1])


def test_redrive_cancel(api, ch, dlq):
    work, dead, kill = dlq
    kill([b"c%d" % i for i in range(40)])
    status, task = api.post("/api/queues/%%2F/%s/redrive" % q(dead), {"rate": 10})
    assert status == 202
    status, cancelled = api.delete("/api/redrives/%d" % task["id"])
    assert status == 200 and cancelled["state"] == "cancelled"
    moved = cancelled["moved"]
    time.sleep(0.5)
    again = api.get("/api/redrives/%d" % task["id"])[1]
    assert again["moved"] == moved and again["state"] == "cancelled"
    assert api.get("/api/queues/%2F/" + q(dead))[1]["messages"] == 40 - moved
    assert api.get("/api/redrives/424242")[0] == 404
