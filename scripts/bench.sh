#!/usr/bin/env bash
# Runs ../shared/amqpbench against Warren (release build) and RabbitMQ 3.10
# (Debian) in the same run, alternating, and prints the medians per scenario.
#
#   scripts/bench.sh [ROUNDS]        # default 3 rounds
#   SCENARIOS="transient fanout latency" scripts/bench.sh 3
#
# Needs: scripts/setup.sh done, `apt-get install rabbitmq-server librabbitmq-dev`.
# Results: build/bench/results.jsonl (raw JSON lines) and a summary on stdout.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${WARREN_SHARED:-$(cd "$repo/.." && pwd)/shared}
rounds=${1:-3}
export SCENARIOS=${SCENARIOS:-transient fanout latency}
out=$repo/build/bench
mkdir -p "$out"
results=$out/results-$(date +%Y%m%d-%H%M%S).jsonl

"$repo/scripts/build.sh" release >/dev/null
export AMQPBENCH_BIN=${AMQPBENCH_BIN:-/tmp/amqpbench/amqpbench}
mkdir -p "$(dirname "$AMQPBENCH_BIN")"
[ -x "$AMQPBENCH_BIN" ] || "$shared/amqpbench/build.sh" >/dev/null

"$shared/amqpbench/brokers.sh" start rabbitmq
"$repo/build/release/broker/warren" --bind 127.0.0.1 --amqp-port 5680 --http-port 0 --metrics-port 0 \
  --data-dir "$out/data" --log-level warning >"$out/warren.stdout" 2>"$out/warren.log" &
warren_pid=$!
trap 'kill $warren_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "warren ready" "$out/warren.stdout" 2>/dev/null && break; sleep 0.1; done

for r in $(seq "$rounds"); do
  TAG=rep$r "$shared/amqpbench/run.sh" 127.0.0.1 5674 rabbitmq "$results"
  TAG=rep$r BROKER_PID=$warren_pid "$shared/amqpbench/run.sh" 127.0.0.1 5680 warren "$results"
done
"$shared/amqpbench/brokers.sh" stop rabbitmq || true

python3 - "$results" <<'PY'
import json, statistics, sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("variant"):
        continue
    rows[(d["scenario"], d["label"])].append(d)
def med(ds, k):
    v = [d.get(k) for d in ds if d.get(k) is not None]
    return statistics.median(v) if v else None
print("%-12s %-9s %12s %12s %10s %10s %6s %6s" % ("scenario", "broker", "publish/s", "deliver/s", "p50 us", "p99 us", "errors", "ooo"))
for (sc, label), ds in sorted(rows.items()):
    print("%-12s %-9s %12s %12s %10s %10s %6s %6s" % (sc, label, med(ds, "publish_rate"), med(ds, "consume_rate"),
          med(ds, "lat_p50_us"), med(ds, "lat_p99_us"), sum(d.get("errors", 0) or 0 for d in ds),
          sum(d.get("out_of_order", 0) or 0 for d in ds)))
scs = sorted({sc for sc, _ in rows})
for sc in scs:
    w, r = rows.get((sc, "warren")), rows.get((sc, "rabbitmq"))
    if w and r and med(r, "consume_rate"):
        print("%s: warren/rabbitmq delivered ratio %.2f" % (sc, med(w, "consume_rate") / med(r, "consume_rate")))
PY
echo "raw results: $results"
