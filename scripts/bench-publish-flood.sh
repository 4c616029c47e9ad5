#!/usr/bin/env bash
# Memory under a publish flood (docs/BENCHMARKS.md): starts the release broker with a 256 MB
# memory watermark on a fresh data dir, has one warren-perf producer publish 2,000,000 x 1 KiB
# with no confirms and no consumer, and prints what was accepted, the publish rate, the broker's
# peak RSS (sampled every 200 ms) and the queue's in-memory / paged-out split.
#
#   scripts/bench-publish-flood.sh [--persistent]      # extra arguments go to warren-perf
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${WARREN_BIN:-$REPO/build/release/broker/warren}
PERF=${WARREN_PERF:-$REPO/build/release/client/perf/warren-perf}
WATERMARK=${WATERMARK:-268435456}
MESSAGES=${MESSAGES:-2000000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/warren-flood.XXXXXX")
"$BIN" --bind 127.0.0.1 --amqp-port 0 --http-port 0 --metrics-port 0 --data-dir "$dir/data" \
  --memory-high-watermark "$WATERMARK" --log-level warning >"$dir/stdout" 2>"$dir/broker.log" &
pid=$!
for _ in $(seq 300); do grep -q '^warren ready' "$dir/stdout" && break; sleep 0.1; done
line=$(grep -m1 '^warren ready' "$dir/stdout") || { echo "broker did not start"; exit 1; }
amqp=$(sed -n 's/.* amqp=\([^ ]*\).*/\1/p' <<<"$line")
http=$(sed -n 's/.* http=\([^ ]*\).*/\1/p' <<<"$line")
(peak=0; while kill -0 "$pid" 2>/dev/null; do
   r=$(awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null)
   [ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" >"$dir/peak"
   sleep 0.2
 done) &
"$PERF" --uri "amqp://guest:guest@$amqp/" --consumers 0 --size 1024 --messages "$MESSAGES" \
  --duration 300 --keep --json --quiet "$@" | tail -n 1 |
  python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print("published", d["published"], "publish msg/s", d["publish_rate"], d.get("error", ""))'
echo "peak RSS MB $(($(cat "$dir/peak") / 1024)), memory alarms raised: $(grep -c 'memory alarm:' "$dir/broker.log")"
curl -s -u guest:guest "http://$http/api/queues" | python3 -c 'import json,sys
for q in json.load(sys.stdin): print(q["name"], "messages", q["messages"], "in memory", q["messages_ready_ram"], "paged out", q["messages_paged_out"])'
kill "$pid"; wait "$pid" 2>/dev/null
rm -rf "$dir"
