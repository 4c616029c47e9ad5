"""Fixtures that run the real warren binary on an ephemeral port with a temp data dir.

Set WARREN_TEST_URL (e.g. amqp://guest:guest@127.0.0.1:5674/) to run the same tests against an
already-running broker instead, such as RabbitMQ 3.10, to check that the tests expect what
RabbitMQ does. Tests that need a broker of their own (restarts, special flags) use
`start_broker` and are skipped in that mode.
"""

import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import urllib.parse

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
DEFAULT_BIN = REPO / "build" / "asan" / "broker" / "warren"


class Broker:
    """A warren process started for a test; stopped with SIGTERM at teardown."""

    def __init__(self, extra_args=(), data_dir=None):
        self.binary = os.environ.get("WARREN_BIN", str(DEFAULT_BIN))
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="warren-test-")
        self.extra_args = list(extra_args)
        self.proc = None
        self.host = "127.0.0.1"
        self.port = None
        self.log_path = os.path.join(self.data_dir, "broker.log")

    def start(self, timeout=30):
        args = [self.binary, "--bind", "127.0.0.1", "--amqp-port", "0", "--http-port", "0",
                "--metrics-port", "0",
                "--data-dir", self.data_dir, *self.extra_args]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, bufsize=0)
        # Readiness signal: one stdout line "warren ready amqp=HOST:PORT [http=HOST:PORT]".
        # Read raw bytes (no buffered readline) so select() sees everything.
        import select
        import time
        deadline = time.monotonic() + timeout
        buf = b""
        line = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline and not line:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                for candidate in buf.split(b"\n")[:-1]:
                    if candidate.startswith(b"warren ready"):
                        line = candidate
                        break
            elif self.proc.poll() is not None:
                break
        if not line:
            log = open(self.log_path).read()[-4000:]
            self.stop()
            self.cleanup()
            raise RuntimeError("warren did not become ready; log: " + log)
        fields = dict(f.split("=", 1) for f in line.decode().split()[2:])
        self.host, port = fields["amqp"].rsplit(":", 1)
        self.port = int(port)
        # The admin HTTP API, "HOST:PORT" (tests use helpers_http.Api on it).
        self.http = fields.get("http")
        # Prometheus /metrics alone, "HOST:PORT".
        self.metrics = fields.get("metrics")
        return self

    def url(self, user="guest", password="guest", vhost="/"):
        return "amqp://%s:%s@%s:%d/%s" % (user, password, self.host, self.port,
                                          urllib.parse.quote(vhost, safe=""))

    def kill(self):
        """SIGKILL, as a crash would."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        if getattr(self, "log", None):
            self.log.close()
        return rc

    def cleanup(self):
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


class ExternalBroker:
    """A broker that was already running (WARREN_TEST_URL; its admin HTTP API, "HOST:PORT", from
    WARREN_TEST_HTTP, e.g. 127.0.0.1:15674 for the reference RabbitMQ's management plugin)."""

    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host = u.hostname
        self.port = u.port or 5672
        self.http = os.environ.get("WARREN_TEST_HTTP")

    def url(self, user="guest", password="guest", vhost="/"):
        return "amqp://%s:%s@%s:%d/%s" % (user, password, self.host, self.port,
                                          urllib.parse.quote(vhost, safe=""))


@pytest.fixture(scope="session")
def broker():
    """One broker shared by the whole session (tests must clean up what they declare)."""
    external = os.environ.get("WARREN_TEST_URL")
    if external:
        yield ExternalBroker(external)
        return
    b = Broker().start()
    yield b
    rc = b.stop()
    b.cleanup()
    # A clean SIGTERM shutdown exits 0; under ASan a leak or error makes this non-zero.
    assert rc == 0, "warren exited with %r on SIGTERM" % rc


@pytest.fixture
def start_broker():
    """Factory for tests that need a broker of their own (own flags, restarts, kills)."""
    if os.environ.get("WARREN_TEST_URL"):
        pytest.skip("needs its own warren process")
    started = []

    def start(extra_args=(), data_dir=None):
        b = Broker(extra_args, data_dir).start()
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop()
        b.cleanup()


# Upper bound for one test (SIGALRM; there is no pytest-timeout plugin here).
TEST_TIMEOUT = float(os.environ.get("WARREN_TEST_TIMEOUT", "60"))


@pytest.fixture(autouse=True)
def per_test_timeout():
    """Fail a test (instead of hanging the run) when it takes longer than TEST_TIMEOUT seconds."""

    def on_alarm(signum, frame):
        raise TimeoutError("test took longer than %ss (WARREN_TEST_TIMEOUT)" % TEST_TIMEOUT)

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
