"""Connections, channels and consumers through the admin API; closing a connection."""

import pika
import pika.exceptions
import pytest

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403


def find_connection(api, client_name):
    for c in api.get("/api/connections")[1]:
        if c["client_properties"].get("connection_name") == client_name:
            return c
    return None


def test_connections_channels_consumers(api, connect, names):
    tag = uid("client")
    conn = connect(client_properties={"connection_name": tag})
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_qos(prefetch_count=7)
    qn = names.queue("cc")
    ch.queue_declare(qn)
    ctag = ch.basic_consume(qn, lambda *a: None, consumer_tag="ctag-" + tag)
    c = find_connection(api, tag)
    assert c is not None
    assert c["user"] == "guest" and c["vhost"] == "/" and c["state"] == "running"
    assert c["protocol"] == "AMQP 0-9-1" and c["channels"] == 1
    assert c["peer_host"] == "127.0.0.1" and c["name"].startswith("127.0.0.1:")
    assert " -> " in c["name"]
    assert c["client_properties"]["product"] == "Pika Python Client Library"
    status, single = api.get("/api/connections/" + q(c["name"]))
    assert status == 200 and single["name"] == c["name"]
    chans = api.get("/api/connections/%s/channels" % q(c["name"]))[1]
    assert len(chans) == 1
    chan = chans[0]
    assert chan["number"] == 1 and chan["confirm"] is True and chan["prefetch_count"] == 7
    assert chan["consumer_count"] == 1
    assert chan["connection_details"]["name"] == c["name"]
    assert api.get("/api/channels/" + q(chan["name"]))[1]["number"] == 1
    assert any(x["name"] == chan["name"] for x in api.get("/api/channels")[1])
    assert any(x["name"] == c["name"] for x in api.get("/api/vhosts/%2F/connections")[1])
    consumers = [x for x in api.get("/api/consumers/%2F")[1] if x["consumer_tag"] == ctag]
    assert len(consumers) == 1
    assert consumers[0]["queue"] == {"name": qn, "vhost": "/"}
    assert consumers[0]["ack_required"] is True
    assert consumers[0]["channel_details"]["connection_name"] == c["name"]
    assert api.get("/api/connections/no-such-connection")[0] == 404


def test_delete_connection_closes_it_with_320(api, connect):
    tag = uid("doomed")
    conn = connect(client_properties={"connection_name": tag})
    conn.channel()
    c = find_connection(api, tag)
    assert api.delete("/api/connections/" + q(c["name"]),
                      headers={"X-Reason": "go away"})[0] == 204
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
        for _ in range(200):
            conn.process_data_events(time_limit=0.05)
    assert ei.value.reply_code == 320
    assert ei.value.reply_text == "CONNECTION_FORCED - go away"
    wait_until_gone = [x for x in api.get("/api/connections")[1]
                       if x["client_properties"].get("connection_name") == tag]
    assert len(wait_until_gone) <= 1
    assert api.delete("/api/connections/" + q(c["name"]))[0] in (204, 404)


def test_management_user_sees_only_own_connections(broker, api, api_for):
    user = uid("own")
    api.put("/api/users/" + q(user), {"password": "pw", "tags": "management"})
    api.put("/api/permissions/%%2F/%s" % q(user), {"configure": ".*", "write": ".*", "read": ".*"})
    mine = pika.BlockingConnection(params(broker, user=user, password="pw"))
    guest = pika.BlockingConnection(params(broker))
    try:
        seen = api_for(user, "pw").get("/api/connections")[1]
        assert seen and all(c["user"] == user for c in seen)
    finally:
        mine.close()
        guest.close()
        api.delete("/api/users/" + q(user))
