# bench/netns.bash: the private network the network benchmarks run in
# (sourced). Nothing here touches the host's own interfaces: two network
# namespaces made here and removed at exit, joined by a veth pair, and the
# addresses only inside them.
#
#   netns_setup            namespaces $NS_CLI (client side: wrk, and the
#                          TAP that a posix Toro service opens there) and
#                          $NS_SRV (Linux peers: nginx, socat), veth
#                          10.77.0.1 (cli) <-> 10.77.0.2 (srv)
#   in_cli CMD... / in_srv CMD...   run a command inside one of them
#   tap_make IFNAME        a TAP in $NS_CLI with 10.77.1.1/24 on Linux's
#                          side, for a posix Toro service started in
#                          $NS_CLI with --net tap:IFNAME,mq ip=10.77.1.2/24
#                          (multi-queue: a queue per CPU of the service)
# Needs root (ip netns). Every server started here is stopped by the caller.

NS_CLI=toro-bench-cli-$$
NS_SRV=toro-bench-srv-$$
VETH_CLI_IP=10.77.0.1
VETH_SRV_IP=10.77.0.2
TAP_LINUX_IP=10.77.1.1
TORO_IP=10.77.1.2

netns_cleanup() {
	ip netns del "$NS_CLI" 2>/dev/null
	ip netns del "$NS_SRV" 2>/dev/null
}

in_cli() { ip netns exec "$NS_CLI" "$@"; }
in_srv() { ip netns exec "$NS_SRV" "$@"; }

netns_setup() {
	[ "$(id -u)" = 0 ] || { echo "$0: needs root (ip netns)" >&2; exit 1; }
	trap netns_cleanup EXIT
	ip netns add "$NS_CLI" && ip netns add "$NS_SRV" || exit 1
	ip -n "$NS_CLI" link set lo up
	ip -n "$NS_SRV" link set lo up
	ip -n "$NS_CLI" link add veth-cli type veth peer name veth-srv netns "$NS_SRV" || exit 1
	ip -n "$NS_CLI" addr add $VETH_CLI_IP/24 dev veth-cli
	ip -n "$NS_SRV" addr add $VETH_SRV_IP/24 dev veth-srv
	ip -n "$NS_CLI" link set veth-cli up
	ip -n "$NS_SRV" link set veth-srv up
	# Clients close first in crr: their TIME-WAITs (a minute each) would
	# fill the default 28k ports and slow every later connect, so that a
	# row's figure depended on the rows before it. Reuse after 1 s
	# (timestamps make it safe, RFC 6191) and the whole port range.
	ip netns exec "$NS_CLI" sysctl -qw net.ipv4.tcp_tw_reuse=1 \
		net.ipv4.ip_local_port_range="1024 65535"
}

tap_make() {
	ip -n "$NS_CLI" tuntap add dev "$1" mode tap multi_queue &&
	ip -n "$NS_CLI" addr add $TAP_LINUX_IP/24 dev "$1" &&
	ip -n "$NS_CLI" link set "$1" up
}

# wait_port IP PORT: until a TCP connect from $NS_CLI succeeds (10 s at most).
wait_port() {
	local i
	for i in $(seq 100); do
		in_cli bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$0: nothing answers on $1:$2" >&2
	return 1
}
