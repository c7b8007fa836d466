#!/usr/bin/env bash
# Checks formatting (clang-format) and, given a configured build, runs
# clang-tidy with the repository's .clang-tidy.
# Usage: scripts/lint.sh [--tidy BUILD_DIR] [FILE...]
#   With no FILE, checks every C++ file under sdk core host plugins tests examples bench.
#   --tidy BUILD_DIR  also runs clang-tidy (needs BUILD_DIR/compile_commands.json);
#                     slow, so pass the files you changed.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=""
if [ "${1:-}" = "--tidy" ]; then
  build_dir=${2:?"--tidy needs a build folder, e.g. build/default"}
  shift 2
fi

if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files -- sdk core host plugins tests examples bench |
                       grep -E '\.(h|cc|cpp|hpp)$')
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "lint: no files to check"
  exit 0
fi

echo "lint: clang-format on ${#files[@]} files"
clang-format --dry-run -Werror "${files[@]}"

if [ -n "$build_dir" ]; then
  if [ ! -f "$build_dir/compile_commands.json" ]; then
    echo "lint: $build_dir/compile_commands.json is missing; configure that build first" >&2
    exit 1
  fi
  mapfile -t sources < <(printf '%s\n' "${files[@]}" | grep -E '\.(cc|cpp)$' || true)
  echo "lint: clang-tidy on ${#sources[@]} files"
  failed=0
  for f in "${sources[@]}"; do
    # The build uses GCC-only warning flags; clang-tidy must not trip over them.
    clang-tidy --quiet -p "$build_dir" --extra-arg=-Wno-unknown-warning-option \
      --warnings-as-errors="*" "$f" || failed=$((failed + 1))
  done
  if [ "$failed" -ne 0 ]; then
    echo "lint: clang-tidy found problems in $failed file(s)" >&2
    exit 1
  fi
fi
echo "lint: clean"
