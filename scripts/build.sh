#!/usr/bin/env bash
# Configure and build one CMake preset (CMakePresets.json): release (default), asan or tsan.
#
#   scripts/build.sh [PRESET]        # output in build/PRESET/, e.g. build/release/broker/warren
#
# WARREN_BUILD_JOBS overrides the number of parallel jobs (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --parallel "${WARREN_BUILD_JOBS:-2}"
