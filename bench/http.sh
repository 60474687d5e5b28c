#!/bin/bash
# http.sh: TorowithFileSystem against nginx (a benchmark, not a test).
#
# The same files (make image's tree), the same client (wrk), two servers:
#   toro   build/posix/bin/TorowithFileSystem on a TAP (--net tap), our
#          stack, the files in ToroFiles.img, its access log on
#   nginx  Debian's nginx, one worker, access_log on, sendfile on, the
#          files from the host's disk (build/ToroFiles/web), over a veth
# each in a network namespace of this script's own (bench/netns.bash); the
# servers share one host CPU (taskset), wrk has the other. Rounds are
# interleaved so that the machine's load hits both alike; each figure is
# the best of the rounds, and the ratio is toro / nginx.
#   rps       index.html (1 KiB), keep-alive, 50 connections: requests/s, p99
#   mib       large.txt (1 MiB), keep-alive, 4 connections: MB/s
#   cpr       index.html, a new connection per request: requests/s
# Then scaling: both servers on 1 and on 2 CPUs (TorowithFileSystem
# --cpus N with a TAP queue each, nginx with N workers), both host CPUs
# theirs, wrk with 2 threads unpinned: rps and cpr, the median of the
# rounds, and 2 CPUs / 1 CPU for each server. On a 2-core machine wrk and
# Linux's half of every connection share the cores with the servers.
#   bench/http.sh [ROUNDS] [SECONDS]    (default 3 rounds of 5 s; root;
#                                       TORO_BIN=DIR: another build's server;
#                                       ROWS="mib rps": only those rows, no
#                                       scaling unless it is named)
cd "$(dirname "$0")/.." || exit 1
source bench/netns.bash
ROUNDS=${1:-3}
SECS=${2:-5}
OUT=build/bench
BIN=${TORO_BIN:-build/posix/bin}     # another build's binaries, to compare
ROWS=" ${ROWS:-rps mib cpr scaling} "
wants() { [[ $ROWS == *" $1 "* ]]; }
command -v wrk >/dev/null && command -v nginx >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		wrk nginx-light >/dev/null ||
	{ echo "$0: needs wrk and nginx (apt-get install wrk nginx-light)" >&2; exit 1; }

make -s posix >/dev/null || exit 1
mkdir -p $OUT
# Room for every round's access log: a full disk would stop toro's logging
# (counted, not fatal) and make the race unequal.
make -s image IMAGE=$OUT/web.img IMAGE_SIZE=1024M >/dev/null 2>&1 || exit 1
ROOT=$(pwd)/build/ToroFiles/web

netns_setup
tap_make tbtap
stop_in() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null)
	[ -n "$pids" ] || return 0
	kill -INT $pids 2>/dev/null
	while [ -n "$(ip netns pids "$1" 2>/dev/null)" ]; do sleep 0.1; done
}
trap 'stop_in "$NS_CLI"; stop_in "$NS_SRV"; netns_cleanup' EXIT

# start_servers CPUS: TorowithFileSystem on CPUS CPUs and nginx with CPUS
# workers, on host CPU 1 alone (CPUS 1) or on both.
start_servers() {
	local pin=1
	[ "$1" -gt 1 ] && pin=0-1
	stop_in "$NS_CLI"
	stop_in "$NS_SRV"
	in_cli timeout 1800 taskset -c $pin $BIN/TorowithFileSystem --cpus "$1" --quiet \
		--disk $OUT/web.img --net tap:tbtap,mq${TORO_TAP_OPTS-,tso} ip=$TORO_IP/24 \
		--log-max 100000000 >$OUT/toroweb.log 2>&1 &
	wait_port $TORO_IP 80 || exit 1
	NGINX_WORKERS=$1
	cat >$OUT/nginx.conf <<CONF
	user root;
	worker_processes $NGINX_WORKERS;
	pid $(pwd)/$OUT/nginx.pid;
	error_log $(pwd)/$OUT/nginx.error.log;
	events { worker_connections 1024; }
	http {
		access_log $(pwd)/$OUT/nginx.access.log combined;
		sendfile on;
		tcp_nopush on;
		keepalive_requests 1000000;
		types { text/html html; text/plain txt; }
		server { listen $VETH_SRV_IP:80; root $ROOT; }
	}
CONF
	in_srv timeout 1800 taskset -c $pin nginx -c $(pwd)/$OUT/nginx.conf -g 'daemon off;' &
	wait_port $VETH_SRV_IP 80 || exit 1
}
start_servers 1

