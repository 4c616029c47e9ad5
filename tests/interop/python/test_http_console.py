"""What the web console (admin-ui/) needs from the admin API beyond RabbitMQ's: the DLQ mark on
queues, the dead-letter totals in the overview, node memory and storage in /api/nodes, selections
by filter for delete/move/redrive, and the console's files on the HTTP port. Warren's own:
skipped against an external broker."""

import os
import time

import pytest

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403

pytestmark = pytest.mark.skipif(bool(os.environ.get("WARREN_TEST_URL")),
                                reason="Warren's own endpoints")


def dead_letter(ch, queue, bodies, **props):
    publish_all(ch, queue, bodies, **props)
    for _ in bodies:
        method, _, _ = ch.basic_get(queue)
        ch.basic_reject(method.delivery_tag, requeue=False)


def test_dead_letter_targets_are_marked(api, ch, names):
    dlx, direct = names.exchange("dlx"), names.exchange("direct")
    dead, other, work, work2, work3, plain = (names.queue(n) for n in
                                              ("dead", "other", "work", "work2", "work3", "plain"))
    ch.exchange_declare(dlx, "fanout")
    ch.exchange_declare(direct, "direct")
    for qn in (dead, other, plain):
        ch.queue_declare(qn)
    ch.queue_bind(dead, dlx)
    ch.queue_bind(other, direct, routing_key="k-other")
    ch.queue_bind(plain, direct, routing_key="k-plain")
    ch.queue_declare(work, arguments={"x-dead-letter-exchange": dlx})
    # A direct DLX with a routing key: only the queue bound with that key.
    ch.queue_declare(work2, arguments={"x-dead-letter-exchange": direct,
                                       "x-dead-letter-routing-key": "k-other"})
    # The default exchange with a routing key: the queue of that name.
    ch.queue_declare(work3, arguments={"x-dead-letter-exchange": "",
                                       "x-dead-letter-routing-key": dead})
    status, one = api.get("/api/queues/%2F/" + q(dead))
    assert status == 200
    assert one["dead_letter_target"] is True
    assert one["dead_letter_sources"] == sorted([work, work3])
    assert api.get("/api/queues/%2F/" + q(other))[1]["dead_letter_sources"] == [work2]
    status, w = api.get("/api/queues/%2F/" + q(work))
    assert w["dead_letter_target"] is False and w["dead_letter_sources"] == []
    status, page = api.get("/api/queues/%2F?page=1&page_size=500&columns=name,dead_letter_target")
    marks = {x["name"]: x["dead_letter_target"] for x in page["items"]}
    assert marks[dead] is True and marks[other] is True
    assert marks[plain] is False and marks[work] is False and marks[work2] is False
    status, listing = api.get("/api/queues")
    assert {x["name"]: x["dead_letter_target"] for x in listing}[dead] is True


def test_overview_counts_dead_letter_queues(api, ch, names):
    dlx, dead, work = names.exchange("dlx"), names.queue("dead"), names.queue("work")
    ch.exchange_declare(dlx, "fanout")
    ch.queue_declare(dead)
    ch.queue_bind(dead, dlx)
    ch.queue_declare(work, arguments={"x-dead-letter-exchange": dlx})
    before = api.get("/api/overview")[1]["dead_letter_queues"]
    dead_letter(ch, work, [b"a", b"b", b"c"])
    after = api.get("/api/overview")[1]["dead_letter_queues"]
    assert after["queues"] == before["queues"]
    assert after["messages"] == before["messages"] + 3
    assert after["received"] == before["received"] + 3


def test_nodes_report_memory_and_storage(api):
    status, nodes = api.get("/api/nodes")
    assert status == 200
    n = nodes[0]
    assert n["mem_used"] > 1_000_000  # the broker's resident memory
    assert n["mem_limit"] > 0 and n["mem_alarm"] is False
    assert isinstance(n["message_bytes"], int)
    assert n["disk_free"] > 0 and n["disk_free_limit"] == 50_000_000
    assert n["disk_free_alarm"] is False


