#!/bin/sh
# At a node, before and after its suites: what a node health check reads,
# one tab-separated line each, every line starting with "preflight".
#   preflight kernel RELEASE | preflight taint MASK
#   preflight device NAME FIRMWARE | preflight port NAME PORT STATE PHYS_STATE RATE
# Reads /sys and /proc only; takes no arguments.
tab=$(printf '\t')
read_one() { head -n 1 "$1" 2>/dev/null; }
echo "preflight${tab}kernel${tab}$(uname -r)"
echo "preflight${tab}taint${tab}$(read_one /proc/sys/kernel/tainted)"
for dev in /sys/class/infiniband/*; do
	[ -d "$dev" ] || continue
	name=${dev##*/}
	echo "preflight${tab}device${tab}${name}${tab}$(read_one "$dev/fw_ver")"
	for port in "$dev"/ports/*; do
		[ -d "$port" ] || continue
		echo "preflight${tab}port${tab}${name}${tab}${port##*/}${tab}$(read_one "$port/state")${tab}$(read_one "$port/phys_state")${tab}$(read_one "$port/rate")"
	done
done
