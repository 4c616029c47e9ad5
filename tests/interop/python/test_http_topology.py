"""Exchanges, queues and bindings through the admin API: declare, inspect, list (with RabbitMQ's
listing parameters), delete; errors with RabbitMQ's codes and texts. The same checks as AMQP
apply, because the API goes through the same VHost methods."""

import pika

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403

NOT_FOUND = {"error": "Object Not Found", "reason": "Not Found"}


def test_queue_declare_get_delete(api, names):
    name = names.queue("hq")
    path = "/api/queues/%2F/" + q(name)
    assert api.put(path, {"durable": True, "arguments": {"x-max-length": 10}})[0] == 201
    assert api.put(path, {"durable": True, "arguments": {"x-max-length": 10}})[0] == 204
    status, body = api.get(path)
    assert status == 200
    for key, value in {"name": name, "vhost": "/", "durable": True, "auto_delete": False,
                       "exclusive": False, "arguments": {"x-max-length": 10}, "messages": 0,
                       "messages_ready": 0, "messages_unacknowledged": 0, "consumers": 0,
                       "state": "running", "type": "classic", "consumer_details": []}.items():
        assert body[key] == value, key
    assert api.delete(path)[0] == 204
    assert api.get(path) == (404, NOT_FOUND)
    assert api.delete(path) == (404, NOT_FOUND)


def test_queue_booleans_as_strings(api, names):
    # rabbitmqadmin sends "true"/"false" strings.
    name = names.queue("hqs")
    assert api.put("/api/queues/%2F/" + q(name), {"durable": "false", "auto_delete": "true"})[0] == 201
    body = api.get("/api/queues/%2F/" + q(name))[1]
    assert (body["durable"], body["auto_delete"]) == (False, True)


def test_queue_errors(api, names):
    name = names.queue("hqe")
    path = "/api/queues/%2F/" + q(name)
    api.put(path, {"durable": True})
    assert api.put(path, {"durable": False}) == (400, {
        "error": "bad_request",
        "reason": "inequivalent arg 'durable' for queue '%s' in vhost '/': received 'false' but "
                  "current is 'true'" % name})
    assert api.put("/api/queues/%2F/" + q(names.queue()), {"durable": "yes"}) == (
        400, {"error": "bad_request", "reason": ["not_boolean", "yes"]})
    status, body = api.put("/api/queues/%2F/" + q(names.queue()),
                           {"arguments": {"x-max-length": "abc"}})
    assert status == 400 and "x-max-length" in body["reason"]


@refused_403
def test_reserved_queue_name_is_403(api):
    # AMQP 403 ACCESS_REFUSED from the declare: 403 (RabbitMQ 3.10: 401), nothing declared.
    assert api.put("/api/queues/%2F/amq.reserved", {}) == (
        403, {"error": "not_authorised", "reason": "Access refused."})
    assert api.get("/api/queues/%2F/amq.reserved") == (404, NOT_FOUND)


def test_queue_delete_if_unused_if_empty(api, ch, names):
    name = names.queue("hqd")
    ch.queue_declare(name)
    ch.basic_publish("", name, b"x")
    path = "/api/queues/%2F/" + q(name)
    status, body = api.delete(path + "?if-empty=true")
    assert (status, body["reason"]) == (400, "queue '%s' in vhost '/' not empty" % name)
    tag = ch.basic_consume(name, lambda *a: None)
    status, body = api.delete(path + "?if-unused=true")
    assert (status, body["reason"]) == (400, "queue '%s' in vhost '/' in use" % name)
    ch.basic_cancel(tag)
    assert api.delete(path)[0] == 204


def test_queue_counts_and_message_stats(api, conn, ch, names):
    name = names.queue("hqc")
    ch.queue_declare(name)
    publish_all(ch, name, [b"a", b"b", b"c"])
    ch.basic_qos(prefetch_count=1)
    col, _ = consume(conn, ch, name, 1)
    body = None

    def settled():
        nonlocal body
        body = api.get("/api/queues/%2F/" + q(name))[1]
        return body["messages_unacknowledged"] == 1
    wait_until(conn, settled)
    assert body["messages"] == 3
    assert body["messages_ready"] == 2
    assert body["consumers"] == 1
    assert len(body["consumer_details"]) == 1
    assert body["consumer_details"][0]["ack_required"] is True
    assert body["message_stats"]["publish"] == 3
    assert body["message_stats"]["deliver"] == 1
    assert "rate" in body["message_stats"]["publish_details"]
    ch.basic_ack(col.tags[0])
    wait_until(conn, lambda: api.get("/api/queues/%2F/" + q(name))[1]["message_stats"]["ack"] >= 1)


