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
