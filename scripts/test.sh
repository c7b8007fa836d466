#!/usr/bin/env bash
# The README's second command: installs what is needed, builds, and runs the
# whole test suite, then again under AddressSanitizer and UBSan.
# Set SCALEOUT_SKIP_ASAN=1 to skip the sanitizer pass. CI (.ci/run) runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
phase_start=$start

phase() {  # prints how long the previous phase took, then the next phase's name
  local now
  now=$(date +%s)
  if [ "$now" -gt "$phase_start" ]; then echo "   ($(( now - phase_start ))s)"; fi
  phase_start=$now
  echo "== $*"
}

bash scripts/setup-debian.sh
phase "format check (clang-format, .clang-format)"
git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror
phase "build (RelWithDebInfo)"
bash scripts/build.sh default
phase "test (RelWithDebInfo)"
ctest --preset default

if [ "${SCALEOUT_SKIP_ASAN:-0}" != "1" ]; then
  phase "build (ASan + UBSan)"
  bash scripts/build.sh asan
  phase "test (ASan + UBSan)"
  ctest --preset asan
fi
phase "all tests passed in $(( $(date +%s) - start ))s"
if command -v ccache >/dev/null; then ccache --show-stats 2>/dev/null | grep -iE 'hit|miss' | head -3 || true; fi
