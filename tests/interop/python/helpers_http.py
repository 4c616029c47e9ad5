"""A small client for the admin HTTP API (Debian's python3 has no `requests`; this uses
http.client, one keep-alive connection per Api object), and fixtures built on it.

    from helpers_http import *  # noqa: F401,F403

    def test_x(api):
        status, body = api.get("/api/overview")

The `api` fixture talks to the session broker's HTTP listener as guest (or, with WARREN_TEST_URL,
to WARREN_TEST_HTTP, e.g. RabbitMQ's management plugin on 127.0.0.1:15674, the reference).
"""

import base64
import http.client
import json
import os
import urllib.parse

import pytest

from helpers_pika import *  # noqa: F401,F403
from helpers_pika import uid

__all__ = ["Api", "api", "api_for", "q", "uid", "http_address", "refused_403"]

# Warren answers 403 {"error":"not_authorised",...} to a logged-in user who lacks the tag or the
# permission (issue #5); RabbitMQ 3.10 answers 401 there. Tests that expect such a 403 are Warren's
# own: skipped against an external broker (WARREN_TEST_URL).
refused_403 = pytest.mark.skipif(bool(os.environ.get("WARREN_TEST_URL")),
                                 reason="RabbitMQ 3.10 answers 401 where Warren answers 403")


def q(name):
    """URL-encodes one path segment (a vhost "/" becomes %2F)."""
    return urllib.parse.quote(name, safe="")


class Api:
    def __init__(self, address, user="guest", password="guest", timeout=30):
        host, port = address.rsplit(":", 1)
        self.host, self.port, self.timeout = host, int(port), timeout
        self.auth = None
        if user is not None:
            token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
            self.auth = "Basic " + token
        self.conn = None
        self.last_headers = {}

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def request(self, method, path, body=None, headers=None, raw=None):
        """Returns (status, parsed JSON body or None or text). `body` is JSON-encoded; `raw`
        (bytes/str) is sent as is."""
        hdrs = {}
        if self.auth:
            hdrs["Authorization"] = self.auth
        data = None
        if raw is not None:
            data = raw
            hdrs["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body)
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                payload = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: retry once on a new one.
                self.close()
                if attempt:
                    raise
        self.last_headers = {k.lower(): v for k, v in resp.getheaders()}
        if resp.getheader("connection", "").lower() == "close":
            self.close()
        ctype = resp.getheader("content-type", "")
        if not payload:
            return resp.status, None
        if ctype.startswith("application/json"):
            return resp.status, json.loads(payload)
        return resp.status, payload.decode("utf-8", "replace")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body if body is not None else {}, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def ok(self, method, path, body=None):
        """Like request(), asserting a 2xx status; returns the body."""
        status, data = self.request(method, path, body)
        assert 200 <= status < 300, (method, path, status, data)
        return data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def http_address(broker):
    if not broker.http:
        pytest.skip("no admin HTTP address (set WARREN_TEST_HTTP with WARREN_TEST_URL)")
    return broker.http


@pytest.fixture
def api(broker):
    a = Api(http_address(broker))
    yield a
    a.close()


@pytest.fixture
def api_for(broker):
    """Factory: api_for(user, password) -> an Api logged in as that user (None: no credentials)."""
    made = []

    def make(user, password=None):
        a = Api(http_address(broker), user, password)
        made.append(a)
        return a

    yield make
    for a in made:
        a.close()
