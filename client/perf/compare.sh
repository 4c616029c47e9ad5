#!/usr/bin/env bash
# warren-perf against ../shared/amqpbench on ONE running broker, alternating,
# ROUNDS times, then the medians (docs/BENCHMARKS.md, "Client: warren-perf").
#
#   client/perf/compare.sh HOST PORT [ROUNDS] [OUT_DIR]
#
# Two workloads, each run by both tools with the same parameters:
#   confirm:   durable queue, persistent 1 KiB, confirm window 1000, 1 producer,
#              1 consumer, prefetch 500, ack multiple every 100
#              (amqpbench --scenario persistent-confirm)
#   transient: 256 B, no confirms, 1 producer, 1 consumer, prefetch 500,
#              ack multiple every 100 (amqpbench --scenario transient)
# Both tools publish the same fixed count (CONFIRM_N, TRANSIENT_N) and report
# publish_rate (confirmed messages for the confirm workload) over the time to
# the last publish/confirm, and consume_rate over the time to the last
# delivery, both from the start of publishing.
set -uo pipefail
HOST=${1:?usage: compare.sh HOST PORT [ROUNDS] [OUT_DIR]}
PORT=${2:?port}
ROUNDS=${3:-3}
OUT=${4:-/tmp/warren-perf-compare}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PERF=${WARREN_PERF:-$ROOT/build/client-release/client/perf/warren-perf}
AB=${AMQPBENCH_BIN:-/tmp/amqpbench/amqpbench}
DURATION=${DURATION:-120}  # warren-perf's cap; the counts end the runs
CONFIRM_N=${CONFIRM_N:-300000}
TRANSIENT_N=${TRANSIENT_N:-2000000}
mkdir -p "$OUT"
: > "$OUT/amqpbench.jsonl"
: > "$OUT/warren-perf.jsonl"
URI="amqp://guest:guest@$HOST:$PORT/"
for r in $(seq 1 "$ROUNDS"); do
  "$AB" --scenario persistent-confirm --host "$HOST" --port "$PORT" --messages "$CONFIRM_N" \
    --size 1024 --window 1000 --prefetch 500 --ack-every 100 --seconds 120 --tag "confirm-$r" \
    --label broker | tail -n 1 | sed 's/^{/{"workload":"confirm",/' >> "$OUT/amqpbench.jsonl"
  "$PERF" --uri "$URI" --size 1024 --confirm 1000 --persistent --prefetch 500 --multi-ack 100 \
    --messages "$CONFIRM_N" --duration "$DURATION" --json | tail -n 1 | sed 's/^{/{"workload":"confirm",/' >> "$OUT/warren-perf.jsonl"
  "$AB" --scenario transient --host "$HOST" --port "$PORT" --messages "$TRANSIENT_N" \
    --size 256 --prefetch 500 --ack-every 100 --seconds 120 --tag "transient-$r" \
    --label broker | tail -n 1 | sed 's/^{/{"workload":"transient",/' >> "$OUT/amqpbench.jsonl"
  "$PERF" --uri "$URI" --size 256 --prefetch 500 --multi-ack 100 --messages "$TRANSIENT_N" \
    --duration "$DURATION" --json \
    | tail -n 1 | sed 's/^{/{"workload":"transient",/' >> "$OUT/warren-perf.jsonl"
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
def load(name):
    rows = []
    for line in open(f"{out}/{name}.jsonl"):
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    return rows
ab, wp = load("amqpbench"), load("warren-perf")
def med(rows, wl, key):
    v = [r[key] for r in rows if r.get("workload") == wl and r.get(key) is not None]
    return (statistics.median(v), v) if v else (None, v)
print(f"{'workload':10} {'figure':22} {'amqpbench':>12} {'warren-perf':>12} {'ratio':>6}")
for wl, pk in (("confirm", "confirm_rate"), ("transient", "publish_rate")):
    for label, ak, wk in (("publish (confirmed)" if wl == "confirm" else "publish", "publish_rate", pk),
                          ("consume", "consume_rate", "consume_rate")):
        a, av = med(ab, wl, ak)
        w, wv = med(wp, wl, wk)
        ratio = f"{w / a:.2f}" if a and w else "-"
        print(f"{wl:10} {label:22} {a or 0:12.0f} {w or 0:12.0f} {ratio:>6}   runs: {av} / {wv}")
PY
