#!/bin/sh
# In the guest: load each module, keep what the kernel said, unload it.
# Arguments: OUT then KEY NAME FILE per module; for each, OUT/KEY.rc
# (insmod's status), OUT/KEY.insmod (its output) and OUT/KEY.dmesg (the
# kernel log after a marker written just before the load). Nothing is
# eval'd; NAME is compared as a string, never used as a pattern.
# (KMSG and PROC_MODULES are /dev/kmsg and /proc/modules but in tests.)
out=$1
shift
kmsg=${KMSG:-/dev/kmsg}
proc_modules=${PROC_MODULES:-/proc/modules}
while [ $# -ge 3 ]; do
	key=$1
	name=$2
	file=$3
	shift 3
	echo "rdmagate-kabi: begin $key" >"$kmsg"
	insmod -- "$file" >"$out/$key.insmod" 2>&1
	echo $? >"$out/$key.rc"
	dmesg >"$out/$key.dmesg" 2>&1 || cat /proc/kmsg >"$out/$key.dmesg"
	while read -r loaded rest; do
		if [ "$loaded" = "$name" ]; then
			rmmod -- "$name" >>"$out/$key.insmod" 2>&1 ||
				echo "rmmod failed: $?" >>"$out/$key.insmod"
		fi
	done <"$proc_modules"
done
