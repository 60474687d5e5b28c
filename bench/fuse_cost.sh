#!/usr/bin/env bash
# bench/fuse_cost.sh: what one FUSE request costs torofuse, in counts that
# a loaded machine does not blur as it blurs wall time (bench/fuse.sh's
# ratios move by a third between runs of the same binary on a busy 2-core
# host). Not a test.
# On a fresh image, for untar, cp -a and rm -r of bench/fuse_tree.py's
# tree, with the daemon's counters read by perf stat during each step:
#   requests   replies written (writev, or io_uring_enter through torofuse's
#              io_uring queues; FORGET, which has none, is left out)
#   per request: the daemon's system calls, its reads of /dev/fuse (the
#              ones beyond 1 found it empty), epoll waits and sched_yields
#              (idle polling), host context switches, daemon CPU and the
#              client's CPU in microseconds
# Usage: bench/fuse_cost.sh [FILES]   (root, perf, fusermount3)
#   FILES 3000. BENCH_FS=ext3: an image with a journal. TF=PATH: another
#   torofuse binary (with its options after it: TF="PATH -o cpus=1").
set -u
cd "$(dirname "$0")/.." || exit 1
FILES=${1:-3000}
TF=${TF:-build/posix/bin/torofuse}
source bench/fuse_lib.bash
fuse_bench_start cost
fuse_bench_uring
command -v perf >/dev/null || { echo "perf is missing"; exit 1; }

python3 bench/fuse_tree.py "$FILES" >"$W/tree.tar" || exit 1
mke2fs -q -F -t "${BENCH_FS:-ext2}" -b 4096 -N $((4 * FILES + 16384)) "$W/img" 4G >/dev/null
# shellcheck disable=SC2086  # TF may carry options
$TF "$W/img" "$MNT" || exit 1
PID=$(pgrep -n -f "$W/img")

EVENTS=task-clock,raw_syscalls:sys_enter,sched:sched_switch
for s in writev io_uring_enter read epoll_pwait2 sched_yield; do EVENTS+=,syscalls:sys_enter_$s; done

# count STEP COMMAND...: run COMMAND (then sync the mount) under perf, the
# client's CPU from its own perf stat; print one row.
count() {
	local step=$1
	shift
	perf stat -x, -e "$EVENTS" -p "$PID" -o "$W/daemon" &
	local perf=$!
	sleep 0.5                   # perf attaches to every thread first
	perf stat -x, -e task-clock -o "$W/client" -- "$@"
	sync "$MNT"
	kill -INT $perf
	wait $perf
	awk -F, -v step="$step" '
		FILENAME ~ /client$/ && $3 == "task-clock" { client = $1 }
		FILENAME ~ /daemon$/ { v[$3] = $1 }
		END {
			n = v["syscalls:sys_enter_writev"] + v["syscalls:sys_enter_io_uring_enter"]
			if (n == 0) { print step ": no requests"; exit }
			printf "%-6s %9d %9.2f %9.2f %9.2f %9.2f %9.2f %9.1f %9.1f\n", step, n,
				v["raw_syscalls:sys_enter"] / n, v["syscalls:sys_enter_read"] / n,
				v["syscalls:sys_enter_epoll_pwait2"] / n,
				v["syscalls:sys_enter_sched_yield"] / n, v["sched:sched_switch"] / n,
				v["task-clock"] * 1000 / n, client * 1000 / n
		}' "$W/client" "$W/daemon"
}

echo "tree: $FILES files, ${BENCH_FS:-ext2}, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %9s %9s %9s %9s %9s %9s %9s %9s\n' step requests syscalls reads \
	epoll yields switches 'cpu us' 'client us'
count untar tar -C "$MNT" -xf "$W/tree.tar"
count cp cp -a "$MNT/tree" "$MNT/copy"
count rm rm -r "$MNT/tree" "$MNT/copy"
fusermount3 -u "$MNT"
flock "$W/img" true
