#!/bin/sh
echo "ok on attempt ${SCALEOUT_ATTEMPT}"
