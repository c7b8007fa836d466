#!/bin/sh
# A little real work: checksums a generated file in the task's work folder.
set -e
head -c 1048576 /dev/urandom > "${SCALEOUT_WORK_DIR}/data.bin"
sha256sum "${SCALEOUT_WORK_DIR}/data.bin"
