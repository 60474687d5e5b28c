#!/bin/bash
# net.sh: our TCP/IP stack against Linux's (a benchmark, not a test).
#
# Same client (bench/netpeer.c), same echo work, two servers:
#   toro   build/posix/bin/ToroEcho on a TAP (--net tap), our stack
#   linux  netpeer serve, Linux's stack, reached over a veth pair
# each in a network namespace of this script's own (bench/netns.bash); the
# servers share one host CPU (taskset), the client has the other. Rounds
# are interleaved so that the machine's load hits both alike; each figure
# is the best of the rounds, and the ratio is toro / linux (above 1: ours
# is faster; for latency, below 1 is better).
#   stream   one connection, MiB echoed, MB/s each way
#   rr       one connection, 64-byte round trips: rate, p50, p99
#   crr      connect, 64 bytes there and back, close: connections/s
# Then scaling: ToroEcho on 1 and on 2 CPUs (a TAP queue each), two crr
# clients at once, unpinned; connections/s of both over the wall time,
# the median of the rounds (1 and 2 CPUs interleaved), and 2 CPUs / 1 CPU.
# On a 2-core machine the clients and Linux's half of every connection
# share the cores with the service: 2x is out of reach there.
#   bench/net.sh [ROUNDS]       (default 3; needs root for ip netns;
#                               TORO_BIN=DIR: ToroEcho from another build)
cd "$(dirname "$0")/.." || exit 1
source bench/netns.bash
ROUNDS=${1:-3}
STREAM_MIB=${STREAM_MIB:-256}
RR_N=${RR_N:-20000}
CRR_N=${CRR_N:-3000}
PORT=7
BIN=${TORO_BIN:-build/posix/bin}     # another build's binaries, to compare

make -s posix >/dev/null || exit 1
PEER=build/bench/netpeer
mkdir -p build/bench
cc -O2 -Wall -Wextra -Werror -pthread -o $PEER bench/netpeer.c || exit 1
netns_setup
tap_make tbtap

# Servers run for at most 30 minutes; stop_in NS ends every process in a
# namespace (the servers are the only ones that last) and waits for them.
stop_in() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null)
	[ -n "$pids" ] || return 0
	kill $pids 2>/dev/null
	while [ -n "$(ip netns pids "$1" 2>/dev/null)" ]; do sleep 0.1; done
}
trap 'stop_in "$NS_CLI"; stop_in "$NS_SRV"; netns_cleanup' EXIT

start_toro() {   # CPUS: on host CPU 1 alone, or on both
	local pin=1
	[ "$1" -gt 1 ] && pin=0-1
	in_cli timeout 1800 taskset -c $pin $BIN/ToroEcho \
		--cpus "$1" --net tap:tbtap,mq${TORO_TAP_OPTS-,tso} ip=$TORO_IP/24 >build/bench/toroecho.log 2>&1 &
	wait_port $TORO_IP $PORT
}
in_srv timeout 1800 taskset -c 1 $PEER serve $PORT 1800 >/dev/null 2>&1 &
wait_port $VETH_SRV_IP $PORT || exit 1

# client MODE IP COUNT: the figure netpeer prints, as "field value" words.
client() { in_cli taskset -c 0 $PEER "$1" "$2" $PORT "$3"; }

best() {   # higher-is-better values... -> the largest
	printf '%s\n' "$@" | sort -g | tail -1
}
least() { printf '%s\n' "$@" | sort -g | head -1; }

start_toro 1 || exit 1
declare -A v
for r in $(seq "$ROUNDS"); do
	for side in toro linux; do
		ip=$TORO_IP
		[ $side = linux ] && ip=$VETH_SRV_IP
		s=$(client stream $ip $STREAM_MIB) || { echo "stream to $side failed" >&2; exit 1; }
		v[$side.stream]+=" $(awk '{print $2}' <<<"$s")"
		s=$(client rr $ip $RR_N) || { echo "rr to $side failed" >&2; exit 1; }
		v[$side.rr]+=" $(awk '{print $2}' <<<"$s" | tr -d /s)"
		v[$side.p50]+=" $(awk '{print $4}' <<<"$s")"
		v[$side.p99]+=" $(awk '{print $7}' <<<"$s")"
		s=$(client crr $ip $CRR_N) || { echo "crr to $side failed" >&2; exit 1; }
		v[$side.crr]+=" $(awk '{print $2}' <<<"$s" | tr -d /s)"
	done
	echo "round $r: toro stream${v[toro.stream]##* } rr${v[toro.rr]##* } crr${v[toro.crr]##* };" \
		"linux stream${v[linux.stream]##* } rr${v[linux.rr]##* } crr${v[linux.crr]##* }"
done

row() {   # label unit pick toro-values linux-values
	local t l
	t=$($3 ${4}) l=$($3 ${5})
	printf '%-22s %12s %12s %8s\n' "$1 ($2)" "$t" "$l" "$(awk -v t="$t" -v l="$l" 'BEGIN { printf "%.2f", t / l }')"
}
echo
printf '%-22s %12s %12s %8s\n' "best of $ROUNDS" toro linux ratio
row "stream" "MB/s" best "${v[toro.stream]}" "${v[linux.stream]}"
row "rr" "per s" best "${v[toro.rr]}" "${v[linux.rr]}"
row "rr p50" "us" least "${v[toro.p50]}" "${v[linux.p50]}"
row "rr p99" "us" least "${v[toro.p99]}" "${v[linux.p99]}"
row "crr" "per s" best "${v[toro.crr]}" "${v[linux.crr]}"

# Scaling: two clients at once against ToroEcho on 1, then 2 CPUs.
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
echo
for r in $(seq "$ROUNDS"); do
	for cpus in 1 2; do
		stop_in "$NS_CLI"
		start_toro $cpus || exit 1
		t0=$(now)
		a=$(in_cli $PEER crr $TORO_IP $PORT $CRR_N & in_cli $PEER crr $TORO_IP $PORT $CRR_N; wait)
		t1=$(now)
		[ "$(grep -c '^crr' <<<"$a")" = 2 ] || { echo "scaling: a crr client failed" >&2; exit 1; }
		v[scale.$cpus]+=" $(awk -v a="$t0" -v b="$t1" -v n="$CRR_N" 'BEGIN { printf "%.0f", 2 * n / (b - a) }')"
	done
	echo "scaling round $r: 1 CPU${v[scale.1]##* } 2 CPUs${v[scale.2]##* } connections/s"
done
one=$(median ${v[scale.1]}) two=$(median ${v[scale.2]})
printf 'ToroEcho, two crr clients, median of %s: 1 CPU %s/s, 2 CPUs %s/s, ratio %s\n' \
	"$ROUNDS" "$one" "$two" "$(awk -v a="$one" -v b="$two" 'BEGIN { printf "%.2f", b / a }')"
