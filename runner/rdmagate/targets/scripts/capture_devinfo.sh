#!/bin/sh
# In the guest (or here): record what the device reports of itself, then run
# the harness. Arguments: OUTPUT DEVICE -- HARNESS-ARGV...; nothing is eval'd.
out=$1
device=$2
shift 3
ibv_devinfo -v -d "$device" >"$out" 2>&1 || echo "ibv_devinfo failed: $?" >>"$out"
exec "$@"
