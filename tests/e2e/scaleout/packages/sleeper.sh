#!/bin/sh
# Starts a grandchild and waits: stopping the execution must kill both. Their
# pids go to the work folder so a test can check they are gone.
sleep 1000 &
echo $! > "${SCALEOUT_WORK_DIR}/grandchild.pid"
echo $$ > "${SCALEOUT_WORK_DIR}/package.pid"
echo "${SCALEOUT_WORK_DIR}" >> "${SCALEOUT_PARAM_LEDGER:-/dev/null}"
wait
