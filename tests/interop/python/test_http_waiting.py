"""Warren's endpoints for messages that wait (docs/API.md, issue #5): a queue's messages waiting to
be retried (x-delayed-retry-*), and the messages of x-delayed-message exchanges waiting to be
routed. List, count, cancel, 404s, auth. Not in RabbitMQ: skipped against an external broker."""

import os
import time

import pika
import pytest

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403

pytestmark = pytest.mark.skipif(bool(os.environ.get("WARREN_TEST_URL")),
                                reason="Warren's own endpoints")

LONG = 600_000  # ms: nothing in these tests comes due by itself


@pytest.fixture
def vhost(api, broker):
    """A vhost of the test's own (so delayed listings hold only its messages), and a pika
    channel in it."""
    name = uid("wvh")
    assert api.put("/api/vhosts/" + q(name), {})[0] == 201
    conn = pika.BlockingConnection(pika.URLParameters(broker.url(vhost=name)))
    yield name, conn.channel()
    if conn.is_open:
        conn.close()
    api.delete("/api/vhosts/" + q(name))


def retrying(ch, name, bodies, delay=LONG):
    """A queue whose rejected messages wait `delay` ms; each body is published, got and rejected
    once, so it waits with delivery count 1."""
    ch.queue_declare(name, arguments={"x-delayed-retry-type": "failed",
                                      "x-delayed-retry-min": delay})
    for b in bodies:
        ch.basic_publish("", name, b, pika.BasicProperties(content_type="application/json",
                                                           headers={"n": b.decode()}))
    for _ in bodies:
        m, _, _ = ch.basic_get(name)
        ch.basic_reject(m.delivery_tag, requeue=True)
    sync(ch)


def sync(ch):
    """A round trip: the broker has handled everything sent before on this channel (rejects and
    publishes have no reply)."""
    ch.exchange_declare("amq.direct", passive=True)


def delayed_exchange(ch, name="dx"):
    ch.exchange_declare(name, "x-delayed-message", arguments={"x-delayed-type": "direct"})
    ch.queue_declare(name + ".q")
    ch.queue_bind(name + ".q", name, "k")
    return name


def publish_delayed(ch, x, body, ms):
    ch.basic_publish(x, "k", body, pika.BasicProperties(headers={"x-delay": ms}))
    sync(ch)


def test_list_and_count_retrying_messages(api, vhost):
    vh, ch = vhost
    t0 = int(time.time() * 1000)
    retrying(ch, "rq", [b'"a"', b'"b"', b'"c"'])
    status, body = api.get("/api/queues/%s/rq/waiting" % q(vh))
    assert status == 200, body
    assert body["queue"] == "rq" and body["vhost"] == vh
    assert body["messages_waiting"] == 3 and body["next_offset"] is None
    items = body["items"]
    assert [i["payload"] for i in items] == ['"a"', '"b"', '"c"']
    assert [i["position"] for i in items] == [0, 1, 2]
    first = items[0]
    assert first["delivery_count"] == 1 and first["payload_json"] == "a"
    assert first["properties"]["headers"]["n"] == '"a"'
    assert first["routing_key"] == "rq" and first["exchange"] == ""
    # Due times are rounded up to the next millisecond (never early): + 1.
    assert t0 + LONG <= first["due_unix_ms"] <= int(time.time() * 1000) + LONG + 1
    assert 0 < first["due_in_ms"] <= LONG + 1
    assert first["due"].endswith("Z") and first["due"].startswith(time.strftime("%Y-", time.gmtime()))
    # The queue's own counts agree.
    qbody = api.get("/api/queues/%s/rq" % q(vh))[1]
    assert qbody["messages_waiting"] == 3 and qbody["messages_ready"] == 0
    # Paging.
    body = api.get("/api/queues/%s/rq/waiting?offset=1&limit=1" % q(vh))[1]
    assert [i["payload"] for i in body["items"]] == ['"b"']
    assert body["next_offset"] == 2 and body["limit"] == 1
    assert api.get("/api/queues/%s/rq/waiting?offset=3" % q(vh))[1]["items"] == []
    assert api.get("/api/queues/%s/rq/waiting?limit=x" % q(vh))[0] == 400


