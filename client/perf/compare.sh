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
ab_confirm() {
  "$AB" --scenario persistent-confirm --host "$HOST" --port "$PORT" --messages "$CONFIRM_N" \
    --size 1024 --window 1000 --prefetch 500 --ack-every 100 --seconds 120 --tag "confirm-$r" \
    --label broker | tail -n 1 | sed "s/^{/{\"workload\":\"confirm\",\"round\":$r,/" >> "$OUT/amqpbench.jsonl"
}
wp_confirm() {
  "$PERF" --uri "$URI" --size 1024 --confirm 1000 --persistent --prefetch 500 --multi-ack 100 \
    --messages "$CONFIRM_N" --duration "$DURATION" --json \
    | tail -n 1 | sed "s/^{/{\"workload\":\"confirm\",\"round\":$r,/" >> "$OUT/warren-perf.jsonl"
}
ab_transient() {
  "$AB" --scenario transient --host "$HOST" --port "$PORT" --messages "$TRANSIENT_N" \
    --size 256 --prefetch 500 --ack-every 100 --seconds 120 --tag "transient-$r" \
    --label broker | tail -n 1 | sed "s/^{/{\"workload\":\"transient\",\"round\":$r,/" >> "$OUT/amqpbench.jsonl"
}
wp_transient() {
  "$PERF" --uri "$URI" --size 256 --prefetch 500 --multi-ack 100 --messages "$TRANSIENT_N" \
    --duration "$DURATION" --json \
    | tail -n 1 | sed "s/^{/{\"workload\":\"transient\",\"round\":$r,/" >> "$OUT/warren-perf.jsonl"
}
# Odd rounds run amqpbench first, even rounds warren-perf first, so neither
# tool always inherits the other's leftovers (a warm cache, a compaction).
for r in $(seq 1 "$ROUNDS"); do
  if (( r % 2 == 1 )); then
    ab_confirm; wp_confirm; ab_transient; wp_transient
  else
    wp_confirm; ab_confirm; wp_transient; ab_transient
  fi
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
def by_round(rows, wl, key):
    return {r["round"]: r[key] for r in rows
            if r.get("workload") == wl and r.get(key) is not None and "round" in r}
print(f"{'workload':10} {'figure':22} {'amqpbench':>12} {'warren-perf':>12} {'ratio':>6} {'median of round ratios':>24}")
for wl, pk in (("confirm", "confirm_rate"), ("transient", "publish_rate")):
    for label, ak, wk in (("publish (confirmed)" if wl == "confirm" else "publish", "publish_rate", pk),
                          ("consume", "consume_rate", "consume_rate")):
        a, av = med(ab, wl, ak)
        w, wv = med(wp, wl, wk)
        ratio = f"{w / a:.2f}" if a and w else "-"
        ar, wr = by_round(ab, wl, ak), by_round(wp, wl, wk)
        rr = [wr[k] / ar[k] for k in sorted(ar) if k in wr and ar[k]]
        rmed = f"{statistics.median(rr):.2f}" if rr else "-"
        print(f"{wl:10} {label:22} {a or 0:12.0f} {w or 0:12.0f} {ratio:>6} {rmed:>24}")
        print(f"{'':10} runs: {av} / {wv}; round ratios: {[round(x, 2) for x in rr]}")
for name, rows in (("amqpbench", ab), ("warren-perf", wp)):
    bad = [r for r in rows if r.get("errors") or r.get("error") or r.get("nacked")
           or (r.get("consumed", r.get("delivered")) != r.get("published"))]
    print(f"{name}: {len(rows)} runs, {len(bad)} with errors, nacks or missing messages")
PY
