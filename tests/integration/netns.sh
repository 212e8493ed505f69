# Sourced by the network tests (net.sh, net_ns.sh) after lib.sh: skips
# without what they need, then creates a network namespace $ns holding a
# tap $tap (MTU 9000, up, IPv6 off, no address), and removes both at exit
# together with the background processes listed in $pids. Nothing outside
# the namespace is touched. in_ns CMD... runs CMD in it (for a background
# command whose pid matters, call ip netns exec directly: a function in
# the background runs in a subshell).
need_kvm
[ -c /dev/net/tun ] || skip "/dev/net/tun is absent"
command -v python3 >/dev/null || skip "python3 is needed for the host side"
command -v ip >/dev/null || skip "ip (iproute2) is needed"
ns=${NS_PREFIX:-ktnet}$$
tap=$ns
ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace (CAP_SYS_ADMIN missing?)"
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; ip netns del "$ns" 2>/dev/null; rm -rf "$TMP"' EXIT
in_ns() { ip netns exec "$ns" "$@"; }
in_ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
in_ns ip link set lo up
in_ns ip tuntap add dev "$tap" mode tap || skip "cannot create a tap in the namespace"
in_ns ip link set "$tap" mtu 9000 up || fail "ip link set $tap mtu 9000 up"
