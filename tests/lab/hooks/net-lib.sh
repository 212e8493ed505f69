# shellcheck shell=sh
# hooks/net-lib.sh: the L1 side of the virtio-net tests (net-* in tests.txt), sourced by
# their hooks. kite never creates a tap, so `pre` makes one ($LAB/tapctl, static, from
# tests/lab/tools/tapctl.c: busybox ip has no tuntap), sets its MTU and gives it the
# L1 address of a private /24 (L1 is itself isolated under QEMU); `post` removes it. The
# test's cmd is hooks/api-run.sh, whose `drive` phase runs net_drive while kite runs.
# Only inside the lab's L1 (KITE_LAB_TIER=nested) unless KITE_LAB_NET_DIRECT=1: elsewhere
# the tap and its address would be on a real host.
# shellcheck source=tests/lab/hooks/api-lib.sh
. "$LAB/hooks/api-lib.sh"

# net_pre TAP L1_ADDR/24 MTU [MIB]: the tap, up, addressed; with MIB, a file tx.bin of MIB
# MiB for the guest and its sha256 in tx.sha (the cmd puts it on the guest's cmdline).
net_pre() {
	[ "${KITE_LAB_TIER:-}" = nested ] || [ "${KITE_LAB_NET_DIRECT:-}" = 1 ] ||
		skip "creates a tap and addresses it: only inside the lab's L1 (KITE_LAB_NET_DIRECT=1 allows it here)"
	[ -x "$LAB/tapctl" ] || skip "no $LAB/tapctl (cc -static tests/lab/tools/tapctl.c failed at setup)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun where kite runs (tun module)"
	"$LAB/tapctl" del "$1" >/dev/null 2>&1
	"$LAB/tapctl" add "$1" || fail "tapctl add $1 failed"
	ip link set dev "$1" mtu "$3" || fail "ip link set $1 mtu $3 failed"
	ip addr add "$2" dev "$1" || fail "ip addr add $2 dev $1 failed"
	ip link set dev "$1" up || fail "ip link set $1 up failed"
	if [ -n "${4:-}" ]; then
		dd if=/dev/urandom of=tx.bin bs=1048576 count="$4" 2>/dev/null || fail "dd of $4 MiB failed"
		sha tx.bin >tx.sha
	fi
	ok "tap $1 (mtu $3) with $2${4:+, $4 MiB to send}"
}

net_post() {
	"$LAB/tapctl" del "$1" >/dev/null 2>&1
	rm -f tx.bin rx.bin
	ok "tap $1 removed"
}

# net_drive GUEST_IP PING_SIZE [MIB]: while kite runs: with MIB, L1's receiver on port 5001;
# once the guest says KITE-NET-UP, 5 pings of PING_SIZE bytes to it with 0% loss; with MIB,
# tx.bin to the guest's port 5002, then the guest's MIB MiB on port 5001 must have the
# sha256 the guest printed (KITE-NET-TX-SHA).
net_drive() {
	g=$1 psize=$2 mib=${3:-0}
	if [ "$mib" -gt 0 ]; then
		rm -f hold rx.bin
		mkfifo hold
		# stdin never ends (FIFO opened read-write): busybox nc half-closes at stdin's end
		nc -l -p 5001 <>hold >rx.bin &
		rpid=$!
	fi
	wait_line '^KITE-NET-UP' 180
	ping -c 5 -i 0.2 -W 10 -s "$psize" "$g" >ping.out 2>&1
	sed 's/^/KITE-NET-L1-PING /' ping.out
	grep -q ' 0% packet loss' ping.out || dfail "ping from L1 to the guest: $(grep 'packet loss' ping.out || tail -n 1 ping.out)"
	[ "$mib" -gt 0 ] || return 0
	t0=$(date +%s)
	t=0
	until timeout 150 nc "$g" 5002 <tx.bin; do
		t=$((t + 1))
		[ $t -lt 10 ] || dfail "sending $mib MiB to $g:5002 failed 10 times"
		sleep 1
	done
	echo "KITE-NET-L1-SENT $mib MiB in $(($(date +%s) - t0)) s"
	wait_line '^KITE-NET-TX-DONE' 180
	wait "$rpid"
	want=$(grep -a '^KITE-NET-TX-SHA ' "$KITE_OUT" | tr -d '\r' | cut -d' ' -f2)
	got=$(sha rx.bin)
	size=$(wc -c <rx.bin)
	echo "KITE-NET-L1-RX-SHA $got bytes=$size"
	[ "$got" = "$want" ] || dfail "L1 received $size bytes with sha256 $got, the guest sent $want"
	echo "KITE-NET-L1-RX-OK $mib MiB from the guest, sha256 matches"
}
