"""Users, tags, vhosts and permissions through the admin API, and how they gate both the API and
AMQP (connection.open). Expected values are RabbitMQ 3.10's."""

import contextlib

import pika
import pika.exceptions
import pytest

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403


@pytest.fixture
def made(api):
    """Records users and vhosts a test creates; deletes them at teardown."""
    created = {"users": [], "vhosts": []}
    yield created
    for u in created["users"]:
        api.delete("/api/users/" + q(u))
    for v in created["vhosts"]:
        api.delete("/api/vhosts/" + q(v))


def new_user(api, made, tags="", password="pw"):
    name = uid("user")
    assert api.put("/api/users/" + q(name), {"password": password, "tags": tags})[0] == 201
    made["users"].append(name)
    return name


def new_vhost(api, made):
    name = uid("vh")
    assert api.put("/api/vhosts/" + q(name), {"description": "d"})[0] == 201
    made["vhosts"].append(name)
    return name


def test_user_crud(api, made):
    name = new_user(api, made, tags="management,policymaker")
    status, user = api.get("/api/users/" + q(name))
    assert status == 200
    assert user["name"] == name
    assert user["tags"] == ["management", "policymaker"]
    assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert user["password_hash"] and user["limits"] == {}
    # Update: 204, tags as a list also accepted.
    assert api.put("/api/users/" + q(name), {"password": "pw2", "tags": ["monitoring"]})[0] == 204
    assert api.get("/api/users/" + q(name))[1]["tags"] == ["monitoring"]
    names = [u["name"] for u in api.get("/api/users")[1]]
    assert name in names and "guest" in names
    assert api.delete("/api/users/" + q(name))[0] == 204
    assert api.delete("/api/users/" + q(name)) == (404, {"error": "Object Not Found",
                                                        "reason": "Not Found"})
    assert api.get("/api/users/" + q(name))[0] == 404


def test_password_hash_from_rabbitmq_logs_in(api, api_for, made):
    # A hash exported by RabbitMQ 3.10 for the password "secret".
    name = uid("hashed")
    made["users"].append(name)
    h = "LC2PnwKOKLdv/tt27VC7JK63D/Ej09gkJBxyoSZLZtr/78X3"
    assert api.put("/api/users/" + q(name), {"password_hash": h, "tags": "management"})[0] == 201
    assert api_for(name, "secret").get("/api/whoami")[0] == 200
    assert api_for(name, "not-secret").get("/api/whoami")[0] == 401


def test_user_without_password_cannot_log_in(api, api_for, made):
    name = uid("nopw")
    made["users"].append(name)
    assert api.put("/api/users/" + q(name), {"password_hash": "", "tags": "administrator"})[0] == 201
    assert api_for(name, "").get("/api/whoami")[0] == 401


@refused_403
def test_tags_gate_the_api(api, api_for, made):
    # Logged in, but without the tag: 403 (RabbitMQ 3.10: 401), same body.
    none = new_user(api, made, tags="")
    mgmt = new_user(api, made, tags="management")
    monitor = new_user(api, made, tags="monitoring")
    assert api_for(none, "pw").get("/api/whoami") == (
        403, {"error": "not_authorised", "reason": "Not management user"})
    assert api_for(mgmt, "pw").get("/api/whoami") == (200, {"name": mgmt, "tags": ["management"]})
    assert api_for(mgmt, "pw").get("/api/users") == (
        403, {"error": "not_authorised", "reason": "Not administrator user"})
    assert api_for(mgmt, "pw").get("/api/nodes") == (
        403, {"error": "not_authorised", "reason": "Not monitor user"})
    assert api_for(monitor, "pw").get("/api/users") == (
        403, {"error": "not_authorised", "reason": "Not administrator user"})
    assert api_for(mgmt, "pw").put("/api/vhosts/" + uid("nope")) == (
        403, {"error": "not_authorised", "reason": "Not administrator user"})
    assert api_for(mgmt, "pw").get("/api/queues/%2F") == (
        403, {"error": "not_authorised", "reason": "User not authorised to access virtual host"})
    # Objects need permissions in their vhost, even for monitoring (administrators excepted).
    assert api_for(monitor, "pw").get("/api/queues/%2F") == (
        403, {"error": "not_authorised", "reason": "User not authorised to access virtual host"})


def test_tags_decide_what_is_listed(api, api_for, made):
    mgmt = new_user(api, made, tags="management")
    monitor = new_user(api, made, tags="monitoring")
    # monitoring sees every vhost; management only those it has permissions in.
    vhosts = [v["name"] for v in api_for(monitor, "pw").get("/api/vhosts")[1]]
    assert "/" in vhosts
    assert api_for(mgmt, "pw").get("/api/vhosts")[1] == []
    assert api_for(mgmt, "pw").get("/api/queues") == (200, [])
    # Listings leave out the vhosts without permissions, even for monitoring.
    assert api_for(monitor, "pw").get("/api/queues") == (200, [])


