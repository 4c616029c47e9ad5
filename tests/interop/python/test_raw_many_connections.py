"""Many simultaneous connections over raw sockets (rawamqp.py): all of them complete the
handshake, are open at the same time, and close cleanly; the broker keeps serving."""

import os

from rawamqp import (CHANNEL_OPEN, CHANNEL_OPEN_OK, CONNECTION_CLOSE, CONNECTION_CLOSE_OK,
                     CONNECTION_OPEN, CONNECTION_OPEN_OK, CONNECTION_START, CONNECTION_START_OK,
                     CONNECTION_TUNE, CONNECTION_TUNE_OK, PROTOCOL_HEADER, RawConnection,
                     good_client_round_trip, long_, longstr, method_frame, octet, short,
                     shortstr, table)

N = int(os.environ.get("WARREN_RAW_CONNECTIONS", "500"))
STEP_TIMEOUT = 30.0


def test_many_connections_at_once(broker):
    conns = []
    try:
        # Open all sockets first and send every protocol header before reading anything, then
        # advance all connections one handshake step at a time: all N handshakes are in
        # progress at once.
        for _ in range(N):
            conns.append(RawConnection(broker.host, broker.port, timeout=STEP_TIMEOUT))
        for c in conns:
            c.send(PROTOCOL_HEADER)
        for c in conns:
            c.expect_method(CONNECTION_START, 0)
            c.send(method_frame(0, CONNECTION_START_OK, table({"product": "rawamqp-many"})
                                + shortstr("PLAIN") + longstr(b"\x00guest\x00guest")
                                + shortstr("en_US")))
        for c in conns:
            r = c.expect_method(CONNECTION_TUNE, 0).args()
            channel_max, frame_max = r.short(), r.long()
            c.send(method_frame(0, CONNECTION_TUNE_OK, short(channel_max) + long_(frame_max)
                                + short(0)))
            c.send(method_frame(0, CONNECTION_OPEN, shortstr("/") + shortstr("") + octet(0)))
        for c in conns:
            c.expect_method(CONNECTION_OPEN_OK, 0)
            c.send(method_frame(1, CHANNEL_OPEN, shortstr("")))
        for c in conns:
            c.expect_method(CHANNEL_OPEN_OK, 1)

        # With all N open, a new client is still served.
        good_client_round_trip(broker)

        # Clean close of every connection: close -> close-ok.
        for c in conns:
            c.send(method_frame(0, CONNECTION_CLOSE, short(200) + shortstr("bye") + short(0)
                                + short(0)))
        for c in conns:
            f = c.read_non_heartbeat()
            assert f.channel == 0 and f.method == CONNECTION_CLOSE_OK, f
            c.close()
    finally:
        for c in conns:
            c.close()
    # And after they are all gone.
    good_client_round_trip(broker)


def test_many_connections_dropped_without_close(broker):
    # Clients that vanish (socket closed, no connection.close) mid-session must not hurt the
    # broker either.
    conns = []
    try:
        for _ in range(min(N, 200)):
            c = RawConnection(broker.host, broker.port, timeout=STEP_TIMEOUT)
            conns.append(c)
            c.handshake(heartbeat=0)
            c.open_channel(1)
    finally:
        for c in conns:
            c.close()
    good_client_round_trip(broker)
