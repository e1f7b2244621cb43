#!/bin/sh
# rdmagate-perf jobs, run at the target: a lab guest or this host (see perf/native.py).
#   sh native_jobs.sh OUT_DIR JOBS_FILE
# JOBS_FILE has one job a line: NAME WORD... where the words are env's
# argv (KEY=VALUE assignments, then rdmagate-perf and its options), written
# by perf/native.py. Nothing is evaluated: the words are split with globbing off.
# Samples go to OUT_DIR/NAME.txt, exit statuses to OUT_DIR/status.txt.
set -f
out="$1"
jobs="$2"
if [ ! -d "$out" ] || [ ! -f "$jobs" ]; then
	echo "rdmagate-perf: usage: native_jobs.sh OUT_DIR JOBS_FILE" >&2
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
	env "$@" --out "$out/$name.txt" > "$out/$name.log" 2>&1
	echo "$name $?" >> "$out/status.txt"
done 3< "$jobs"
exit 0