@refused_403
def test_management_user_with_permissions(api, api_for, made):
    mgmt = new_user(api, made, tags="management")
    vh = new_vhost(api, made)
    assert api.put("/api/permissions/%s/%s" % (q(vh), q(mgmt)),
                   {"configure": "^mine\\.", "write": ".*", "read": ".*"})[0] == 201
    a = api_for(mgmt, "pw")
    assert [v["name"] for v in a.get("/api/vhosts")[1]] == [vh]
    assert a.put("/api/queues/%s/mine.q" % q(vh), {"durable": False})[0] == 201
    # configure regex does not match: refused, nothing created.
    assert a.put("/api/queues/%s/other.q" % q(vh), {"durable": False}) == (
        403, {"error": "not_authorised", "reason": "Access refused."})
    assert api.get("/api/queues/%s/other.q" % q(vh))[0] == 404
    assert [x["name"] for x in a.get("/api/queues")[1]] == ["mine.q"]


def test_vhost_crud(api, made):
    vh = new_vhost(api, made)
    status, body = api.get("/api/vhosts/" + q(vh))
    assert status == 200
    assert body["name"] == vh and body["description"] == "d"
    assert body["metadata"] == {"description": "d", "tags": []}
    assert body["tracing"] is False
    # The creator gets full permissions, as in RabbitMQ.
    perms = api.get("/api/vhosts/%s/permissions" % q(vh))[1]
    assert [(p["user"], p["configure"], p["write"], p["read"]) for p in perms] == [
        ("guest", ".*", ".*", ".*")]
    # Update: 204, tags from a comma-separated string.
    assert api.put("/api/vhosts/" + q(vh), {"description": "e", "tags": "a,b"})[0] == 204
    body = api.get("/api/vhosts/" + q(vh))[1]
    assert body["description"] == "e" and body["tags"] == ["a", "b"]
    assert api.delete("/api/vhosts/" + q(vh))[0] == 204
    assert api.delete("/api/vhosts/" + q(vh))[0] == 404
    assert api.get("/api/vhosts/" + q(vh))[0] == 404
    assert api.get("/api/vhosts/%s/permissions" % q(vh))[0] == 404


def test_objects_in_unknown_vhost(api):
    assert api.get("/api/queues/no-such-vhost")[0] == 404
    assert api.get("/api/exchanges/no-such-vhost/x")[0] == 404
    status, body = api.put("/api/queues/no-such-vhost/q1", {})
    assert status == 404


def test_permissions_crud_and_errors(api, made):
    user = new_user(api, made)
    vh = new_vhost(api, made)
    path = "/api/permissions/%s/%s" % (q(vh), q(user))
    assert api.get(path)[0] == 404
    assert api.put(path, {"configure": ".*", "write": ".*", "read": "^$"})[0] == 201
    assert api.get(path) == (200, {"user": user, "vhost": vh, "configure": ".*", "write": ".*",
                                   "read": "^$"})
    assert api.put(path, {"configure": "", "write": ".*", "read": ".*"})[0] == 204
    status, body = api.put(path, {"configure": ".*", "write": ".*"})
    assert status == 400 and body["reason"] == "[{key_missing,read}]"
    status, body = api.put(path, {"configure": ".*", "write": ".*", "read": "("})
    assert status == 400 and body["reason"][0] == "invalid_regexp"
    status, body = api.put("/api/permissions/%s/%s" % (q(vh), uid("ghost")),
                           {"configure": ".*", "write": ".*", "read": ".*"})
    assert (status, body["reason"]) == (400, "vhost_or_user_not_found")
    listed = [p for p in api.get("/api/permissions")[1] if p["user"] == user]
    assert listed == [{"user": user, "vhost": vh, "configure": "", "write": ".*", "read": ".*"}]
    assert [p["vhost"] for p in api.get("/api/users/%s/permissions" % q(user))[1]] == [vh]
    assert api.delete(path)[0] == 204
    assert api.delete(path)[0] == 404
    # Deleting the user drops its permissions.
    api.put(path, {"configure": ".*", "write": ".*", "read": ".*"})
    api.delete("/api/users/" + q(user))
    assert api.get(path)[0] == 404


def test_amqp_open_needs_vhost_permissions(broker, api, made):
    user = new_user(api, made, password="pw")
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as ei:
        pika.BlockingConnection(params(broker, user=user, password="pw"))
    assert "access to vhost '/' refused for user '%s'" % user in str(ei.value)
    assert "530" in str(ei.value)
    api.put("/api/permissions/%%2F/%s" % q(user), {"configure": ".*", "write": ".*", "read": ".*"})
    c = pika.BlockingConnection(params(broker, user=user, password="pw"))
    c.close()


def test_deleting_a_vhost_closes_its_connections(broker, api, made):
    vh = new_vhost(api, made)
    c = pika.BlockingConnection(params(broker, vhost=vh))
    try:
        ch = c.channel()
        ch.queue_declare("in-doomed-vhost")
        assert api.get("/api/queues/%s/in-doomed-vhost" % q(vh))[0] == 200
        assert api.delete("/api/vhosts/" + q(vh))[0] == 204
        made["vhosts"].remove(vh)
        with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as ei:
            for _ in range(200):
                c.process_data_events(time_limit=0.05)
        assert ei.value.reply_code == 320
    finally:
        with contextlib.suppress(Exception):
            c.close()
    assert api.get("/api/queues/%s/in-doomed-vhost" % q(vh))[0] == 404
