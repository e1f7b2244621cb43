#!/bin/sh
# rdmagate perftest sweep, run inside one lab guest (see perftest_run.py).
#   sh perftest_guest.sh OUT_DIR JOBS_FILE ADDRESS
# JOBS_FILE has one job a line: NAME PORT LIMIT_S TOOL ARG... (plain words,
# written by perftest_run.py). Nothing read is ever evaluated: the words are
# split with globbing off and passed as argv. For each job the server runs in
# the background, the client against ADDRESS once the server listens; both
# outputs land in OUT_DIR/NAME.server.txt and .client.txt, the exit statuses
# in OUT_DIR/status.txt ("NAME CLIENT SERVER"). A job whose perftest could
# not calibrate its clock is tried again (see MAX_TRIES). Tool versions go to
# OUT_DIR/versions.txt. Exit 0 when every job was tried, whatever its result.
set -f
out="$1"
jobs="$2"
address="$3"
if [ ! -d "$out" ] || [ ! -f "$jobs" ] || [ -z "$address" ]; then
	echo "perftest: usage: perftest_guest.sh OUT_DIR JOBS_FILE ADDRESS" >&2
	exit 2
fi
: > "$out/status.txt" || exit 2
: > "$out/versions.txt" || exit 2

# The stack's package version: its changelog is under the stack's own /usr.
changelog=/usr/share/doc/perftest/changelog.Debian.gz
if [ -f "$changelog" ]; then
	echo "package $(gzip -dc "$changelog" | head -n 1)" >> "$out/versions.txt"
fi

# true once something listens on TCP port $1 (/proc/net/tcp{,6}: hex port,
# state 0A), so the client is not started before the server is ready.
listening() {
	hex=$(printf '%04X' "$1")
	grep -q ":$hex [0-9A-F:]* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# One try of the job $name (globals: out, address, json, limit, tool):
#   run_job PORT ARG...  sets client and server_status.
run_job() {
	job_port="$1"
	shift
	timeout "$limit" "$tool" "$@" -p "$job_port" > "$out/$name.server.txt" 2>&1 < /dev/null &
	server=$!
	waited=0
	until listening "$job_port" || [ "$waited" -ge 200 ]; do
		kill -0 "$server" 2>/dev/null || break     # the server died: no use waiting
		sleep 0.1
		waited=$((waited + 1))
	done
	if [ -n "$json" ]; then
		timeout "$limit" "$tool" "$@" -p "$job_port" --out_json "$json" "$address" \
			> "$out/$name.client.txt" 2>&1 < /dev/null
	else
		timeout "$limit" "$tool" "$@" -p "$job_port" "$address" \
			> "$out/$name.client.txt" 2>&1 < /dev/null
	fi
	client=$?
	# The server ends by itself after a test; give it time, less when the
	# client failed (the server may wait for a peer that never comes).
	grace=100
	[ "$client" -eq 0 ] || grace=20
	waited=0
	while kill -0 "$server" 2>/dev/null && [ "$waited" -lt "$grace" ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	kill "$server" 2>/dev/null
	wait "$server"
	server_status=$?
}

MAX_TRIES=3
seen=" "
while read -r name port limit tool args <&3; do
	# NAME names files in OUT_DIR: no '/'; PORT and LIMIT are numbers
	case "$name:$port:$limit" in
	:* | *::* | *: | *[!A-Za-z0-9_.:-]* | *:*[!0-9:]*)
		echo "perftest: skipping a malformed job line" >&2
		continue
		;;
	esac
	case "$tool" in
	ib_*[!a-z_]* | ib_) echo "perftest: $name: not a perftest tool: $tool" >&2; continue ;;
	ib_*) ;;
	*) echo "perftest: $name: not a perftest tool: $tool" >&2; continue ;;
	esac
	case "$seen" in
	*" $tool "*) ;;
	*)
		echo "$tool $("$tool" --version 2>&1 < /dev/null | head -n 1)" >> "$out/versions.txt"
		seen="$seen$tool "
		;;
	esac
	# The JSON report where this version has it (4.5 and later); the results
	# table on stdout is kept in any case.
	json=""
	if "$tool" --help 2>&1 < /dev/null | grep -q -- '--out_json_file'; then
		json="--out_json_file=$out/$name.client.json"
	fi
	# split into words on purpose; set -f above keeps '*' a plain word
	# shellcheck disable=SC2086
	set -- $args
	# perftest calibrates its clock against gettimeofday whenever it reports;
	# on a busy host (TCG) the fit can fail ("Correlation coefficient r^2:
	# ... < 0.9") and the figures printed after it are zeros. Such a job runs
	# again, at most MAX_TRIES times; the outputs of earlier tries are kept
	# as NAME.tryN.*.
	try=1
	while :; do
		# a fresh port each try: the last one's may still be in TIME_WAIT
		run_job "$((port + (try - 1) * 1000))" "$@"
		if [ "$try" -ge "$MAX_TRIES" ] || ! grep -q "^Correlation coefficient" "$out/$name.client.txt"; then
			break
		fi
		for kept in client.txt server.txt client.json; do
			if [ -f "$out/$name.$kept" ]; then mv "$out/$name.$kept" "$out/$name.try$try.$kept"; fi
		done
		echo "perftest: $name: perftest could not calibrate its clock (busy host); trying again"
		try=$((try + 1))
	done
	echo "$name $client $server_status" >> "$out/status.txt"
	echo "perftest: $name client $client server $server_status"
done 3< "$jobs"
exit 0