def test_cancel_a_wait_makes_the_message_ready_now(api, vhost):
    vh, ch = vhost
    retrying(ch, "rq", [b"one", b"two"])
    items = api.get("/api/queues/%s/rq/waiting" % q(vh))[1]["items"]
    seq = items[1]["id"]
    status, body = api.delete("/api/queues/%s/rq/waiting/%d" % (q(vh), seq))
    assert status == 204, body
    # Ready at once, its delivery count kept; the other one still waits.
    m, props, got = ch.basic_get("rq")
    assert got == b"two" and props.headers["x-delivery-count"] == 1 and m.redelivered
    assert ch.basic_get("rq")[0] is None
    body = api.get("/api/queues/%s/rq/waiting" % q(vh))[1]
    assert body["messages_waiting"] == 1 and [i["payload"] for i in body["items"]] == ["one"]
    # Twice: not waiting any more.
    status, body = api.delete("/api/queues/%s/rq/waiting/%d" % (q(vh), seq))
    assert status == 404
    assert body["error"] == "not_found" and "waiting" in body["reason"]


def test_waiting_404s(api, vhost):
    vh, ch = vhost
    retrying(ch, "rq", [b"x"])
    for path in ("/api/queues/%s/nope/waiting" % q(vh),
                 "/api/queues/no-such-vhost/rq/waiting"):
        status, body = api.get(path)
        assert status == 404 and body == {"error": "Object Not Found", "reason": "Not Found"}, path
    for seq in ("999999", "abc", "-1"):
        status, body = api.delete("/api/queues/%s/rq/waiting/%s" % (q(vh), seq))
        assert status == 404 and "error" in body, seq
    assert api.get("/api/queues/%s/rq" % q(vh))[1]["messages_waiting"] == 1


def test_list_and_count_delayed_messages(api, vhost):
    vh, ch = vhost
    x = delayed_exchange(ch)
    t0 = int(time.time() * 1000)
    publish_delayed(ch, x, b"later", LONG + 60_000)
    publish_delayed(ch, x, b"sooner", LONG)
    status, body = api.get("/api/delayed/" + q(vh))
    assert status == 200, body
    assert body["vhost"] == vh and body["next_offset"] is None and body["not_shown"] == 0
    assert body["delayed_messages"] == 2  # this vhost's
    items = body["items"]
    assert [i["payload"] for i in items] == ["sooner", "later"]  # due-time order
    s = items[0]
    assert s["exchange"] == x and s["routing_key"] == "k"
    # The header as it will be delivered: negated, as the plugin does.
    assert s["properties"]["headers"]["x-delay"] == -LONG
    assert t0 + LONG <= s["due_unix_ms"] <= int(time.time() * 1000) + LONG + 1  # rounded up
    assert s["id"] == "%d-%s" % (s["due_unix_ms"], s["id"].split("-")[1])
    assert s["due"].endswith("Z")
    # Paging.
    body = api.get("/api/delayed/%s?offset=0&limit=1" % q(vh))[1]
    assert [i["payload"] for i in body["items"]] == ["sooner"] and body["next_offset"] == 1
    body = api.get("/api/delayed/%s?offset=1&limit=1" % q(vh))[1]
    assert [i["payload"] for i in body["items"]] == ["later"] and body["next_offset"] is None
    # Totals across vhosts: /api/delayed and the overview.
    totals = api.get("/api/delayed")[1]
    assert totals["vhosts"][vh] == 2
    assert totals["delayed_messages"] == sum(totals["vhosts"].values()) >= 2
    overview = api.get("/api/overview")[1]
    assert overview["delayed_messages"] >= 2 and "messages_waiting" in overview["queue_totals"]
    # Nothing is in the queue yet.
    assert ch.queue_declare(x + ".q", passive=True).method.message_count == 0


