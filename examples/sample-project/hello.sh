#!/bin/sh
# Prints a greeting built from the project parameter Greeting and the package
# parameter Name, and where it ran.
echo "${SCALEOUT_PARAM_GREETING:-Hello}, ${SCALEOUT_PARAM_NAME:-world}!"
echo "execution ${SCALEOUT_EXECUTION_ID}, attempt ${SCALEOUT_ATTEMPT}, on $(hostname)"
