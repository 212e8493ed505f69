#!/bin/bash
# virtio-net against the kernel of a network namespace this test creates
# (and removes): inside it a tap with 10.0.2.1/24, and kite itself (ip
# netns exec), so no address outside the namespace is ever used. The
# polling CPL-3 guest (net_ip_guest.bin, 10.0.2.2) ARPs for 10.0.2.1 and
# gets the namespace kernel's reply, pings it and checks the reply's IP and
# ICMP checksums and payload, then resets and re-activates the device three
# times (GUEST_CSUM on, off, on) and asks a UDP responder in the namespace
# (net_ns.py) for a datagram each time: it must come with a partial
# checksum exactly when GUEST_CSUM was accepted, i.e. kite set the tap's
# offloads again at each DRIVER_OK and cleared them at each reset.
# Then the rate limiter: --net mtu=9000,rx-bps=B,tx-bps=B for five bucket
# sizes B: the guest moves 4 x B bytes each way in 9000-byte frames (few
# frames for the host's Python to send on a busy machine) as fast as it is
# let, 32 queued at a time; the host
# takes the kernel's timestamps of the frames at the tap and computes
# (bytes - B) / (last - first), which a bucket that starts full and refills
# at B per second keeps at or under B: it must be within 15% of B.
. "$(dirname "$0")/lib.sh"
NS_PREFIX=ktns
. "$(dirname "$0")/netns.sh"
in_ns ip addr add 10.0.2.1/24 dev "$tap" || fail "ip addr add in the namespace"
guest=(run --debug-exit --image "$GUEST_DIR/net_ip_guest.bin" --mode long-user --load 0x100000)
wait_file() { for _ in $(seq 100); do [ -e "$1" ] && return; sleep 0.05; done; }

# --- ARP, ICMP, and offloads across resets ---
ip netns exec "$ns" python3 "$(dirname "$0")/net_ns.py" udp "$TMP/ready" >"$TMP/udp.out" 2>&1 &
upid=$!
pids+=($upid)
wait_file "$TMP/ready"
timeout -k 5 40 ip netns exec "$ns" "$KITE" "${guest[@]}" \
	--net "tap=$tap,mac=02:00:00:00:00:01" </dev/null >"$TMP/g.out" 2>"$TMP/g.err"
rc=$?
cat "$TMP/g.out"
if [ $rc -eq 0 ]; then ok "guest: exit 0"; else
	fail "guest: exit $rc; $(grep FAIL "$TMP/g.out"); stderr: $(head -c 600 "$TMP/g.err")"
fi
expect_guest() {
	if grep -qx -- "$1" "$TMP/g.out"; then ok "guest: '$1'"; else fail "guest: no line '$1'"; fi
}
mac=$(in_ns cat "/sys/class/net/$tap/address" | tr -d :)
expect_guest "arp reply from 10.0.2.1 mac $mac"
expect_guest "icmp echo reply from 10.0.2.1: 56 bytes, checksums ok"
expect_guest "udp 1: full checksum ok"
expect_guest "udp 2: partial checksum (start 34 offset 6), completed ok"
expect_guest "udp 3: full checksum ok"
expect_guest "udp 4: partial checksum (start 34 offset 6), completed ok"
expect_guest "OK net-ns"
kill $upid
wait $upid 2>/dev/null
grep -q "answered b'go 4'" "$TMP/udp.out" && ok "the namespace's responder answered" ||
	fail "responder: $(head -c 300 "$TMP/udp.out")"

# --- the rate limiter, five bucket sizes each way ---
for bps in 200000 400000 800000 1600000 3200000; do
	rm -f "$TMP/ready"
	ip netns exec "$ns" python3 "$(dirname "$0")/net_ns.py" rate "$tap" "$bps" "$TMP/ready" >"$TMP/r.out" 2>&1 &
	hpid=$!
	pids+=($hpid)
	wait_file "$TMP/ready"
	timeout -k 5 30 ip netns exec "$ns" "$KITE" "${guest[@]}" --reg rdi=1 --reg rsi=$bps \
		--net "tap=$tap,mac=02:00:00:00:00:01,mtu=9000,rx-bps=$bps,tx-bps=$bps" </dev/null \
		>"$TMP/rg.out" 2>"$TMP/rg.err" &
	kpid=$!
	pids+=($kpid)
	wait $hpid # measured, or failed to
	for _ in $(seq 50); do kill -0 $kpid 2>/dev/null || break; sleep 0.1; done
	kill -KILL $kpid 2>/dev/null
	wait $kpid
	rc=$?
	[ $rc -eq 0 ] || fail "rate $bps: guest exit $rc: $(grep FAIL "$TMP/rg.out") $(head -c 300 "$TMP/rg.err")"
	for dir in tx rx; do
		got=$(sed -n "s/^$dir \([0-9]*\) B\/s$/\1/p" "$TMP/r.out")
		if [ -z "$got" ]; then
			fail "$dir-bps=$bps: no measurement: $(cat "$TMP/r.out")"
		elif [ $((got * 100)) -ge $((bps * 85)) ] && [ $((got * 100)) -le $((bps * 115)) ]; then
			ok "$dir-bps=$bps: measured $got B/s ($((got * 1000 / bps)) per mille)"
		else
			fail "$dir-bps=$bps: measured $got B/s, not within 15%"
		fi
	done
done
finish
