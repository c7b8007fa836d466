#!/usr/bin/env bash
# The README's first command: installs what is needed, builds, and runs the
# main job: a master and two workers on loopback running the sample project
# (scripts/run-main-job.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh default
echo "== $(./build/default/bin/scaleout --version)"
echo "== plugins found by the host"
./build/default/bin/scaleout plugins list
bash scripts/run-main-job.sh build/default
