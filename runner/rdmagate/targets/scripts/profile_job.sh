#!/bin/sh
# rdmagate-perf jobs under one `perf record` of the whole system, at the
# target; the profile stays in /tmp (the lab guest's tmpfs: a profile
# written to a 9p share profiled 9p's writes).
#   sh profile_job.sh OUT_DIR JOBS_FILE
# JOBS_FILE is native_jobs.sh's (that script, beside this one, runs them).
# Writes OUT_DIR/samples.txt (perf script: time, address, symbol, DSO of
# each sample) and OUT_DIR/NAME.window (each job's timed loop, on the
# samples' clock; perf/attribute.py keeps the samples inside them), or
# OUT_DIR/why, one line "unattributed: WHY". Exit 0 unless the arguments are
# wrong: what went wrong is in OUT_DIR.
set -f
out="$1"
jobs="$2"
if [ ! -d "$out" ] || [ ! -f "$jobs" ]; then
	echo "profile: usage: profile_job.sh OUT_DIR JOBS_FILE" >&2
	exit 2
fi
if ! command -v perf > /dev/null 2>&1; then
	echo "unattributed: no perf (linux-perf) in this root" > "$out/why"
	exit 0
fi
# perf record walks /lib/modules/RELEASE (about 4,700 entries) at start; on
# the lab's 9p root under the instruction clock that walk took 200 s of a
# 210 s profile. So the recording runs this script again in a mount
# namespace of its own, with an empty tmpfs there: module symbols come from
# /proc/kallsyms (rdma_rxe's among them). perf script runs out here: in that
# namespace it resolved no user-space symbol. Where there are no private
# mounts, perf walks the tree.
if [ -n "$RDMAGATE_PROFILE_DATA" ]; then
	release=$(uname -r)
	if [ "$RDMAGATE_PROFILE_PRIVATE" = 1 ] && [ -d "/lib/modules/$release" ]; then
		mount -t tmpfs -o size=1m none "/lib/modules/$release"
	fi
	# One sample each 50 us of the clock (-c: a fixed period, so a share of
	# the samples is a share of the time), stamped on CLOCK_REALTIME like the
	# windows. Sampling stays on from start to end: turning it off between
	# the timed loops (perf's control FIFO) turned its tracking off too, and
	# the later jobs' samples then had no mappings (no symbol, no library).
	RDMAGATE_PROFILE_WINDOWS=1 exec \
		perf record -q -B -N -k realtime -e cpu-clock -c 50000 -a -o "$RDMAGATE_PROFILE_DATA" \
		-- sh "$(dirname "$0")/native_jobs.sh" "$out" "$jobs" 2> "$out/record.err"
fi
dir=$(mktemp -d /tmp/rdmagate-profile.XXXXXX) || exit 2
if unshare -m true 2> /dev/null; then
	RDMAGATE_PROFILE_DATA="$dir/perf.data" RDMAGATE_PROFILE_PRIVATE=1 unshare -m sh "$0" "$out" "$jobs"
else
	RDMAGATE_PROFILE_DATA="$dir/perf.data" sh "$0" "$out" "$jobs"
fi
status=$?
if [ "$status" -ne 0 ]; then
	echo "unattributed: perf record failed (exit $status; see record.err)" > "$out/why"
elif ! perf script -i "$dir/perf.data" -F time,ip,sym,dso > "$out/samples.txt" \
	2> "$out/script.err"; then
	echo "unattributed: perf script failed (see script.err)" > "$out/why"
fi
rm -rf "$dir"
exit 0
