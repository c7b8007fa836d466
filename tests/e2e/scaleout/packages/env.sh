#!/bin/sh
# What a package finds in its environment (end-to-end tests read it back).
echo "NOTIFY_SOCKET=${NOTIFY_SOCKET:-unset}"
echo "WATCHDOG_USEC=${WATCHDOG_USEC:-unset}"