def test_cancel_a_delayed_message_drops_it(api, vhost):
    vh, ch = vhost
    x = delayed_exchange(ch)
    publish_delayed(ch, x, b"keep", 1500)
    publish_delayed(ch, x, b"drop", 1000)
    before = api.get("/api/delayed")[1]["delayed_messages"]
    items = api.get("/api/delayed/" + q(vh))[1]["items"]
    drop = next(i for i in items if i["payload"] == "drop")
    status, body = api.delete("/api/delayed/%s/%s" % (q(vh), drop["id"]))
    assert status == 204, body
    assert api.get("/api/delayed")[1]["delayed_messages"] == before - 1
    assert api.get("/api/delayed")[1]["vhosts"][vh] == 1
    assert api.get("/api/delayed/" + q(vh))[1]["delayed_messages"] == 1
    assert [i["payload"] for i in api.get("/api/delayed/" + q(vh))[1]["items"]] == ["keep"]
    # Twice, or an id that never was: 404 JSON.
    for bad in (drop["id"], "1-1", "nonsense", "12-", "-3"):
        status, body = api.delete("/api/delayed/%s/%s" % (q(vh), bad))
        assert status == 404 and "error" in body and "reason" in body, bad
    # The one left is routed when due; the cancelled one never arrives.
    deadline = time.monotonic() + 15
    got = []
    while time.monotonic() < deadline and len(got) < 1:
        m, _, b = ch.basic_get(x + ".q", auto_ack=True)
        if m:
            got.append(b)
        else:
            time.sleep(0.1)
    time.sleep(0.5)
    while True:
        m, _, b = ch.basic_get(x + ".q", auto_ack=True)
        if not m:
            break
        got.append(b)
    assert got == [b"keep"]


def test_delayed_404s(api, vhost):
    vh, _ = vhost
    status, body = api.get("/api/delayed/no-such-vhost")
    assert status == 404 and body == {"error": "Object Not Found", "reason": "Not Found"}
    assert api.delete("/api/delayed/no-such-vhost/1-1")[0] == 404
    body = api.get("/api/delayed/" + q(vh))[1]
    assert body["items"] == [] and body["next_offset"] is None


def test_without_credentials_401(api_for, vhost):
    vh, ch = vhost
    retrying(ch, "rq", [b"x"])
    anon = api_for(None)
    for method, path in (("GET", "/api/queues/%s/rq/waiting" % q(vh)),
                         ("DELETE", "/api/queues/%s/rq/waiting/1" % q(vh)),
                         ("GET", "/api/delayed"),
                         ("GET", "/api/delayed/" + q(vh)),
                         ("DELETE", "/api/delayed/%s/1-1" % q(vh))):
        status, body = anon.request(method, path)
        assert status == 401 and body is None, (method, path)
    bad = api_for("guest", "wrong")
    status, body = bad.get("/api/delayed/" + q(vh))
    assert status == 401 and body == {"error": "not_authorized", "reason": "Login failed"}


def test_permissions(api, api_for, vhost):
    vh, ch = vhost
    retrying(ch, "rq", [b"x"])
    x = delayed_exchange(ch)
    publish_delayed(ch, x, b"d", LONG)
    user = uid("wuser")
    assert api.put("/api/users/" + q(user), {"password": "pw", "tags": "management"})[0] == 201
    try:
        a = api_for(user, "pw")
        # No permissions in the vhost.
        no_vhost = (403, {"error": "not_authorised",
                          "reason": "User not authorised to access virtual host"})
        assert a.get("/api/queues/%s/rq/waiting" % q(vh)) == no_vhost
        assert a.get("/api/delayed/" + q(vh)) == no_vhost
        # Permissions, but read matches neither the queue nor the exchange.
        assert api.put("/api/permissions/%s/%s" % (q(vh), q(user)),
                       {"configure": ".*", "write": ".*", "read": "^other$"})[0] == 201
        refused = (403, {"error": "not_authorised", "reason": "Access refused."})
        assert a.get("/api/queues/%s/rq/waiting" % q(vh)) == refused
        assert a.delete("/api/queues/%s/rq/waiting/1" % q(vh)) == refused
        body = a.get("/api/delayed/" + q(vh))[1]
        assert body["items"] == [] and body["not_shown"] == 1
        did = api.get("/api/delayed/" + q(vh))[1]["items"][0]["id"]
        assert a.delete("/api/delayed/%s/%s" % (q(vh), did)) == refused
        assert len(api.get("/api/delayed/" + q(vh))[1]["items"]) == 1
        # Read on both: allowed.
        assert api.put("/api/permissions/%s/%s" % (q(vh), q(user)),
                       {"configure": "", "write": "", "read": ".*"})[0] == 204
        assert a.get("/api/queues/%s/rq/waiting" % q(vh))[1]["messages_waiting"] == 1
        assert [i["payload"] for i in a.get("/api/delayed/" + q(vh))[1]["items"]] == ["d"]
        assert a.delete("/api/delayed/%s/%s" % (q(vh), did))[0] == 204
    finally:
        api.delete("/api/users/" + q(user))
