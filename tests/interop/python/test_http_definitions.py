"""Definitions export and import: a file exported from RabbitMQ 3.10 (fixtures/) imports, and
Warren's own export imports back."""

import json
import pathlib

import pika
import pytest

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "rabbitmq-3.10-definitions.json"


def test_import_rabbitmq_export(start_broker):
    b = start_broker()
    api = Api(b.http)
    try:
        defs = json.loads(FIXTURE.read_text())
        assert api.post("/api/definitions", defs)[0] == 204
        vhosts = {v["name"] for v in api.get("/api/vhosts")[1]}
        assert {"/", "shop"} <= vhosts
        users = {u["name"]: u for u in api.get("/api/users")[1]}
        assert users["alice"]["tags"] == ["monitoring"]
        assert users["svc"]["password_hash"] == next(
            u["password_hash"] for u in defs["users"] if u["name"] == "svc")
        # The imported hashes work: alice logs in (password set on RabbitMQ).
        assert Api(b.http, "alice", "alice-secret").get("/api/whoami")[0] == 200
        perm = api.get("/api/permissions/shop/svc")[1]
        assert perm["configure"] == "^orders\\."
        x = api.get("/api/exchanges/shop/orders.direct")[1]
        assert x["type"] == "direct" and x["arguments"] == {"alternate-exchange": "orders.unrouted"}
        qd = api.get("/api/queues/shop/orders.created")[1]
        assert qd["durable"] is True
        assert qd["arguments"] == {"x-dead-letter-exchange": "orders.dlx", "x-message-ttl": 60000,
                                   "x-max-length": 1000}
        bindings = api.get("/api/bindings/shop")[1]
        triples = {(b_["source"], b_["destination"], b_["destination_type"], b_["routing_key"])
                   for b_ in bindings}
        assert ("orders", "orders.created", "queue", "order.*.created") in triples
        assert ("orders", "orders.direct", "exchange", "order.#") in triples
        hb = [b_ for b_ in bindings if b_["source"] == "orders.headers"][0]
        assert hb["arguments"] == {"x-match": "all", "region": "eu"}
        assert api.get("/api/queues/%2F/legacy.jobs")[0] == 200
        # svc can use its vhost over AMQP with the imported password and permissions.
        c = pika.BlockingConnection(params(b, user="svc", password="svc-secret", vhost="shop"))
        ch = c.channel()
        ch.basic_publish("orders", "order.eu.created", b"o1")
        assert ch.basic_get("orders.created", auto_ack=True)[2] == b"o1"
        c.close()
        # Importing the same file again changes nothing and succeeds.
        assert api.post("/api/definitions", defs)[0] == 204
    finally:
        api.close()


def test_export_round_trip(start_broker):
    b1 = start_broker()
    a1 = Api(b1.http)
    a1.put("/api/vhosts/rt", {"description": "round trip"})
    a1.put("/api/users/rt-user", {"password": "pw", "tags": "management"})
    a1.put("/api/permissions/rt/rt-user", {"configure": ".*", "write": ".*", "read": "^r"})
    a1.put("/api/exchanges/rt/rx", {"type": "headers", "durable": True})
    a1.put("/api/queues/rt/rq", {"durable": True, "arguments": {"x-max-priority": 5}})
    a1.post("/api/bindings/rt/e/rx/q/rq", {"routing_key": "", "arguments": {"x-match": "any",
                                                                            "a": "1"}})
    status, exported = a1.get("/api/definitions")
    assert status == 200
    assert exported["rabbit_version"]
    assert {"users", "vhosts", "permissions", "queues", "exchanges", "bindings"} <= set(exported)
    # amq.* and the default exchange, and default-exchange bindings, are not exported.
    assert all(not x["name"].startswith("amq.") and x["name"] for x in exported["exchanges"])
    assert all(bd["source"] for bd in exported["bindings"])
    status, vexport = a1.get("/api/definitions/rt")
    assert status == 200 and [x["name"] for x in vexport["queues"]] == ["rq"]
    assert "vhost" not in vexport["queues"][0]
    a1.close()

    b2 = start_broker()
    a2 = Api(b2.http)
    try:
        assert a2.post("/api/definitions", exported)[0] == 204
        assert a2.get("/api/vhosts/rt")[1]["description"] == "round trip"
        assert a2.get("/api/permissions/rt/rt-user")[1]["read"] == "^r"
        assert a2.get("/api/queues/rt/rq")[1]["arguments"] == {"x-max-priority": 5}
        assert len(a2.get("/api/bindings/rt/e/rx/q/rq")[1]) == 1
        assert Api(b2.http, "rt-user", "pw").get("/api/whoami")[0] == 200
        # Per-vhost import puts everything into the named vhost.
        a2.put("/api/vhosts/copy", {})
        assert a2.post("/api/definitions/copy", vexport)[0] == 204
        assert a2.get("/api/queues/copy/rq")[0] == 200
    finally:
        a2.close()


def test_import_rejects_malformed_files(api):
    assert api.request("POST", "/api/definitions", raw="{bad") == (
        400, {"error": "bad_request", "reason": "failed_to_parse_json"})
    status, _ = api.post("/api/definitions", {"queues": "not-a-list"})
    assert status == 400
    qn = uid("never")
    # A malformed entry anywhere rejects the file before anything is declared.
    status, _ = api.post("/api/definitions", {
        "queues": [{"name": qn, "vhost": "/", "durable": False}],
        "exchanges": [{"name": "x-without-type", "vhost": "/"}]})
    assert status == 400
    assert api.get("/api/queues/%2F/" + q(qn))[0] == 404


@refused_403
def test_definitions_need_administrator(api, api_for):
    user = uid("mgmt")
    api.put("/api/users/" + q(user), {"password": "pw", "tags": "management"})
    refused = (403, {"error": "not_authorised", "reason": "Not administrator user"})
    try:
        assert api_for(user, "pw").get("/api/definitions") == refused
        assert api_for(user, "pw").post("/api/definitions", {}) == refused
    finally:
        api.delete("/api/users/" + q(user))
