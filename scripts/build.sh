#!/usr/bin/env bash
# Configures and builds one CMake preset (default: "default").
# Usage: scripts/build.sh [preset]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-default}
jobs=${SCALEOUT_JOBS:-$(nproc)}
# ccache hits across clones: paths under the source tree are made relative.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(pwd)}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
