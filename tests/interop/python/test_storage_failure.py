"""A filling disk: the broker's data dir is on a tiny tmpfs while a publisher with confirms runs.
Before the disk is full (disk-free-limit, as RabbitMQ's disk_free_limit) the broker must block the
publisher (connection.blocked) and log the condition, must not crash, and must resume by itself
once the disk has room (the tmpfs is grown with a remount). Every confirmed message is there after
a restart.

Run twice: with a disk-free-limit (the alarm comes before the disk is full), and without one, so
that RocksDB's writes really fail with ENOSPC (Debian's RocksDB 7.8 used to abort the process
there, on its own LOG file).

Needs root (mount); skipped otherwise.
"""

import os
import shutil
import subprocess
import tempfile
import threading
import time

import pika
import pytest

PERSISTENT = pika.BasicProperties(delivery_mode=2)


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.fixture
def tiny_disk():
    if os.environ.get("WARREN_TEST_URL"):
        pytest.skip("needs its own warren process")
    mnt = tempfile.mkdtemp(prefix="warren-tinydisk-")
    r = run("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt)
    if r.returncode != 0:
        os.rmdir(mnt)
        pytest.skip("cannot mount a tmpfs here: %s" % r.stderr.strip())
    yield mnt
    run("umount", "-l", mnt)
    shutil.rmtree(mnt, ignore_errors=True)


def start(binary, data_dir, logdir, disk_free_limit="3000000"):
    out = open(os.path.join(logdir, "stdout"), "wb")
    err = open(os.path.join(logdir, "broker.log"), "ab")
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--amqp-port", "0", "--http-port",
                             "0", "--metrics-port", "0", "--data-dir", data_dir,
                             "--disk-free-limit", disk_free_limit],
                            stdout=out, stderr=err)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = open(os.path.join(logdir, "stdout")).read().splitlines()
        ready = [l for l in lines if l.startswith("warren ready")]
        if ready:
            fields = dict(f.split("=", 1) for f in ready[-1].split()[2:])
            return proc, fields["amqp"]
        assert proc.poll() is None, open(os.path.join(logdir, "broker.log")).read()[-3000:]
        time.sleep(0.1)
    raise AssertionError("broker did not start")


def connect(addr):
    p = pika.URLParameters("amqp://guest:guest@%s/%%2F" % addr)
    p.blocked_connection_timeout = None
    p.heartbeat = 0
    return pika.BlockingConnection(p)


@pytest.mark.parametrize("disk_free_limit", ["3000000", "0"], ids=["limit", "enospc"])
def test_full_disk_blocks_publishers_and_service_resumes(tiny_disk, tmp_path, disk_free_limit):
    from conftest import DEFAULT_BIN
    binary = os.environ.get("WARREN_BIN", str(DEFAULT_BIN))
    data_dir = os.path.join(tiny_disk, "data")
    logdir = str(tmp_path)
    proc, addr = start(binary, data_dir, logdir, disk_free_limit)
    try:
        c = connect(addr)
        blocked = []
        c.add_on_connection_blocked_callback(lambda conn, frame: blocked.append(True))
        ch = c.channel()
        ch.confirm_delivery()
        ch.queue_declare("full", durable=True)
        confirmed = []
        body = b"x" * 4000
        state = {"stop": False, "error": None}

        def publish():
            try:
                i = 0
                while not state["stop"]:
                    ch.basic_publish("", "full", b"%08d" % i + body, properties=PERSISTENT)
                    confirmed.append(i)
                    i += 1
            except Exception as e:  # noqa: BLE001 - reported below
                state["error"] = e

        # pika's BlockingConnection is driven by the thread that uses it; one thread does all.
        t = threading.Thread(target=publish, daemon=True)
        t.start()
        # The disk fills: confirms stop coming.
        deadline = time.monotonic() + 40
        last, stalled_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if len(confirmed) != last:
                last, stalled_since = len(confirmed), time.monotonic()
            elif time.monotonic() - stalled_since > 2:
                break
        assert state["error"] is None, state["error"]
        assert time.monotonic() - stalled_since > 2, "the 6 MB disk never filled"
        assert proc.poll() is None, "the broker died on a full disk"
        log = open(os.path.join(logdir, "broker.log")).read()
        assert "storage alarm" in log
        if disk_free_limit == "0":
            assert "No space left on device" in log, "the writes never failed"
        stalled_at = len(confirmed)

        # Room again: confirms resume without anyone restarting anything.
        r = run("mount", "-o", "remount,size=256m", tiny_disk)
        assert r.returncode == 0, r.stderr
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(confirmed) < stalled_at + 200:
            time.sleep(0.1)
        assert len(confirmed) >= stalled_at + 200, "publishing did not resume"
        state["stop"] = True
        t.join(timeout=30)
        assert "storage alarm cleared" in open(os.path.join(logdir, "broker.log")).read()
        c.process_data_events(0)  # pika runs the blocked callback from here
        assert blocked, "the publisher was not sent connection.blocked"
        c.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    # Every confirmed message survived.
    proc, addr = start(binary, data_dir, logdir)
    try:
        c = connect(addr)
        ch = c.channel()
        got = set()
        while True:
            m, _, b = ch.basic_get("full", auto_ack=True)
            if m is None:
                break
            got.add(int(b[:8]))
        missing = [i for i in confirmed if i not in got]
        assert not missing, "confirmed but lost: %s" % missing[:20]
        c.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
