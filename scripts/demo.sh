#!/usr/bin/env bash
# The README's first command: installs what is needed, builds, and runs the
# main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh default
echo "== plugins found by the host"
./build/default/bin/scaleout plugins list
