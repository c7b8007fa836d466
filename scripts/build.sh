#!/usr/bin/env bash
# Configures and builds one CMake preset (default: "default").
# Usage: scripts/build.sh [preset]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-default}
jobs=${SCALEOUT_JOBS:-$(nproc)}
# ccache hits across clones: paths under the source tree are made relative.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(pwd)}"
# Depend mode hashes the compiler's own dependency list, so a cache miss (a
# fresh CI machine) costs one compile instead of a preprocessor run plus one.
export CCACHE_DEPEND="${CCACHE_DEPEND:-1}"
# The tests share a precompiled header (unoptimized builds); ccache caches those sources only
# with this sloppiness.
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
