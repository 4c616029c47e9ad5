"""Health checks, the aliveness test, and the Prometheus endpoint."""

import os
import time

import pika
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


def scrape(address):
    plain = Api(address, user=None)
    try:
        status, text = plain.get("/metrics")
    finally:
        plain.close()
    assert status == 200
    return text.splitlines()


def sample(lines, series):
    """The value of one sample line, "series value"."""
    for line in lines:
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no sample " + series)


def test_metrics_port_serves_metrics_only(broker, api):
    if os.environ.get("WARREN_TEST_URL"):
        pytest.skip("Warren's own listener")
    assert broker.metrics, "the readiness line names the metrics listener"
    assert broker.metrics != broker.http
    assert any(line.startswith("rabbitmq_queues ") for line in scrape(broker.metrics))
    other = Api(broker.metrics)
    try:
        status, body = other.get("/api/overview")
        assert status == 404 and "error" in body
        assert other.get("/")[0] == 404  # no console there
    finally:
        other.close()


def test_dead_letter_counters(broker, api, ch, names):
    """Counted on the source queue, by reason: in message_stats (`dead_lettered`, Warren's) and in
    the metrics (rabbitmq_prometheus 3.10's names; `disabled` when there is no DLX)."""
    if os.environ.get("WARREN_TEST_URL"):
        pytest.skip("Warren's own counters")
    src, dlq, nodlx = names.queue("dlsrc"), names.queue("dlq"), names.queue("nodlx")
    ch.queue_declare(dlq)
    ch.queue_declare(src, arguments={"x-dead-letter-exchange": "",
                                     "x-dead-letter-routing-key": dlq})
    ch.queue_declare(nodlx, arguments={"x-max-length": 1})
    before = scrape(http_address(broker))
    series = ('rabbitmq_global_messages_dead_lettered_{}_total{{queue_type="rabbit_classic_queue",'
              'dead_letter_strategy="{}"}}')
    rejected_before = sample(before, series.format("rejected", "at_least_once"))
    maxlen_dropped_before = sample(before, series.format("maxlen", "disabled"))
    publish_all(ch, src, [b"1", b"2", b"3"])
    for _ in range(2):
        m, _, _ = ch.basic_get(src)
        ch.basic_reject(m.delivery_tag, requeue=False)
    publish_all(ch, nodlx, [b"a", b"b", b"c"])  # two dropped from the head, no DLX
    status, body = api.get("/api/queues/%%2F/%s" % src)
    assert status == 200
    stats = body["message_stats"]
    assert stats["dead_lettered"] == 2 and "rate" in stats["dead_lettered_details"]
    assert api.get("/api/queues/%%2F/%s" % dlq)[1]["messages"] == 2
    assert api.get("/api/queues/%%2F/%s" % nodlx)[1]["message_stats"]["dead_lettered"] == 0
    assert api.get("/api/overview")[1]["message_stats"]["dead_lettered"] >= 2
    after = scrape(http_address(broker))
    assert sample(after, series.format("rejected", "at_least_once")) == rejected_before + 2
    assert sample(after, series.format("maxlen", "disabled")) == maxlen_dropped_before + 2
    assert sample(after, 'warren_queue_messages_dead_lettered_total{vhost="/",queue="%s"}'
                  % src) == 2


def test_storage_metrics(broker, api, ch, names):
    if os.environ.get("WARREN_TEST_URL"):
        pytest.skip("Warren's own metrics")
    qn = names.queue("stored")
    ch.queue_declare(qn, durable=True)
    ch.confirm_delivery()
    writes_before = sample(scrape(http_address(broker)), "warren_storage_write_seconds_count")
    for i in range(5):
        ch.basic_publish("", qn, b"x" * 1000, pika.BasicProperties(delivery_mode=2))
    lines = scrape(http_address(broker))
    writes = sample(lines, "warren_storage_write_seconds_count")
    assert writes > writes_before  # confirms wait for a write
    assert sample(lines, 'warren_storage_write_seconds_bucket{le="+Inf"}') == writes
    # Buckets are cumulative.
    buckets = [float(line.rsplit(" ", 1)[1]) for line in lines
               if line.startswith("warren_storage_write_seconds_bucket")]
    assert buckets == sorted(buckets)
    assert sample(lines, "warren_storage_write_seconds_sum") > 0
    assert sample(lines, "warren_storage_bytes") > 0
    assert sample(lines, "rabbitmq_disk_space_available_bytes") > 0
    assert sample(lines, "rabbitmq_alarms_free_disk_space_watermark") == 0
    ch.queue_delete(qn)


def test_overview_rates(api, ch, names):
    """RabbitMQ's overview carries rates over the last sample interval (5 s here)."""
    if os.environ.get("WARREN_TEST_URL"):
        pytest.skip("RabbitMQ samples on its own schedule")
    qn = names.queue("rates")
    ch.queue_declare(qn)
    api.get("/api/overview")  # the first sample
    publish_all(ch, qn, [b"r"] * 20)
    time.sleep(5.2)
    stats = api.get("/api/overview")[1]["message_stats"]
    assert stats["publish_details"]["rate"] > 0
    assert stats["dead_lettered_details"]["rate"] >= 0