# wrk_run IP PATH CONNS [HEADER]: "rps MBps p99_us" from wrk's report;
# wrk on host CPU 0 with one thread, or as WRK="taskset -c 0-1 wrk -t 2".
wrk_run() {
	local out
	out=$(in_cli ${WRK:-taskset -c 0 wrk -t 1} -c "$3" -d "${SECS}s" --latency ${4:+-H "$4"} \
		"http://$1$2" 2>&1) || return 1
	awk '
		/Requests\/sec/ { rps = $2 }
		/Transfer\/sec/ { v = $2; u = substr(v, length(v) - 1); v += 0
		                  mb = u == "GB" ? v * 1024 : u == "KB" ? v / 1024 : v }
		/^ +99%/ { l = $2; n = l + 0
		           us = l ~ /us$/ ? n : l ~ /ms$/ ? n * 1000 : n * 1000000 }
		/Socket errors|Non-2xx/ { bad = 1 }
		END { printf "%.0f %.1f %.0f%s\n", rps, mb, us, bad ? " errors" : "" }' <<<"$out"
}

best() { printf '%s\n' "$@" | sort -g | tail -1; }
least() { printf '%s\n' "$@" | sort -g | head -1; }
declare -A v
for r in $(seq "$ROUNDS"); do
	for side in toro nginx; do
		ip=$TORO_IP
		[ $side = nginx ] && ip=$VETH_SRV_IP
		if wants rps; then
			read -r rps _ p99 bad <<<"$(wrk_run $ip /index.html 50)"
			v[$side.rps]+=" $rps" v[$side.p99]+=" $p99"
			[ -n "$bad" ] && echo "$side: socket errors or non-2xx answers (rps)" >&2
		fi
		if wants mib; then
			read -r _ mb _ bad <<<"$(wrk_run $ip /large.txt 4)"
			v[$side.mib]+=" $mb"
		fi
		if wants cpr; then
			read -r cpr _ _ bad <<<"$(wrk_run $ip /index.html 10 'Connection: close')"
			v[$side.cpr]+=" $cpr"
		fi
	done
	line="round $r:"
	for side in toro nginx; do
		line+=" $side"
		wants rps && line+=" ${v[$side.rps]##* } req/s"
		wants mib && line+=" ${v[$side.mib]##* } MB/s"
		wants cpr && line+=" ${v[$side.cpr]##* } conn/s"
		[ $side = toro ] && line+=";"
	done
	echo "$line"
done

row() {   # label unit pick toro-values nginx-values
	local t n
	t=$($3 ${4}) n=$($3 ${5})
	printf '%-34s %10s %10s %7s\n' "$1 ($2)" "$t" "$n" \
		"$(awk -v t="$t" -v n="$n" 'BEGIN { printf "%.2f", n ? t / n : 0 }')"
}
echo
printf '%-34s %10s %10s %7s\n' "best of $ROUNDS, ${SECS} s each" toro nginx ratio
wants rps && row "1 KiB keep-alive, 50 conns" "req/s" best "${v[toro.rps]}" "${v[nginx.rps]}"
wants rps && row "1 KiB keep-alive p99" "us" least "${v[toro.p99]}" "${v[nginx.p99]}"
wants mib && row "1 MiB keep-alive, 4 conns" "MB/s" best "${v[toro.mib]}" "${v[nginx.mib]}"
wants cpr && row "1 KiB, connection per request" "req/s" best "${v[toro.cpr]}" "${v[nginx.cpr]}"
wants scaling || exit 0

# Scaling: 1 CPU then 2 CPUs for both servers, interleaved by round.
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo
for r in $(seq "$ROUNDS"); do
	for cpus in 1 2; do
		start_servers $cpus
		for side in toro nginx; do
			ip=$TORO_IP
			[ $side = nginx ] && ip=$VETH_SRV_IP
			read -r rps _ _ bad <<<"$(WRK="taskset -c 0-1 wrk -t 2" wrk_run $ip /index.html 50)"
			v[$side.rps$cpus]+=" $rps"
			[ -n "$bad" ] && echo "$side: socket errors or non-2xx answers (scaling rps)" >&2
			read -r cpr _ _ bad <<<"$(WRK="taskset -c 0-1 wrk -t 2" wrk_run $ip /index.html 20 'Connection: close')"
			v[$side.cpr$cpus]+=" $cpr"
		done
		echo "scaling round $r, $cpus CPU(s): toro${v[toro.rps$cpus]##* } req/s${v[toro.cpr$cpus]##* } conn/s;" \
			"nginx${v[nginx.rps$cpus]##* } req/s${v[nginx.cpr$cpus]##* } conn/s"
	done
done
echo
printf '%-34s %10s %10s %7s\n' "scaling, median of $ROUNDS" "1 CPU" "2 CPUs" ratio
srow() {   # label values-1 values-2
	local a b
	a=$(median $2) b=$(median $3)
	printf '%-34s %10s %10s %7s\n' "$1" "$a" "$b" \
		"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a ? b / a : 0 }')"
}
srow "toro keep-alive (req/s)" "${v[toro.rps1]}" "${v[toro.rps2]}"
srow "nginx keep-alive (req/s)" "${v[nginx.rps1]}" "${v[nginx.rps2]}"
srow "toro connection per request" "${v[toro.cpr1]}" "${v[toro.cpr2]}"
srow "nginx connection per request" "${v[nginx.cpr1]}" "${v[nginx.cpr2]}"
