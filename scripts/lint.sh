#!/usr/bin/env bash
# Checks formatting (clang-format) and, given a configured build, runs
# clang-tidy with the repository's .clang-tidy.
# Usage: scripts/lint.sh [--tidy BUILD_DIR|auto] [FILE...]
#   With no FILE, checks every C++ file under sdk core host plugins tests examples bench.
#   --tidy BUILD_DIR  also runs clang-tidy (needs BUILD_DIR/compile_commands.json);
#                     slow, so pass the files you changed.
#   --tidy auto       the same on a compile database of its own (build/tidy,
#                     configured, never built) without precompiled headers:
#                     clang-tidy cannot read GCC's, so this is the way to
#                     check the tests, which use them.
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

if [ "$build_dir" = "auto" ]; then
  build_dir=build/tidy
  echo "lint: configuring $build_dir (compile database only, no precompiled headers)"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON -DCMAKE_UNITY_BUILD=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
  # GCC-only options clang's driver refuses outright (not a warning to silence).
  sed -i 's/ -fno-gnu-unique//g' "$build_dir/compile_commands.json"
fi

if [ -n "$build_dir" ]; then
  if [ ! -f "$build_dir/compile_commands.json" ]; then
    echo "lint: $build_dir/compile_commands.json is missing; configure that build first" >&2
    exit 1
  fi
  mapfile -t sources < <(printf '%s\n' "${files[@]}" | grep -E '\.(cc|cpp)$' || true)
  echo "lint: clang-tidy on ${#sources[@]} files"
  # One file per clang-tidy, as many at once as there are cores. The build
  # uses GCC-only warning flags; clang-tidy must not trip over them.
  failed=$(printf '%s\0' "${sources[@]}" |
    xargs -0 -P "$(nproc)" -I{} sh -c 'clang-tidy --quiet -p "$1" \
      --extra-arg=-Wno-unknown-warning-option --warnings-as-errors="*" "$2" >&2 ||
      echo failed' _ "$build_dir" {} | wc -l)
  if [ "$failed" -ne 0 ]; then
    echo "lint: clang-tidy found problems in $failed file(s)" >&2
    exit 1
  fi
fi
echo "lint: clean"
