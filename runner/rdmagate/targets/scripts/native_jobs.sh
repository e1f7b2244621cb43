#!/bin/sh
# rdmagate-perf jobs, run at the target: a lab guest or this host (see perf/native.py).
#   sh native_jobs.sh OUT_DIR JOBS_FILE [PROFILE_SCRIPT]
# JOBS_FILE has one job a line: NAME WORD... where the words are env's
# argv (KEY=VALUE assignments, then rdmagate-perf and its options), written
# by perf/native.py. Nothing is evaluated: the words are split with globbing off.
# Samples go to OUT_DIR/NAME.txt, exit statuses to OUT_DIR/status.txt.
# With RDMAGATE_PROFILE_WINDOWS=1 (profile_job.sh), each job's timed loop
# says when it ran in OUT_DIR/NAME.window (rdmagate-perf's RDMAGATE_PERF_WINDOW).
# With PROFILE_SCRIPT, the measured jobs done, it says so (OUT_DIR/measured)
# and waits in the same boot for the host to read every side's runs and
# write OUT_DIR/profile.jobs: the jobs to profile, or nothing. Then
#   sh PROFILE_SCRIPT OUT_DIR/profiles OUT_DIR/profile.jobs
set -f
out="$1"
jobs="$2"
profile="$3"
if [ ! -d "$out" ] || [ ! -f "$jobs" ]; then
	echo "rdmagate-perf: usage: native_jobs.sh OUT_DIR JOBS_FILE [PROFILE_SCRIPT]" >&2
	exit 2
fi
: > "$out/status.txt" || exit 2
while read -r name words <&3; do
	case "$name" in
	"" | *[!A-Za-z0-9_.-]*)
		echo "rdmagate-perf: skipping a malformed job line" >&2
		continue ;;
	esac
	# shellcheck disable=SC2086 # the words are argv, split on purpose
	set -- $words
	[ "$RDMAGATE_PROFILE_WINDOWS" != 1 ] || export RDMAGATE_PERF_WINDOW="$out/$name.window"
	env "$@" --out "$out/$name.txt" > "$out/$name.log" 2>&1
	echo "$name $?" >> "$out/status.txt"
done 3< "$jobs"
[ -n "$profile" ] || exit 0
: > "$out/measured" || exit 2
# The host renames the file into place whole. On the instruction clock an
# idle guest's clock runs ahead at once, so each second here costs the host
# only the look itself; the host's run timeout bounds the wait.
until [ -e "$out/profile.jobs" ]; do
	sleep 1
done
[ -s "$out/profile.jobs" ] || exit 0
mkdir -p "$out/profiles" || exit 2
sh "$profile" "$out/profiles" "$out/profile.jobs"
exit 0
