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
dir=$(mktemp -d /tmp/rdmagate-profile.XXXXXX) || exit 2
mkfifo "$dir/ctl" "$dir/ack" || exit 2
export RDMAGATE_PROFILE_DIR="$dir" RDMAGATE_PROFILE_REPORT="$report"
export RDMAGATE_PERF_CONTROL="$dir/ctl" RDMAGATE_PERF_ACK="$dir/ack"
# perf walks /lib/modules/RELEASE (about 4,700 entries) at start; on the lab's
# 9p root under the instruction clock that walk took 200 s of a 210 s
# profile. An empty tmpfs over it, in a mount namespace of this run only,
# leaves module symbols to /proc/kallsyms (rdma_rxe's among them).
# shellcheck disable=SC2016 # expanded by the inner shell
profile='
	release=$(uname -r)
	if [ "$RDMAGATE_PROFILE_PRIVATE" = 1 ] && [ -d "/lib/modules/$release" ]; then
		mount -t tmpfs -o size=1m none "/lib/modules/$release"
	fi
	dir=$RDMAGATE_PROFILE_DIR
	report=$RDMAGATE_PROFILE_REPORT
	perf record -q -B -N -e cpu-clock -F 20000 -a -D -1 --control "fifo:$dir/ctl,$dir/ack" \
		-o "$dir/perf.data" -- "$@" || exit
	perf report -i "$dir/perf.data" --stdio --no-children --sort dso,sym \
		--percent-limit 0.01 > "$report" 2> "$report.err" ||
		echo "unattributed: perf report failed (see $report.err)" > "$report"'
if unshare -m true 2> /dev/null; then
	RDMAGATE_PROFILE_PRIVATE=1 unshare -m sh -c "$profile" sh "$@"
else   # no private mounts here: the module tree stays, and perf walks it
	RDMAGATE_PROFILE_PRIVATE=0 sh -c "$profile" sh "$@"
fi
status=$?
rm -rf "$dir"
exit "$status"
