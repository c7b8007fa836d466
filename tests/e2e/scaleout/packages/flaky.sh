#!/bin/sh
# Fails on the first attempt, succeeds on every later one.
if [ "${SCALEOUT_ATTEMPT:-1}" -lt 2 ]; then exit 3; fi
echo "succeeded on attempt ${SCALEOUT_ATTEMPT}"
