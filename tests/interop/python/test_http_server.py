"""The admin HTTP server itself: authentication, errors, keep-alive, limits, concurrency.

Expected values are RabbitMQ 3.10's (run with WARREN_TEST_URL + WARREN_TEST_HTTP to check)."""

import os
import socket
import threading

import pytest

from helpers_http import *  # noqa: F401,F403
from helpers_pika import *  # noqa: F401,F403

EXTERNAL = bool(os.environ.get("WARREN_TEST_URL"))


def raw_exchange(address, data, timeout=10):
    """Sends raw bytes, returns everything the server answers until it closes (or timeout)."""
    host, port = address.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def test_no_credentials_is_401_with_challenge(api_for):
    a = api_for(None)
    status, body = a.get("/api/overview")
    assert status == 401
    assert body is None
    assert a.last_headers["www-authenticate"].startswith("Basic realm=")


def test_wrong_password_is_401_login_failed(api_for):
    status, body = api_for("guest", "wrong").get("/api/whoami")
    assert status == 401
    assert body == {"error": "not_authorized", "reason": "Login failed"}


def test_unknown_user_is_401(api_for):
    status, body = api_for("nobody-" + uid(), "x").get("/api/whoami")
    assert status == 401
    assert body["reason"] == "Login failed"


@refused_403
def test_refusal_is_403_without_challenge(api, api_for):
    # Issue #5: 401 (with the Basic challenge) when the credentials fail, 403 (without it) when a
    # logged-in user lacks the tag, the vhost access or the permission.
    tagless, mgmt = uid("notags"), uid("mgmt")
    assert api.put("/api/users/" + q(tagless), {"password": "pw", "tags": ""})[0] == 201
    assert api.put("/api/users/" + q(mgmt), {"password": "pw", "tags": "management"})[0] == 201
    try:
        for a, method, path, reason in (
                (api_for(tagless, "pw"), "GET", "/api/overview", "Not management user"),
                (api_for(mgmt, "pw"), "GET", "/api/users", "Not administrator user"),
                (api_for(mgmt, "pw"), "GET", "/api/queues/%2F",
                 "User not authorised to access virtual host"),
                (api, "DELETE", "/api/exchanges/%2F/amq.direct", "Access refused.")):
            assert a.request(method, path) == (
                403, {"error": "not_authorised", "reason": reason}), path
            assert "www-authenticate" not in a.last_headers, path
            assert a.last_headers["content-type"].startswith("application/json"), path
        wrong = api_for(tagless, "wrong")
        assert wrong.get("/api/overview") == (
            401, {"error": "not_authorized", "reason": "Login failed"})
        assert wrong.last_headers["www-authenticate"].startswith("Basic realm=")
    finally:
        api.delete("/api/users/" + q(tagless))
        api.delete("/api/users/" + q(mgmt))


def test_malformed_basic_credentials_are_400(api):
    # As RabbitMQ (Cowboy): credentials that do not decode to user:password are a bad request.
    assert api.get("/api/whoami", headers={"Authorization": "Basic !!!notbase64"})[0] == 400
    assert api.get("/api/whoami", headers={"Authorization": "Basic Z3Vlc3Q="})[0] == 400


def test_other_auth_scheme_is_401(api):
    assert api.get("/api/whoami", headers={"Authorization": "Bearer abc"})[0] == 401


def test_whoami(api):
    assert api.get("/api/whoami") == (200, {"name": "guest", "tags": ["administrator"]})


def test_unknown_path_is_404_json(api):
    status, body = api.get("/api/no-such-thing")
    assert status == 404
    assert body == {"error": "Object Not Found", "reason": "Not Found"}


def test_wrong_method_is_405_with_allow(api):
    status, body = api.post("/api/whoami")
    assert status == 405
    assert "GET" in api.last_headers["allow"]


def test_body_that_is_not_json_is_400(api):
    status, body = api.request("PUT", "/api/queues/%2F/" + uid("nj"), raw="{bad")
    assert status == 400
    assert body == {"error": "bad_request", "reason": "not_json"}
    # ... and changes nothing.
    assert api.get("/api/queues/%2F/nj-nothing")[0] == 404


def test_json_that_is_not_an_object_is_400(api):
    status, body = api.request("PUT", "/api/queues/%2F/" + uid("nj"), raw="[1, 2]")
    assert status == 400
    assert body["error"] == "bad_request"


def test_deeply_nested_json_is_refused(api):
    qn = uid("deep")
    deep = "[" * 100000 + "]" * 100000
    body = '{"arguments": {"x": %s}}' % deep
    assert api.request("PUT", "/api/queues/%2F/" + qn, raw=body)[0] == 400
    assert api.request("POST", "/api/definitions", raw='{"queues": %s}' % deep)[0] == 400
    # A string full of brackets is fine.
    assert api.request("PUT", "/api/queues/%2F/" + qn,
                       raw='{"arguments": {"x-note": "%s"}}' % ("[" * 1000))[0] == 201
    assert api.delete("/api/queues/%2F/" + qn)[0] == 204
    assert api.get("/api/whoami")[0] == 200


def test_keep_alive_many_requests_one_connection(api):
    for _ in range(20):
        assert api.get("/api/whoami")[0] == 200
    # http.client reuses the socket as long as the server keeps it open.
    assert api.conn is not None and api.conn.sock is not None


def test_trailing_slash_and_head(api):
    assert api.get("/api/vhosts/")[0] == 200
    status, body = api.request("HEAD", "/api/vhosts")
    assert status == 200 and body is None


def test_connection_close_is_honoured(broker):
    reply = raw_exchange(http_address(broker),
                         b"GET /api/whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         b"Authorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"name":"guest"' in reply


def test_malformed_request_line_is_400_and_closed(broker):
    if EXTERNAL:
        pytest.skip("Warren's own limits")
    reply = raw_exchange(http_address(broker), b"THIS IS NOT HTTP\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400")


def test_oversized_body_is_413_before_it_is_sent(broker):
    if EXTERNAL:
        pytest.skip("Warren's own limits")
    reply = raw_exchange(http_address(broker),
                         b"PUT /api/queues/%2F/big HTTP/1.1\r\nHost: x\r\n"
                         b"Authorization: Basic Z3Vlc3Q6Z3Vlc3Q=\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100000000\r\n\r\n{")
    assert reply.startswith(b"HTTP/1.1 413")
    a = Api(http_address(broker))
    try:
        assert a.get("/api/queues/%2F/big")[0] == 404
    finally:
        a.close()


def test_many_concurrent_clients(broker):
    address = http_address(broker)
    errors = []

    def worker():
        a = Api(address)
        try:
            for _ in range(10):
                status, _ = a.get("/api/overview")
                if status != 200:
                    errors.append(status)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            a.close()

    threads = [threading.Thread(target=worker) for _ in range(25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []


def test_http_does_not_block_amqp(broker, ch, names):
    """An AMQP round trip still works while HTTP clients hold idle keep-alive connections."""
    idle = [Api(http_address(broker)) for _ in range(5)]
    try:
        for a in idle:
            assert a.get("/api/whoami")[0] == 200
        name = names.queue("hb")
        ch.queue_declare(name)
        ch.basic_publish("", name, b"x")
        method, _, body = ch.basic_get(name, auto_ack=True)
        assert body == b"x"
    finally:
        for a in idle:
            a.close()
