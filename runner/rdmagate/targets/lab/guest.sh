#!/bin/sh
# rdmagate lab: runs inside the guest's root. Brings up soft-RoCE, runs the
# command (argv from a NUL-separated file, never through a shell), reports.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
shared=/run/rdmagate-lab
# shellcheck disable=SC2013 # the command line is one line of words
for word in $(cat /proc/cmdline); do
	case "$word" in rdmagate.node=*) node="${word#*=}" ;; esac
done
lab="$shared/node$node"
say() { echo "rdmagate-lab: $*"; }
read -r address < "$lab/address"
read -r peer < "$lab/peer"
read -r active_timeout < "$lab/active_timeout"

# crc32 first: rxe asks the crypto layer for it, and the module autoload of
# some kernels cannot reach the chroot's modules (rxe then fails with -2).
modprobe crc32_generic 2>/dev/null
for m in virtio_net rdma_rxe ib_uverbs rdma_ucm; do
	modprobe "$m" || { say "guest error: modprobe $m failed"; exit 125; }
done
ip link set lo up
ip link set eth0 up || { say "guest error: no eth0"; exit 125; }
ip addr add "$address" dev eth0
rdma link add rxe0 type rxe netdev eth0 || { say "guest error: rdma link add failed"; exit 125; }
waited=0
until grep -q ACTIVE /sys/class/infiniband/rxe0/ports/1/state 2>/dev/null; do
	if [ "$waited" -ge "$((active_timeout * 10))" ]; then
		say "guest error: rxe0 port not ACTIVE after ${active_timeout}s"
		exit 125
	fi
	sleep 0.1
	waited=$((waited + 1))
done
say "rxe0 ACTIVE uptime $(cut -d' ' -f1 /proc/uptime)"

export RDMAGATE_LAB_NODE="$node" RDMAGATE_LAB_ADDRESS="${address%/*}" RDMAGATE_PEER="$peer"
cd "$(cat "$lab/cwd")" 2>/dev/null || cd /
run_argv() {
	# perl-base is in every Debian root: it execs the argv as given.
	perl -e 'open(my $f, "<", shift) or exit 127; local $/; my @a = split(/\0/, <$f>);
		exec { $a[0] } @a or do { print STDERR "rdmagate-lab: cannot run $a[0]: $!\n"; exit 127 }' "$1"
}
# TCP sockets listening in this guest (/proc/net/tcp{,6}, state 0A)
listeners() {
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		grep -cE '^ *[0-9]+: [0-9A-F]+:[0-9A-F]+ [0-9A-F]+:[0-9A-F]+ 0A '
}
if [ -f "$lab/server_argv" ]; then
	# node 1 of two: serve until node 2 says it is done. The client starts
	# once the server listens (a fixed second was too short under TCG:
	# "Couldn't connect"), or after 10 s for a server that never listens on TCP.
	before=$(listeners)
	run_argv "$lab/server_argv" &
	server=$!
	waited=0
	while [ "$(listeners)" -le "$before" ] && [ "$waited" -lt 100 ] && kill -0 "$server" 2>/dev/null; do
		sleep 0.1
		waited=$((waited + 1))
	done
	touch "$shared/server.ready"
	until [ -f "$shared/client.done" ]; do sleep 0.2; done
	kill "$server" 2>/dev/null
	wait "$server"
	exit 0
fi
if [ -n "$peer" ]; then
	until [ -f "$shared/server.ready" ]; do sleep 0.2; done
fi
run_argv "$lab/argv"
status=$?
touch "$shared/client.done" 2>/dev/null
exit $status