def test_exchange_declare_get_delete(api, names):
    name = names.exchange("hx")
    path = "/api/exchanges/%2F/" + q(name)
    assert api.put(path, {"type": "topic", "durable": True,
                          "arguments": {"alternate-exchange": "amq.fanout"}})[0] == 201
    assert api.put(path, {"type": "topic", "durable": True,
                          "arguments": {"alternate-exchange": "amq.fanout"}})[0] == 204
    status, body = api.get(path)
    assert status == 200
    for key, value in {"name": name, "vhost": "/", "type": "topic", "durable": True,
                       "auto_delete": False, "internal": False,
                       "arguments": {"alternate-exchange": "amq.fanout"}}.items():
        assert body[key] == value, key
    assert api.put(path, {"type": "fanout", "durable": True,
                          "arguments": {"alternate-exchange": "amq.fanout"}}) == (400, {
        "error": "bad_request",
        "reason": "inequivalent arg 'type' for exchange '%s' in vhost '/': received 'fanout' "
                  "but current is 'topic'" % name})
    assert api.put("/api/exchanges/%2F/" + q(names.exchange()), {"type": "nosuch"}) == (
        400, {"error": "bad_request", "reason": "unknown exchange type 'nosuch'"})
    assert api.delete(path)[0] == 204
    assert api.get(path) == (404, NOT_FOUND)
    assert api.delete(path) == (404, NOT_FOUND)


def test_default_and_system_exchanges(api):
    assert api.get("/api/exchanges/%2F/amq.default")[1]["name"] == ""
    assert api.get("/api/exchanges/%2F/amq.direct")[0] == 200


@refused_403
def test_deleting_a_system_exchange_is_403(api):
    assert api.delete("/api/exchanges/%2F/amq.direct") == (
        403, {"error": "not_authorised", "reason": "Access refused."})
    assert api.get("/api/exchanges/%2F/amq.direct")[0] == 200


def test_exchange_delete_if_unused(api, names):
    x = names.exchange("hxu")
    api.put("/api/exchanges/%2F/" + q(x), {"type": "direct"})
    api.post("/api/bindings/%%2F/e/%s/e/amq.fanout" % q(x), {"routing_key": "k"})
    status, body = api.delete("/api/exchanges/%%2F/%s?if-unused=true" % q(x))
    assert (status, body["reason"]) == (400, "exchange '%s' in vhost '/' in use" % x)


def test_bindings_queue(api, names):
    x, qn = names.exchange("hbx"), names.queue("hbq")
    api.put("/api/exchanges/%2F/" + q(x), {"type": "direct"})
    api.put("/api/queues/%2F/" + q(qn), {})
    base = "/api/bindings/%%2F/e/%s/q/%s" % (q(x), q(qn))
    status, _ = api.post(base, {"routing_key": "k1", "arguments": {}})
    assert status == 201
    assert api.last_headers["location"] == "%s/k1" % qn
    status, _ = api.post(base, {"routing_key": "k2", "arguments": {"a": 1}})
    assert status == 201
    assert api.last_headers["location"].startswith("%s/k2~" % qn)
    status, listed = api.get(base)
    assert status == 200 and len(listed) == 2
    by_key = {b["routing_key"]: b for b in listed}
    assert by_key["k1"] == {"source": x, "vhost": "/", "destination": qn,
                            "destination_type": "queue", "routing_key": "k1", "arguments": {},
                            "properties_key": "k1"}
    props = by_key["k2"]["properties_key"]
    assert props.startswith("k2~")
    assert api.get(base + "/" + q(props))[1]["arguments"] == {"a": 1}
    assert api.get(base + "/k1")[0] == 200
    assert api.get(base + "/nope")[0] == 404
    # Also visible from both ends, and the default-exchange binding is listed.
    assert len(api.get("/api/exchanges/%%2F/%s/bindings/source" % q(x))[1]) == 2
    qb = api.get("/api/queues/%%2F/%s/bindings" % q(qn))[1]
    assert {(b["source"], b["routing_key"]) for b in qb} == {("", qn), (x, "k1"), (x, "k2")}
    assert api.delete(base + "/" + q(props))[0] == 204
    assert api.delete(base + "/" + q(props))[0] == 404
    assert api.delete(base + "/k1")[0] == 204
    assert api.get(base)[1] == []


def test_properties_key_quotes_the_routing_key(api, names):
    qn = names.queue("hbk")
    api.put("/api/queues/%2F/" + q(qn), {})
    base = "/api/bindings/%%2F/e/amq.direct/q/%s" % q(qn)
    assert api.post(base, {"routing_key": "a/b~c%d"})[0] == 201
    assert api.last_headers["location"] == "%s/a%%252Fb%%257Ec%%2525d" % qn
    assert api.get(base)[1][0]["properties_key"] == "a%2Fb%7Ec%25d"
    assert api.delete(base + "/" + q("a%2Fb%7Ec%25d"))[0] == 204
    assert api.get(base)[1] == []


