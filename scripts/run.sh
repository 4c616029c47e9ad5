#!/usr/bin/env bash
# Install dependencies, build the release preset and run the broker in the foreground.
#
#   scripts/run.sh [warren flags...]     # e.g. scripts/run.sh --amqp-port 5673 --data-dir /tmp/w
#
# With no flags Warren uses its built-in defaults (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
exec build/release/broker/warren "$@"
