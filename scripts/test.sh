#!/usr/bin/env bash
# The README's second command: installs what is needed, builds, and runs the
# whole test suite, then again under AddressSanitizer and UBSan.
# Set SCALEOUT_SKIP_ASAN=1 to skip the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

bash scripts/setup-debian.sh
echo "== build (RelWithDebInfo)"
bash scripts/build.sh default
echo "== test (RelWithDebInfo)"
ctest --preset default

if [ "${SCALEOUT_SKIP_ASAN:-0}" != "1" ]; then
  echo "== build (ASan + UBSan)"
  bash scripts/build.sh asan
  echo "== test (ASan + UBSan)"
  ctest --preset asan
fi
echo "== all tests passed in $(( $(date +%s) - start ))s"