def test_delete_and_move_by_filter(api, ch, names):
    dlx, dead, target = names.exchange("dlx"), names.queue("dead"), names.queue("target")
    w1, w2 = names.queue("w1"), names.queue("w2")
    ch.exchange_declare(dlx, "fanout")
    for qn in (dead, target):
        ch.queue_declare(qn)
    ch.queue_bind(dead, dlx)
    for qn in (w1, w2):
        ch.queue_declare(qn, arguments={"x-dead-letter-exchange": dlx})
    dead_letter(ch, w1, [b"one-a", b"one-b", b"one-c"])
    dead_letter(ch, w2, [b"two-a", b"two-b"])
    base = "/api/queues/%2F/" + q(dead)
    status, body = api.post(base + "/messages/move",
                            {"all": True, "filter": {"original_queue": w2}, "to": target})
    assert status == 200 and body == {"moved": 2, "not_moved": 0}
    status, body = api.post(base + "/messages/delete", {"all": True, "filter": {"contains": "-b"}})
    assert status == 200 and body == {"deleted": 1}
    status, page = api.get(base + "/messages")
    assert [m["payload"] for m in page["items"]] == ["one-a", "one-c"]
    # A filter nobody matches selects nothing; a bad filter is a 400 and changes nothing.
    status, body = api.post(base + "/messages/delete", {"all": True, "filter": {"reason": "expired"}})
    assert body == {"deleted": 0}
    status, body = api.post(base + "/messages/delete", {"all": True, "filter": "nope"})
    assert status == 400 and body["reason"] == "filter must be an object"
    status, body = api.post(base + "/messages/delete", {"all": True, "filter": {"since": "x"}})
    assert status == 400
    assert api.get("/api/queues/%2F/" + q(dead))[1]["messages"] == 2
    assert api.get("/api/queues/%2F/" + q(target))[1]["messages"] == 2


def test_redrive_by_filter(api, ch, names):
    dlx, dead = names.exchange("dlx"), names.queue("dead")
    w1, w2 = names.queue("w1"), names.queue("w2")
    ch.exchange_declare(dlx, "fanout")
    ch.queue_declare(dead)
    ch.queue_bind(dead, dlx)
    for qn in (w1, w2):
        ch.queue_declare(qn, arguments={"x-dead-letter-exchange": dlx})
    dead_letter(ch, w1, [b"a1", b"a2"])
    dead_letter(ch, w2, [b"b1"])
    status, task = api.post("/api/queues/%2F/" + q(dead) + "/redrive",
                            {"filter": {"original_queue": w1}, "rate": 1000})
    assert status == 202 and task["total"] == 2
    deadline = time.time() + 10
    while task["state"] == "running" and time.time() < deadline:
        time.sleep(0.05)
        task = api.get("/api/redrives/%d" % task["id"])[1]
    assert task["state"] == "finished" and task["moved"] == 2
    assert api.get("/api/queues/%2F/" + q(w1))[1]["messages"] == 2
    assert api.get("/api/queues/%2F/" + q(w2))[1]["messages"] == 0
    assert api.get("/api/queues/%2F/" + q(dead))[1]["messages"] == 1


def test_console_files_or_a_clear_page(api):
    """GET / serves the console when admin-ui/dist is built, else a 404 page saying how to build
    it; the API is unaffected either way and nothing outside the directory is served."""
    status, body = api.request("GET", "/")
    ctype = api.last_headers.get("content-type", "")
    assert ctype.startswith("text/html")
    if status == 404:
        assert "The web console is not built" in body
    else:
        assert status == 200 and '<div id="app">' in body
    status, body = api.request("GET", "/assets/..%2F..%2FCMakeLists.txt")
    assert status == 404 and body == {"error": "Object Not Found", "reason": "Not Found"}
    status, body = api.request("GET", "/api/nope")
    assert status == 404 and body == {"error": "Object Not Found", "reason": "Not Found"}
