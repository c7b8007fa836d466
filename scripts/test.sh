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

# The sanitizer build runs beside the tests below, at the lowest CPU
# priority: the end-to-end tests spend most of their time waiting for their
# child processes, and the compiler takes the CPU they leave idle (their own
# processes still come first). Its output goes to a log, shown if it fails.
# setsid gives it a session, and so a scheduler autogroup, of its own; where
# the kernel groups by session (sched_autogroup_enabled), a niceness counts
# only within its group, so the group itself is made nice 19 too (without
# that, the build took half the CPU and the tests ran twice as long).
asan_pid=""
asan_log=build/asan-build.log
stop_asan_build() {  # the whole process group: cmake, ninja and the compilers
  if [ -n "$asan_pid" ]; then kill -- "-$asan_pid" 2>/dev/null || true; fi
}
if [ "${SCALEOUT_SKIP_ASAN:-0}" != "1" ]; then
  mkdir -p build
  asan_start=$(date +%s)
  setsid nice -n 19 bash -c '{ echo 19 >/proc/self/autogroup; } 2>/dev/null
    bash scripts/build.sh asan; echo "asan build: exit $?, $(( $(date +%s) - $1 ))s"' \
    _ "$asan_start" >"$asan_log" 2>&1 &
  asan_pid=$!
  trap stop_asan_build EXIT
fi

phase "test (RelWithDebInfo)"
ctest --preset default

if [ -n "$asan_pid" ]; then
  phase "build (ASan + UBSan), what is left of it"
  wait "$asan_pid" || true
  asan_pid=""
  tail -1 "$asan_log"
  if ! tail -1 "$asan_log" | grep -q "exit 0,"; then
    cat "$asan_log"
    exit 1
  fi
  phase "test (ASan + UBSan)"
  ctest --preset asan
fi
phase "all tests passed in $(( $(date +%s) - start ))s"
if command -v ccache >/dev/null; then ccache --show-stats 2>/dev/null | grep -iE 'hit|miss' | head -3 || true; fi
