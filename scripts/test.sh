#!/usr/bin/env bash
# The whole test suite: dependencies, a sanitizer build with its unit tests, the interop tests that
# drive the real broker binary with real clients, then client libraries' own test suites
# (shared/peers) against a release build.
#
#   scripts/test.sh
#
# Stages run in order and every stage runs even when an earlier one failed (a stage whose input is
# missing, e.g. no binary, fails by itself). The closing line counts STAGES, not individual tests:
# "N passed, N failed". Each test runner prints its own per-test counts above it. Exit status is
# non-zero when any stage failed.
#
# Environment knobs:
#   WARREN_TEST_PRESET=asan       preset for the unit and interop tests (asan, tsan or release)
#   WARREN_PEERS_PRESET=release   preset whose binary the peers' suites run against
#   WARREN_TEST_SKIP_PEERS=1      skip the client libraries' own suites
#   WARREN_PYTEST_ARGS="..."      extra pytest arguments, e.g. "-k pika -x"
#
# Nothing here listens on or needs port 5672; only shared/peers/run.sh forwards 5672 to the broker
# for the length of the amqplib run, when 5672 is free.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1
SHARED=$(dirname "$REPO")/shared
PRESET=${WARREN_TEST_PRESET:-asan}
PEERS_PRESET=${WARREN_PEERS_PRESET:-$PRESET}
PYTHON=/usr/bin/python3 # Debian's, which has pika/kombu/pytest (not a pyenv python on PATH)
export PYTHONDONTWRITEBYTECODE=1

stage_names=()
stage_results=()
stage_secs=()

# stage NAME COMMAND... : run a stage, record passed/failed and its duration.
stage() {
  local name=$1 t0=$SECONDS rc
  shift
  echo
  echo "=== stage: $name"
  "$@"
  rc=$?
  stage_names+=("$name")
  stage_secs+=($((SECONDS - t0)))
  if [ $rc -eq 0 ]; then
    stage_results+=(passed)
  else
    stage_results+=(failed)
    echo "=== stage $name FAILED (exit $rc)"
  fi
}

skip() { # NAME REASON
  echo
  echo "=== stage: $1 skipped ($2)"
  stage_names+=("$1")
  stage_secs+=(0)
  stage_results+=(skipped)
}

unit_tests() {
  timeout --kill-after=10 900 ctest --preset "$PRESET" --timeout 300 --no-tests=error
}

# Micro-benchmarks run briefly so they cannot rot (figures: docs/BENCHMARKS.md).
micro_benchmarks() {
  timeout --kill-after=10 300 "$REPO/build/$PRESET/routing/routing_bench" --quick
}

# The code that runs on several threads, under ThreadSanitizer: the broker
# thread and the persister's writer thread (broker_tests' persister cases),
# the stores' concurrent reads (storage_tests), and the routing tables, which
# are documented as safe for concurrent readers.
tsan_tests() {
  cmake --preset tsan >/dev/null &&
    cmake --build --preset tsan --parallel "${WARREN_BUILD_JOBS:-2}" \
      --target routing_tests protocol_tests storage_tests broker_tests &&
    timeout --kill-after=10 600 ctest --preset tsan --timeout 300 --no-tests=error \
      -R '^(routing|protocol|storage|broker)_tests$'
}

python_interop() {
  local bin=$REPO/build/$PRESET/broker/warren rc
  [ -x "$bin" ] || { echo "no broker binary at $bin"; return 1; }
  # shellcheck disable=SC2086
  env -u WARREN_TEST_URL WARREN_BIN="$bin" timeout --kill-after=10 1500 \
    "$PYTHON" -m pytest tests/interop/python -q -ra ${WARREN_PYTEST_ARGS:-}
  rc=$?
  [ $rc -eq 5 ] && echo "pytest collected no tests"
  return $rc
}

node_interop() {
  local bin=$REPO/build/$PRESET/broker/warren
  [ -x "$bin" ] || { echo "no broker binary at $bin"; return 1; }
  env -u WARREN_TEST_URL WARREN_BIN="$bin" timeout --kill-after=10 900 \
    npm --prefix tests/interop/node test
}

