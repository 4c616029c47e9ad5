"""Debian's rabbitmqadmin (from the rabbitmq-server package) against the admin API: declare, list,
publish, get, purge, delete, close, and definitions export/import."""

import json
import os
import shutil
import subprocess

import pytest

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403

# Installed, or taken out of Debian's rabbitmq-server package by scripts/setup.sh.
RABBITMQADMIN = shutil.which("rabbitmqadmin") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "build", "tools", "rabbitmqadmin")

pytestmark = pytest.mark.skipif(not os.path.exists(RABBITMQADMIN),
                                reason="rabbitmqadmin not installed (Debian rabbitmq-server)")


@pytest.fixture
def admin(broker):
    host, port = http_address(broker).rsplit(":", 1)

    def run(*args, check=True, stdin=None):
        cmd = ["/usr/bin/python3", RABBITMQADMIN, "-H", host, "-P", port, "-u", "guest",
               "-p", "guest", *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30, input=stdin)
        if check:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p

    return run


def listed(admin, kind, *columns, vhost=None):
    args = ["-f", "raw_json"]
    if vhost:
        args += ["-V", vhost]
    return json.loads(admin(*args, "list", kind, *columns).stdout)


def test_declare_list_publish_get_delete(admin, names):
    x, qn = names.exchange("ra-x"), names.queue("ra-q")
    admin("declare", "exchange", "name=" + x, "type=topic")
    admin("declare", "queue", "name=" + qn, "durable=false",
          'arguments={"x-max-length": 100}')
    admin("declare", "binding", "source=" + x, "destination=" + qn, "routing_key=ra.#")
    queues = {q_["name"]: q_ for q_ in listed(admin, "queues", "name", "durable", "arguments")}
    assert queues[qn] == {"name": qn, "durable": False, "arguments": {"x-max-length": 100}}
    assert any(e["name"] == x and e["type"] == "topic"
               for e in listed(admin, "exchanges", "name", "type"))
    bindings = listed(admin, "bindings", "source", "destination", "routing_key")
    assert {"source": x, "destination": qn, "routing_key": "ra.#"} in bindings
    out = admin("publish", "exchange=" + x, "routing_key=ra.one", "payload=hello").stdout
    assert "Message published" in out and "NOT routed" not in out
    out = admin("publish", "exchange=" + x, "routing_key=zz", "payload=lost").stdout
    assert "NOT routed" in out
    got = json.loads(admin("-f", "raw_json", "get", "queue=" + qn, "ackmode=ack_requeue_false").stdout)
    assert [m["payload"] for m in got] == ["hello"]
    admin("publish", "routing_key=" + qn, "payload=again")  # amq.default
    admin("purge", "queue", "name=" + qn)
    got = json.loads(admin("-f", "raw_json", "get", "queue=" + qn).stdout)
    assert got == []
    admin("delete", "binding", "source=" + x, "destination_type=queue", "destination=" + qn,
          "properties_key=ra.#")
    assert {"source": x, "destination": qn, "routing_key": "ra.#"} not in listed(
        admin, "bindings", "source", "destination", "routing_key")
    admin("delete", "queue", "name=" + qn)
    admin("delete", "exchange", "name=" + x)
    assert qn not in {q_["name"] for q_ in listed(admin, "queues", "name")}


def test_publish_from_stdin_is_base64(admin, ch, names):
    qn = names.queue("ra-stdin")
    ch.queue_declare(qn)
    admin("publish", "routing_key=" + qn, stdin="from stdin")
    assert ch.basic_get(qn, auto_ack=True)[2] == b"from stdin"


def test_errors_are_reported(admin):
    # A refusal: 403 from Warren (rabbitmqadmin raises, printing the body with "Access refused."),
    # 401 from RabbitMQ 3.10 ("Access refused: <path>"). An error either way.
    p = admin("declare", "queue", "name=amq.nope", check=False)
    assert p.returncode != 0 and "Access refused" in p.stdout + p.stderr
    p = admin("-V", "no-such-vhost", "declare", "queue", "name=x", check=False)
    assert p.returncode != 0 and "Not found" in p.stdout + p.stderr


def test_users_vhosts_permissions(admin, api):
    user, vh = uid("ra-user"), uid("ra-vh")
    try:
        admin("declare", "vhost", "name=" + vh)
        admin("declare", "user", "name=" + user, "password=pw", "tags=monitoring")
        admin("declare", "permission", "vhost=" + vh, "user=" + user, "configure=.*",
              "write=.*", "read=.*")
        assert any(u["name"] == user and u["tags"] == ["monitoring"]
                   for u in listed(admin, "users"))
        assert any(v["name"] == vh for v in listed(admin, "vhosts", "name"))
        assert {"vhost": vh, "user": user} in listed(admin, "permissions", "vhost", "user")
        show = admin("show", "overview").stdout
        assert "rabbitmq_version" in show
    finally:
        admin("delete", "user", "name=" + user, check=False)
        admin("delete", "vhost", "name=" + vh, check=False)
    assert not any(u["name"] == user for u in listed(admin, "users"))


def test_list_connections_and_close(admin, connect):
    tag = uid("ra-conn")
    c = connect(client_properties={"connection_name": tag})
    c.channel()
    conns = listed(admin, "connections", "name", "user", "client_properties")
    mine = [x for x in conns if x["client_properties"].get("connection_name") == tag]
    assert len(mine) == 1 and mine[0]["user"] == "guest"
    assert any(ch_["connection_details"]["name"] == mine[0]["name"]
               for ch_ in listed(admin, "channels", "name", "connection_details"))
    admin("close", "connection", "name=" + mine[0]["name"])
    with pytest.raises(Exception):
        for _ in range(200):
            c.process_data_events(time_limit=0.05)


def test_export_import(admin, api, tmp_path):
    qn = uid("ra-def")
    path = tmp_path / "defs.json"
    api.put("/api/queues/%2F/" + q(qn), {"durable": True})
    try:
        admin("export", str(path))
        defs = json.loads(path.read_text())
        assert any(x["name"] == qn for x in defs["queues"])
        api.delete("/api/queues/%2F/" + q(qn))
        assert api.get("/api/queues/%2F/" + q(qn))[0] == 404
        admin("import", str(path))
        assert api.get("/api/queues/%2F/" + q(qn))[1]["durable"] is True
    finally:
        api.delete("/api/queues/%2F/" + q(qn))
