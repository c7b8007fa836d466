#!/bin/sh
# Appends "<execution> <attempt> start|end <ns>" to the ledger file named by
# the LEDGER parameter, sleeping SECONDS in between, so a test can check that
# no two attempts of one execution ever overlap.
ledger="${SCALEOUT_PARAM_LEDGER:?LEDGER parameter missing}"
echo "${SCALEOUT_EXECUTION_ID} ${SCALEOUT_ATTEMPT} start $(date +%s%N)" >> "$ledger"
sleep "${SCALEOUT_PARAM_SECONDS:-1}"
echo "${SCALEOUT_EXECUTION_ID} ${SCALEOUT_ATTEMPT} end $(date +%s%N)" >> "$ledger"