# The web console end to end (tests/e2e): playwright-core drives Debian's chromium against the
# real binary, which serves admin-ui/dist (built by setup.sh). Screenshots: build/e2e-artifacts/.
e2e_console() {
  local bin=$REPO/build/$PRESET/broker/warren
  [ -x "$bin" ] || { echo "no broker binary at $bin"; return 1; }
  [ -f "$REPO/admin-ui/dist/index.html" ] || { echo "the console is not built (scripts/setup.sh)"; return 1; }
  env -u WARREN_TEST_URL WARREN_BIN="$bin" timeout --kill-after=10 600 \
    npm --prefix tests/e2e test
}

# peers SUITE: start a warren of its own on an ephemeral port, run shared/peers/run.sh SUITE against
# it, stop it with SIGTERM. Fails when the suite fails or warren does not shut down cleanly.
peers() {
  local suite=$1 bin=$REPO/build/$PEERS_PRESET/broker/warren dir pid line="" rc i addr
  [ -x "$bin" ] || { echo "no broker binary at $bin"; return 1; }
  [ -f "$SHARED/peers/run.sh" ] || { echo "missing $SHARED/peers/run.sh"; return 1; }
  dir=$(mktemp -d "${TMPDIR:-/tmp}/warren-peers-$suite.XXXXXX")
  mkdir -p "$dir/data"
  "$bin" --bind 127.0.0.1 --amqp-port 0 --http-port 0 --metrics-port 0 --data-dir "$dir/data" \
    >"$dir/stdout" 2>"$dir/broker.log" &
  pid=$!
  # Readiness signal: the stdout line "warren ready amqp=HOST:PORT [http=HOST:PORT]".
  for ((i = 0; i < 300; i++)); do
    line=$(grep -m1 '^warren ready' "$dir/stdout" 2>/dev/null) && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ $line != "warren ready"* ]]; then
    echo "warren did not become ready; its log:"
    tail -n 40 "$dir/broker.log"
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
  fi
  addr=$(sed -E 's/.*amqp=([^ ]+).*/\1/' <<<"$line")
  echo "warren (pid $pid) ready on $addr"
  bash "$SHARED/peers/run.sh" "$suite" "amqp://guest:guest@$addr/"
  rc=$?
  local died_during_run=0 brc
  kill -0 "$pid" 2>/dev/null || died_during_run=1
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "warren ignored SIGTERM for 20 s; killing it"
    kill -KILL "$pid"
    rc=1
  fi
  wait "$pid" 2>/dev/null
  brc=$?
  if [ $died_during_run = 1 ]; then
    echo "warren died DURING the $suite run (exit status $brc; >128 means signal N-128)"
    rc=1
  elif [ $brc -ne 0 ]; then
    echo "warren exited with $brc on SIGTERM"
    rc=1
  fi
  if [ $brc -ne 0 ]; then
    echo "last lines of its log:"
    tail -n 40 "$dir/broker.log"
  fi
  if [ $rc -eq 0 ]; then rm -rf "$dir"; else echo "broker log kept in $dir/broker.log"; fi
  return $rc
}

stage setup scripts/setup.sh
stage layering scripts/check-layering.sh
stage "build $PRESET" scripts/build.sh "$PRESET"
stage "unit tests ($PRESET)" unit_tests
stage "micro-benchmarks (quick)" micro_benchmarks
stage "unit tests (tsan)" tsan_tests
stage "python interop ($PRESET)" python_interop
if [ -f tests/interop/node/package.json ]; then
  stage "node interop ($PRESET)" node_interop
else
  skip "node interop" "no tests/interop/node/package.json"
fi
if [ -f tests/e2e/package.json ]; then
  stage "e2e console ($PRESET)" e2e_console
else
  skip "e2e console" "no tests/e2e/package.json"
fi
if [ "${WARREN_TEST_SKIP_PEERS:-0}" = 1 ]; then
  skip "peers" "WARREN_TEST_SKIP_PEERS=1"
else
  [ "$PEERS_PRESET" != "$PRESET" ] && stage "build $PEERS_PRESET" scripts/build.sh "$PEERS_PRESET"
  stage "peers amqp091-go" peers amqp091-go
  stage "peers amqplib" peers amqplib
fi

passed=0 failed=0
echo
echo "=== summary (stages)"
for i in "${!stage_names[@]}"; do
  printf '  %-28s %-8s %5ss\n' "${stage_names[$i]}" "${stage_results[$i]}" "${stage_secs[$i]}"
  case ${stage_results[$i]} in
    passed) passed=$((passed + 1)) ;;
    failed) failed=$((failed + 1)) ;;
  esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
