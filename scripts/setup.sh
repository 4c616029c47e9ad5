#!/usr/bin/env bash
# Install everything Warren needs to build and test, from Debian's packages (and npm for the Node
# interop tests). Idempotent: when everything is installed it only runs dpkg-query and returns.
#
#   scripts/setup.sh
#
# Runs apt-get as root, or through sudo when not root. Never replaces a working `node`: nodejs/npm
# are installed from Debian only when the `node` / `npm` commands are missing.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(
  # build
  build-essential cmake ninja-build
  libboost1.81-dev libboost-program-options1.81-dev nlohmann-json3-dev libfmt-dev
  catch2 librocksdb-dev amqp-specs clang-format
  libssl-dev  # libcrypto: password hashes in RabbitMQ's format (admin API, users)
  # Python interop tests (no PyPI: Debian's pika / kombu / pytest)
  python3 python3-pika python3-kombu python3-pytest
  # C client tools and library (amqp-publish, amqp-consume, librabbitmq)
  amqp-tools librabbitmq-dev
  # peers: amqp091-go's own integration tests; socat forwards :5672 for amqplib's tests
  socat golang-go golang-github-rabbitmq-amqp091-go-dev golang-uber-goleak-dev
)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ $status == ii* ]] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "setup: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node interop tests (tests/interop/node), when that folder exists. Skipped when node_modules is
# already newer than package.json and the lock file.
node_dir=$REPO/tests/interop/node
if [ -f "$node_dir/package.json" ]; then
  stamp=$node_dir/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ "$node_dir/package.json" -nt "$stamp" ] ||
     { [ -f "$node_dir/package-lock.json" ] && [ "$node_dir/package-lock.json" -nt "$stamp" ]; }; then
    echo "setup: npm install in tests/interop/node"
    npm_flags=(--prefix "$node_dir" --no-audit --no-fund --loglevel=error)
    if [ -f "$node_dir/package-lock.json" ]; then
      npm ci "${npm_flags[@]}" >/dev/null
    else
      npm install "${npm_flags[@]}" >/dev/null
    fi
  fi
fi
