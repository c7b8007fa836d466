#!/usr/bin/env bash
# The README's first command: installs what is needed, builds, and runs the
# main job. Until the master and worker land, the main job is the host
# showing the plugins it can load.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
bash scripts/build.sh default
echo "== $(./build/default/bin/scaleout --version)"
echo "== plugins found by the host"
./build/default/bin/scaleout plugins list
