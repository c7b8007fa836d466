#!/bin/sh
echo "failing on attempt ${SCALEOUT_ATTEMPT}" >&2
exit 7
