#!/bin/sh
# One rdmagate-perf run under `perf record`, sampling its timed loop only
# (see perf/attribute.py), at the target; the profile stays in /tmp (the
# lab guest's tmpfs: a profile written to a 9p share profiled 9p's writes).
#   sh profile_job.sh REPORT rdmagate-perf ARG...
# Writes REPORT, perf report's table of samples per DSO and symbol, or a
# line "unattributed: WHY" when this root has no perf. The exit status is
# rdmagate-perf's (5 when there is no perf here).
set -f
report="$1"
shift
if [ -z "$report" ] || [ "$#" -eq 0 ]; then
	echo "profile: usage: profile_job.sh REPORT rdmagate-perf ARG..." >&2
	exit 2
fi
if ! command -v perf > /dev/null 2>&1; then
	echo "unattributed: no perf (linux-perf) in this root" > "$report"
	exit 5
fi
# perf walks /lib/modules/RELEASE (about 4,700 entries) at start; on the lab's
# 9p root under the instruction clock that walk took 200 s of a 210 s
# profile. So the script runs again in a mount namespace of its own, with an
# empty tmpfs there: module symbols come from /proc/kallsyms (rdma_rxe's
# among them). Where there are no private mounts, perf walks the tree.
if [ -z "$RDMAGATE_PROFILE_PRIVATE" ] && unshare -m true 2> /dev/null; then
	RDMAGATE_PROFILE_PRIVATE=1 exec unshare -m sh "$0" "$report" "$@"
fi
release=$(uname -r)
if [ "$RDMAGATE_PROFILE_PRIVATE" = 1 ] && [ -d "/lib/modules/$release" ]; then
	mount -t tmpfs -o size=1m none "/lib/modules/$release"
fi
dir=$(mktemp -d /tmp/rdmagate-profile.XXXXXX) || exit 2
mkfifo "$dir/ctl" "$dir/ack" || exit 2
RDMAGATE_PERF_CONTROL="$dir/ctl" RDMAGATE_PERF_ACK="$dir/ack" \
	perf record -q -B -N -e cpu-clock -F 20000 -a -D -1 --control "fifo:$dir/ctl,$dir/ack" \
	-o "$dir/perf.data" -- "$@"
status=$?
if [ "$status" -eq 0 ]; then
	perf report -i "$dir/perf.data" --stdio --no-children --sort dso,sym \
		--percent-limit 0.01 > "$report" 2> "$report.err" ||
		echo "unattributed: perf report failed (see $report.err)" > "$report"
fi
rm -rf "$dir"
exit "$status"
