#!/bin/sh
# Fails on its first attempt and succeeds on the next one: run it with
# `--retry 1` to see Scale Out's retry_count at work.
if [ "${SCALEOUT_ATTEMPT:-1}" -lt 2 ]; then
  echo "attempt ${SCALEOUT_ATTEMPT}: simulating a transient failure" >&2
  exit 3
fi
echo "attempt ${SCALEOUT_ATTEMPT}: succeeded"
