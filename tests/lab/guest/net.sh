#!/bin/sh
# net: virtio-net under a real Linux driver, against a tap in L1 (hooks/net-*.sh drive the
# L1 side while the guest runs). eth0 must be bound to virtio_net with the MAC and MTU
# kite was given (kite.expect_mac=, kite.expect_mtu=); the guest takes kite.net_ip=,
# pings kite.net_peer= 5 times with 0% loss (kite.net_ping_size= bytes each, default 56),
# then prints KITE-NET-UP and waits for L1's 5 pings (/proc/net/snmp InEchos). With kite.net_mib=N (default 0: none) it
# also receives N MiB from L1 on TCP port 5002 (busybox nc) and checks their sha256
# against kite.net_rxsha= (L1's file), then sends N MiB of its own to L1's port 5001 and
# prints their sha256 (KITE-NET-TX-SHA), which the L1 hook checks.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
ip=$(kite_arg net_ip) || fail "no kite.net_ip= on the command line"
peer=$(kite_arg net_peer) || fail "no kite.net_peer= on the command line"
mib=$(kite_arg net_mib) || mib=0
psize=$(kite_arg net_ping_size) || psize=56
d=/sys/class/net/eth0
[ -d $d ] || fail "no eth0 (interfaces: $(ls /sys/class/net | tr '\n' ' '))"
drv=$(readlink $d/device/driver)
drv=${drv##*/}
[ "$drv" = virtio_net ] || fail "eth0's driver is '$drv', not virtio_net"
mac=$(cat $d/address)
mtu=$(cat $d/mtu)
echo "KITE-NET-GUEST eth0 driver=$drv mac=$mac mtu=$mtu"
if want=$(kite_arg expect_mac); then
	[ "$mac" = "$want" ] || fail "eth0 MAC $mac, kite was given $want"
fi
if want=$(kite_arg expect_mtu); then
	[ "$mtu" = "$want" ] || fail "eth0 MTU $mtu, kite was given $want"
fi
net_up "$ip"
ping -c 5 -i 0.2 -W 10 -s "$psize" "$peer" >/tmp/ping.out 2>&1
prc=$?
sed 's/^/KITE-NET-PING /' /tmp/ping.out
grep -q ' 0% packet loss' /tmp/ping.out || fail "ping $peer (size $psize): $(grep 'packet loss' /tmp/ping.out || echo "status $prc")"

rxpid=""
if [ "$mib" -gt 0 ]; then
	want_rx=$(kite_arg net_rxsha) || fail "kite.net_mib=$mib without kite.net_rxsha="
	dd if=/dev/urandom of=/tmp/tx bs=1048576 count="$mib" 2>/dev/null || fail "dd of $mib MiB to /tmp/tx failed"
	echo "KITE-NET-TX-SHA $(sha256sum /tmp/tx | cut -d' ' -f1)"
	# The receiver's stdin never ends (a FIFO opened read-write): busybox nc half-closes
	# when its stdin ends, and the sender would then stop early.
	mkfifo /tmp/hold
	nc -l -p 5002 <>/tmp/hold >/tmp/rx &
	rxpid=$!
fi
echo "KITE-NET-UP $ip"
# L1 now pings us 5 times (hooks/net-lib.sh): wait for them before going on or ending.
echos() { awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InEchos") c = i; h = 1 } else print $c }' /proc/net/snmp; }
n=0
until [ "$(echos)" -ge 5 ]; do
	n=$((n + 1))
	[ $n -le 300 ] || fail "L1's 5 pings did not arrive within 60 s ($(echos) echo requests seen)"
	sleep 0.2
done
echo "KITE-NET-ECHOS $(echos) echo requests from L1 answered"
[ -n "$rxpid" ] || pass "eth0 $mac mtu $mtu, ping $peer 0% loss, L1's pings answered"

wait $rxpid
got=$(sha256sum /tmp/rx | cut -d' ' -f1)
size=$(wc -c </tmp/rx)
echo "KITE-NET-RX-SHA $got bytes=$size"
[ "$got" = "$want_rx" ] || fail "received $size bytes from L1 with sha256 $got, L1 sent $want_rx"
rm -f /tmp/rx
t=0
until nc "$peer" 5001 </tmp/tx; do
	t=$((t + 1))
	[ $t -lt 10 ] || fail "sending $mib MiB to $peer:5001 failed 10 times"
	sleep 1
done
echo "KITE-NET-TX-DONE"
pass "eth0 $mac mtu $mtu, ping 0% loss, $mib MiB received (sha256 ok) and sent"
