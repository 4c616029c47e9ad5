#!/usr/bin/env bash
# Install everything Warren needs to build and test, from Debian's packages (and npm for the Node
# interop tests, the web console and its end-to-end tests), and build the web console. Idempotent: when everything is installed it only runs dpkg-query and returns.
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
  # the web console's end-to-end tests (tests/e2e) drive Debian's chromium with playwright-core
  chromium
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

# npm_ci DIR: install DIR's node_modules from its lock file, skipped when node_modules is already
# newer than package.json and the lock file.
npm_ci() {
  local dir=$1 stamp=$1/node_modules/.package-lock.json
  [ -f "$dir/package.json" ] || return 0
  if [ ! -f "$stamp" ] || [ "$dir/package.json" -nt "$stamp" ] ||
     { [ -f "$dir/package-lock.json" ] && [ "$dir/package-lock.json" -nt "$stamp" ]; }; then
    echo "setup: npm install in ${dir#"$REPO"/}"
    local npm_flags=(--prefix "$dir" --no-audit --no-fund --loglevel=error)
    if [ -f "$dir/package-lock.json" ]; then
      npm ci "${npm_flags[@]}" >/dev/null
    else
      npm install "${npm_flags[@]}" >/dev/null
    fi
  fi
}

# Node interop tests (tests/interop/node) and the console's end-to-end tests (tests/e2e).
npm_ci "$REPO/tests/interop/node"
npm_ci "$REPO/tests/e2e"

# The web console (admin-ui/): built into admin-ui/dist, which the broker serves. Rebuilt only
# when a source file is newer than the built index.html.
ui=$REPO/admin-ui
if [ -f "$ui/package.json" ]; then
  npm_ci "$ui"
  built=$ui/dist/index.html
  if [ ! -f "$built" ] || [ -n "$(find "$ui/src" "$ui/index.html" "$ui/package.json" \
       "$ui/package-lock.json" "$ui/vite.config.ts" "$ui/tsconfig.json" -newer "$built" 2>/dev/null |
       head -n 1)" ]; then
    echo "setup: building the web console (admin-ui)"
    npm --prefix "$ui" run build --silent >/dev/null
  fi
fi

# Debian's rabbitmqadmin (a Python script shipped in the rabbitmq-server package) for the admin
# API's tests (tests/interop/python/test_rabbitmqadmin.py), taken out of the package without
# installing it: no Erlang, no service. Skipped when one is installed already.
tools=$REPO/build/tools
if [ ! -x "$tools/rabbitmqadmin" ] && ! command -v rabbitmqadmin >/dev/null 2>&1; then
  deb_dir=$(mktemp -d)
  if (cd "$deb_dir" && apt-get download rabbitmq-server >/dev/null 2>&1) &&
     dpkg-deb -x "$deb_dir"/rabbitmq-server_*.deb "$deb_dir/root"; then
    mkdir -p "$tools"
    install -m 755 "$deb_dir/root/usr/bin/rabbitmqadmin" "$tools/rabbitmqadmin"
  else
    echo "setup: warning: could not fetch Debian's rabbitmq-server package for rabbitmqadmin" >&2
  fi
  rm -rf "$deb_dir"
fi
