#!/bin/sh
# net_bench: the guest of the lab's virtio-net benchmark (bench/lab-net.sh), the same under
# kite and under QEMU microvm. Configures eth0 (kite.net_ip=, peer kite.net_peer= in L1,
# where `netbench server 5201` runs), then: kite.nb_pings= (default 20) pings 0.2 s apart
# after 2 untimed ones (RTT), and bench/guest/netbench's jobs against L1: tx and rx of
# kite.nb_mib= MiB (default 32) and kite.nb_rr= (default 1000) 1-byte round trips.
# Prints KITE-NETBENCH lines (job=ping|tx|rx|rr ...), then the result.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
dmesg -n 1
ip=$(kite_arg net_ip) || fail "no kite.net_ip="
peer=$(kite_arg net_peer) || fail "no kite.net_peer="
mib=$(kite_arg nb_mib) || mib=32
rr=$(kite_arg nb_rr) || rr=1000
pings=$(kite_arg nb_pings) || pings=20
net_up "$ip"
ping -c 2 -W 10 "$peer" >/dev/null 2>&1 || fail "no answer from $peer"
out=$(ping -q -c "$pings" -i 0.2 -W 10 "$peer" 2>&1)
# busybox: "N packets transmitted, M packets received, L% packet loss" and
# "round-trip min/avg/max = a/b/c ms"
loss=$(echo "$out" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
rtt=$(echo "$out" | sed -n 's#.*min/avg/max = \([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\) ms.*#min_ms=\1 avg_ms=\2 max_ms=\3#p')
echo "KITE-NETBENCH job=ping count=$pings loss_pct=${loss:-?} $rtt"
netbench tx "$peer" 5201 $((mib * 1048576)) || fail "netbench tx failed"
netbench rx "$peer" 5201 $((mib * 1048576)) || fail "netbench rx failed"
netbench rr "$peer" 5201 "$rr" || fail "netbench rr failed"
pass "ping, tx, rx and rr jobs done"
