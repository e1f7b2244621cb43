#!/bin/sh
# rdmagate perftest sweep, run inside lab guests (see perf/perftest_run.py).
#   sh perftest_jobs.sh OUT_DIR JOBS_FILE ADDRESS [both|server|client]
# JOBS_FILE has one job a line: NAME PORT LIMIT_S TOOL ARG... (plain words,
# written by perftest_run.py). Nothing read is ever evaluated: the words are
# split with globbing off and passed as argv.
#
# Role "both" (one guest, the default): for each job the server runs in the
# background, the client against ADDRESS once the server listens. Roles
# "server" and "client" split that over two guests that share OUT_DIR: the
# server's guest says when it listens and when its server ended through
# files in OUT_DIR/sync/, the client's guest waits for them (the caller
# removes sync/ after the run).
#
# Outputs land in OUT_DIR/NAME.server.txt and .client.txt, the exit statuses
# in OUT_DIR/status.txt ("NAME CLIENT SERVER"), tool versions in
# OUT_DIR/versions.txt (those two written by the client's side). A job whose
# perftest could not calibrate its clock is tried again (see MAX_TRIES).
# Exit 0 when every job was tried, whatever its result.
set -f
out="$1"
jobs="$2"
address="$3"
role="${4:-both}"
case "$role" in both | server | client) ;; *) role="" ;; esac
if [ ! -d "$out" ] || [ ! -f "$jobs" ] || [ -z "$address" ] || [ -z "$role" ]; then
	echo "perftest: usage: perftest_jobs.sh OUT_DIR JOBS_FILE ADDRESS [both|server|client]" >&2
	exit 2
fi
sync="$out/sync"
mkdir -p "$sync" || exit 2
if [ "$role" != server ]; then
	: > "$out/status.txt" || exit 2
	: > "$out/versions.txt" || exit 2
	# The stack's package version: its changelog is under the stack's own /usr.
	changelog=/usr/share/doc/perftest/changelog.Debian.gz
	if [ -f "$changelog" ]; then
		echo "package $(gzip -dc "$changelog" | head -n 1)" >> "$out/versions.txt"
	fi
fi

# true once something listens on TCP port $1 (/proc/net/tcp{,6}: hex port,
# state 0A), so the client is not started before the server is ready.
listening() {
	hex=$(printf '%04X' "$1")
	grep -q ":$hex [0-9A-F:]* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# waits up to $2 tenths of a second for file $1; false if it never came
wait_for() {
	waited=0
	until [ -f "$1" ]; do
		[ "$waited" -ge "$2" ] && return 1
		sleep 0.1
		waited=$((waited + 1))
	done
}

# start_server PORT ARG...: the server of job $name in the background, and
# back once it listens (or died)
start_server() {
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
}

# finish_server GRACE: the server ends by itself after a test; it gets GRACE
# tenths of a second before it is stopped. Sets server_status.
finish_server() {
	waited=0
	while kill -0 "$server" 2>/dev/null && [ "$waited" -lt "$1" ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	kill "$server" 2>/dev/null
	wait "$server"
	server_status=$?
}

# run_client PORT ARG...: the client of job $name against $address. Sets client.
run_client() {
	job_port="$1"
	shift
	if [ -n "$json" ]; then
		timeout "$limit" "$tool" "$@" -p "$job_port" --out_json "$json" "$address" \
			> "$out/$name.client.txt" 2>&1 < /dev/null
	else
		timeout "$limit" "$tool" "$@" -p "$job_port" "$address" \
			> "$out/$name.client.txt" 2>&1 < /dev/null
	fi
	client=$?
}

# One try of job $name on port $1 in this guest's role; the client's side
# leaves client and server_status set.
run_try() {
	case "$role" in
	both)
		start_server "$@"
		run_client "$@"
		# less grace when the client failed: the server may wait for a peer
		# that never comes
		if [ "$client" -eq 0 ]; then finish_server 100; else finish_server 20; fi
		;;
	server)
		start_server "$@"
		touch "$sync/$name.$try.ready"
		finish_server "$((limit * 10))"
		echo "$server_status" > "$sync/$name.$try.server"
		;;
	client)
		client=125
		server_status=125
		if ! wait_for "$sync/$name.$try.ready" "$((limit * 10))"; then
			echo "perftest: $name: the server's guest never said it listens" > "$out/$name.client.txt"
			return
		fi
		run_client "$@"
		if wait_for "$sync/$name.$try.server" "$((limit * 10 + 150))"; then
			read -r server_status < "$sync/$name.$try.server"
		fi
		;;
	esac
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
	case "$seen:$role" in
	*" $tool "*:* | *:server) ;;
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
	# as NAME.tryN.*. The client's side decides, and tells the server's.
	try=1
	while :; do
		# a fresh port each try: the last one's may still be in TIME_WAIT
		run_try "$((port + (try - 1) * 1000))" "$@"
		if [ "$role" = server ]; then
			wait_for "$sync/$name.$try.next" "$((limit * 10 + 300))" || break
			grep -q again "$sync/$name.$try.next" || break
			try=$((try + 1))
			continue
		fi
		if [ "$try" -ge "$MAX_TRIES" ] || ! grep -q "^Correlation coefficient" "$out/$name.client.txt"; then
			echo "done" > "$sync/$name.$try.next"
			break
		fi
		for kept in client.txt server.txt client.json; do
			if [ -f "$out/$name.$kept" ]; then mv "$out/$name.$kept" "$out/$name.try$try.$kept"; fi
		done
		echo again > "$sync/$name.$try.next"
		echo "perftest: $name: perftest could not calibrate its clock (busy host); trying again"
		try=$((try + 1))
	done
	if [ "$role" != server ]; then
		echo "$name $client $server_status" >> "$out/status.txt"
		echo "perftest: $name client $client server $server_status"
	fi
done 3< "$jobs"
exit 0