def test_bindings_routing_through_api_binding(api, ch, names):
    x, qn = names.exchange("hbr"), names.queue("hbr")
    api.put("/api/exchanges/%2F/" + q(x), {"type": "topic"})
    api.put("/api/queues/%2F/" + q(qn), {})
    api.post("/api/bindings/%%2F/e/%s/q/%s" % (q(x), q(qn)), {"routing_key": "a.*"})
    ch.basic_publish(x, "a.b", b"routed")
    assert ch.basic_get(qn, auto_ack=True)[2] == b"routed"


def test_bindings_exchange_to_exchange(api, ch, names):
    src, dst, qn = names.exchange("e2es"), names.exchange("e2ed"), names.queue("e2eq")
    api.put("/api/exchanges/%2F/" + q(src), {"type": "direct"})
    api.put("/api/exchanges/%2F/" + q(dst), {"type": "fanout"})
    api.put("/api/queues/%2F/" + q(qn), {})
    assert api.post("/api/bindings/%%2F/e/%s/e/%s" % (q(src), q(dst)), {"routing_key": "r"})[0] == 201
    assert api.post("/api/bindings/%%2F/e/%s/q/%s" % (q(dst), q(qn)), {})[0] == 201
    listed = api.get("/api/bindings/%%2F/e/%s/e/%s" % (q(src), q(dst)))[1]
    assert [(b["destination_type"], b["routing_key"]) for b in listed] == [("exchange", "r")]
    assert len(api.get("/api/exchanges/%%2F/%s/bindings/destination" % q(dst))[1]) == 1
    ch.basic_publish(src, "r", b"via-e2e")
    assert ch.basic_get(qn, auto_ack=True)[2] == b"via-e2e"
    assert api.delete("/api/bindings/%%2F/e/%s/e/%s/r" % (q(src), q(dst)))[0] == 204


def test_binding_errors(api, names):
    x, qn = names.exchange("hbe"), names.queue("hbe")
    api.put("/api/exchanges/%2F/" + q(x), {"type": "direct"})
    api.put("/api/queues/%2F/" + q(qn), {})
    assert api.post("/api/bindings/%%2F/e/%s/q/nosuch-q" % q(x), {"routing_key": "k"}) == (
        404, {"error": "not_found", "reason": "no queue 'nosuch-q' in vhost '/'"})
    assert api.post("/api/bindings/%%2F/e/nosuch-x/q/%s" % q(qn), {"routing_key": "k"}) == (
        404, {"error": "not_found", "reason": "no exchange 'nosuch-x' in vhost '/'"})
    assert api.get("/api/bindings/%%2F/e/nosuch-x/q/%s" % q(qn)) == (200, [])
    assert api.get("/api/bindings/no-such-vhost")[0] == 404


def test_listing_parameters(api, names):
    prefix = uid("page")
    made = []
    for i in range(5):
        n = "%s-%d" % (prefix, i)
        names.queues.append(n)
        made.append(n)
        api.put("/api/queues/%2F/" + q(n), {"arguments": {"x-max-length": 10 - i}})
    status, page = api.get("/api/queues/%%2F?page=2&page_size=2&name=%s&sort=name" % prefix)
    assert status == 200
    assert page["filtered_count"] == 5 and page["item_count"] == 2
    assert page["page"] == 2 and page["page_count"] == 3 and page["page_size"] == 2
    assert page["total_count"] >= 5
    assert [x["name"] for x in page["items"]] == made[2:4]
    # sort by a dotted path, reversed; columns keep only what is asked.
    status, page = api.get("/api/queues/%%2F?page=1&name=%s&sort=arguments.x-max-length"
                           "&sort_reverse=true&columns=name,arguments.x-max-length" % prefix)
    assert page["items"] == [{"name": n, "arguments": {"x-max-length": 10 - i}}
                     for i, n in enumerate(made)]
    # regex filter
    status, page = api.get("/api/queues?page=1&name=%s-[13]$&use_regex=true" % prefix)
    assert sorted(x["name"] for x in page["items"]) == [made[1], made[3]]
    # errors
    assert api.get("/api/queues?page=0")[1]["error"] == "invalid_pagination_parameters"
    assert api.get("/api/queues?page=1&page_size=501")[0] == 400
    status, body = api.get("/api/queues/%%2F?page=9&page_size=2&name=%s" % prefix)
    assert (status, body["error"]) == (400, "page_out_of_range")


def test_exchange_listing(api):
    status, items = api.get("/api/exchanges/%2F?columns=name,type&sort=name")
    assert status == 200
    names_ = [x["name"] for x in items]
    assert {"", "amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"} <= set(names_)
    assert names_ == sorted(names_)
    assert all(set(x) == {"name", "type"} for x in items)
