#!/bin/sh
# In the guest: load each module, keep what the kernel said, unload it.
# Arguments: OUT NAME=MODULE.ko...; for each, OUT/NAME.rc (insmod's status),
# OUT/NAME.insmod (its output) and OUT/NAME.dmesg (the kernel log after a
# marker written just before the load). Nothing is eval'd.
out=$1
shift
for item in "$@"; do
	name=${item%%=*}
	file=${item#*=}
	echo "rdmagate-kabi: begin $name" >/dev/kmsg
	insmod -- "$file" >"$out/$name.insmod" 2>&1
	echo $? >"$out/$name.rc"
	dmesg >"$out/$name.dmesg" 2>&1 || cat /proc/kmsg >"$out/$name.dmesg"
	if grep -q "^${name} " /proc/modules; then
		rmmod -- "$name" >>"$out/$name.insmod" 2>&1 || echo "rmmod failed: $?" >>"$out/$name.insmod"
	fi
done
