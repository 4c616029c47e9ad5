"""Health checks, the aliveness test, and the Prometheus endpoint."""

import os

import pytest

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403


def test_alarms_ok(api):
    assert api.get("/api/health/checks/alarms") == (200, {"status": "ok"})


def test_aliveness(api):
    assert api.get("/api/aliveness-test/%2F") == (200, {"status": "ok"})
    assert api.get("/api/aliveness-test/no-such-vhost")[0] == 404


def test_overview_shape(api, ch, names):
    qn = names.queue("ov")
    ch.queue_declare(qn)
    publish_all(ch, qn, [b"1", b"2"])
    status, body = api.get("/api/overview")
    assert status == 200
    for key in ("management_version", "rabbitmq_version", "product_name", "product_version",
                "cluster_name", "node", "exchange_types", "message_stats", "queue_totals",
                "object_totals", "listeners"):
        assert key in body, key
    assert body["object_totals"]["queues"] >= 1
    assert body["object_totals"]["connections"] >= 1
    assert body["queue_totals"]["messages"] >= 2
    assert {t["name"] for t in body["exchange_types"]} >= {"direct", "fanout", "topic", "headers"}


def test_metrics(broker, api, ch, names):
    if os.environ.get("WARREN_TEST_URL"):
        pytest.skip("rabbitmq_prometheus listens on its own port")
    qn = names.queue("prom")
    ch.queue_declare(qn)
    publish_all(ch, qn, [b"a", b"b", b"c"])
    plain = Api(http_address(broker), user=None)
    try:
        status, text = plain.get("/metrics")
    finally:
        plain.close()
    assert status == 200
    assert plain.last_headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = text.splitlines()
    assert "# TYPE rabbitmq_queue_messages_ready gauge" in lines
    assert 'rabbitmq_queue_messages_ready{vhost="/",queue="%s"} 3' % qn in lines
    assert 'rabbitmq_queue_messages_published_total{vhost="/",queue="%s"} 3' % qn in lines
    assert any(line.startswith("rabbitmq_connections ") for line in lines)
    assert any(line.startswith("rabbitmq_queues ") for line in lines)
    # Every sample line is "name{labels} value" or "name value".
    for line in lines:
        if not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            float(value)
