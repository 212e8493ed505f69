#!/bin/bash
# virtio-net end to end over a real tap: a polling CPL-3 driver
# (net_guest.bin) with 1 KiB mergeable receive buffers sends frames out of
# the tap (a 2000-byte one over the MTU must be dropped) and receives two
# frames the host writes into the tap through an AF_PACKET socket, one of
# them spanning two buffers (num_buffers 2). The test creates its own tap
# (no address is configured on it) and deletes it.
. "$(dirname "$0")/lib.sh"
need_kvm
[ -c /dev/net/tun ] || skip "/dev/net/tun is absent"
command -v python3 >/dev/null || skip "python3 is needed for the host side"
tap=ktnet$$
ip tuntap add dev "$tap" mode tap 2>/dev/null || skip "cannot create a tap (CAP_NET_ADMIN missing?)"
trap 'ip link del "$tap" 2>/dev/null; rm -rf "$TMP"' EXIT
sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" 2>/dev/null
ip link set "$tap" up || fail "ip link set $tap up"

out=$TMP/net.out
err=$TMP/net.err
python3 "$(dirname "$0")/net_host.py" "$tap" "$TMP/ready" >"$TMP/host.out" 2>&1 &
hpid=$!
for _ in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
timeout -k 5 30 "$KITE" run --debug-exit --image "$GUEST_DIR/net_guest.bin" --mode long-user \
	--load 0x100000 --net "tap=$tap,mac=02:00:00:00:00:01" </dev/null >"$out" 2>"$err"
rc=$?
wait $hpid
hrc=$?
cat "$TMP/host.out"
[ $hrc -eq 0 ] && ok "host saw the guest's frames" || fail "host side: exit $hrc"
if [ "$rc" -eq 0 ]; then ok "guest: exit 0"; else
	fail "guest: exit $rc; guest said: $(grep FAIL "$out" | head -3); stderr: $(head -c 600 "$err")"
fi
expect_host() {
	if grep -qx -- "$1" "$TMP/host.out"; then ok "host: '$1'"; else fail "host: no line '$1'"; fi
}
expect_guest() {
	if grep -qx -- "$1" "$out"; then ok "guest: '$1'"; else fail "guest: no line '$1' in: $(head -c 600 "$out")"; fi
}
expect_host "guest frame tag 1 len 1000"
expect_host "guest frame tag 3 len 60"
if grep -q "tag 2" "$TMP/host.out"; then fail "the oversized frame got out"; else ok "oversized frame dropped"; fi
expect_guest "mac 020000000001 link up"
expect_guest "rx 100 bytes in 1 buffers"
expect_guest "rx 1400 bytes in 2 buffers"
expect_guest "OK net"
finish
