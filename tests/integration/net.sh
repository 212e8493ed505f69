#!/bin/bash
# virtio-net end to end over a real tap: a polling CPL-3 driver
# (net_guest.bin) with 1 KiB mergeable receive buffers sends frames out of
# the tap (a 9100-byte one, over --net mtu=9000, must be dropped) and
# receives three frames the host writes into the tap through an AF_PACKET
# socket, of 100, 1400 and 9000 bytes, spanning 1, 2 and 9 buffers
# (num_buffers). A guest that posts no receive buffers while the host floods
# the tap: kite's event loop must stay idle (it stops watching a tap it
# cannot deliver from). A guest that echoes frames is snapshotted through
# the API, killed and restored in a new kite, which opens the tap by the
# name the snapshot recorded and echoes on. The test creates a network
# namespace with its own tap in it (no address is configured on the tap)
# and runs kite and the host side there (ip netns exec); removing the
# namespace removes the tap.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

out=$TMP/net.out
err=$TMP/net.err
ip netns exec "$ns" python3 "$(dirname "$0")/net_host.py" "$tap" "$TMP/ready" >"$TMP/host.out" 2>&1 &
hpid=$!
for _ in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
timeout -k 5 30 ip netns exec "$ns" "$KITE" run --debug-exit --image "$GUEST_DIR/net_guest.bin" --mode long-user \
	--load 0x100000 --net "tap=$tap,mac=02:00:00:00:00:01,mtu=9000" </dev/null >"$out" 2>"$err"
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
expect_guest "rx 9000 bytes in 9 buffers"
expect_guest "OK net"

# --- a starved receive queue under a flood ---
host_flood() {
	rm -f "$TMP/ready"
	ip netns exec "$ns" python3 "$(dirname "$0")/net_host.py" "$tap" "$TMP/ready" flood "$TMP/f.pid" >"$TMP/f.host" 2>&1 &
	hpid=$!
	for _ in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
	ip netns exec "$ns" "$KITE" run --debug-exit --image "$GUEST_DIR/net_guest.bin" --mode long-user --load 0x100000 \
		--reg rdi=2 --net "tap=$tap,mac=02:00:00:00:00:01" </dev/null >"$TMP/f.out" 2>"$TMP/f.err" &
	fpid=$!
	pids+=("$fpid")
	echo "$fpid" >"$TMP/f.pid"
	wait $hpid
	frc=$?
	kill -KILL "$fpid"
	wait "$fpid" 2>/dev/null
}
host_flood
cat "$TMP/f.host"
loop_ms=$(sed -n 's/.*event loop cpu \([0-9]*\) ms.*/\1/p' "$TMP/f.host")
rest_ms=$(sed -n 's/.*all threads but the vCPUs \([0-9]*\) ms.*/\1/p' "$TMP/f.host")
vcpu_ms=$(sed -n 's/.*the spinning vCPU \([0-9]*\) ms.*/\1/p' "$TMP/f.host")
if [ "$frc" -ne 0 ] || [ -z "$loop_ms" ] || [ -z "$rest_ms" ] || [ -z "$vcpu_ms" ]; then
	fail "flood: $(cat "$TMP/f.host"); guest: $(head -c 200 "$TMP/f.out")"
elif [ "$vcpu_ms" -lt 20 ]; then
	# The guest spins all along: a vCPU that used no CPU means the
	# figures were read from the wrong process.
	fail "flood: the spinning vCPU used $vcpu_ms ms: not kite's threads?"
elif [ "$loop_ms" -le 100 ] && [ "$rest_ms" -le 150 ]; then
	ok "starved queue under a flood: event loop used $loop_ms ms, all but the vCPUs $rest_ms ms"
else
	fail "starved queue under a flood: event loop $loop_ms ms, all but the vCPUs $rest_ms ms (busy loop?)"
fi

# --- snapshot and restore of a guest that echoes ---
host() { # host NAME [echo TAG]: the host side, until it is listening
	rm -f "$TMP/ready"
	ip netns exec "$ns" python3 "$(dirname "$0")/net_host.py" "$tap" "$TMP/ready" "${@:2}" >"$TMP/$1.host" 2>&1 &
	hpid=$!
	for _ in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
}
api() { # api METHOD PATH BODY: sets $code
	code=$(curl -sS --max-time 30 --unix-socket "$TMP/api.sock" -o /dev/null -w '%{http_code}' \
		-X "$1" "http://localhost$2" -H 'Content-Type: application/json' -d "$3")
}
if ! command -v curl >/dev/null; then
	echo "curl is absent: snapshot part skipped"
	finish
fi
host a
ip netns exec "$ns" "$KITE" run --api-sock "$TMP/api.sock" --debug-exit --image "$GUEST_DIR/net_guest.bin" \
	--mode long-user --load 0x100000 --reg rdi=1 --net "tap=$tap,mac=02:00:00:00:00:01" \
	</dev/null >"$TMP/a.out" 2>"$TMP/a.err" &
kpid=$!
pids+=("$kpid")
wait $hpid && ok "snapshot run: first exchange" || fail "snapshot run: first exchange: $(cat "$TMP/a.host")"
host b echo 5
wait $hpid && ok "echo before the snapshot" || fail "no echo before the snapshot: $(cat "$TMP/b.host"); $(head -c 300 "$TMP/a.err")"
api PATCH /vm '{"state": "Paused"}'
[ "$code" = 204 ] || fail "pause: HTTP $code"
api PUT /snapshot/create "{\"snapshot_path\": \"$TMP/n.snap\", \"mem_file_path\": \"$TMP/n.mem\"}"
[ "$code" = 204 ] && ok "snapshot created" || fail "snapshot/create: HTTP $code"
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null
host c echo 6
ip netns exec "$ns" "$KITE" run --restore "$TMP/n.snap" --mem-file "$TMP/n.mem" </dev/null >"$TMP/r.out" 2>"$TMP/r.err" &
rpid=$!
pids+=("$rpid")
wait $hpid && ok "the restored guest echoes through the reopened tap" ||
	fail "no echo after the restore: $(cat "$TMP/c.host"); stderr: $(head -c 300 "$TMP/r.err")"
grep -qx "echo 6" "$TMP/r.out" && ok "restored guest: 'echo 6'" || fail "restored guest output: $(head -c 300 "$TMP/r.out")"
kill -KILL "$rpid"
wait "$rpid" 2>/dev/null
finish
