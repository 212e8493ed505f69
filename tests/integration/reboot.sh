#!/bin/bash
# A guest reboot ends kite with status 3 by default; with --on-reboot restart
# kite builds a fresh machine each time, with no fd or memory growth, appends
# to --serial-out, and a signal still stops it (128+SIG) at any point.
. "$(dirname "$0")/lib.sh"
need_kvm
img=$GUEST_DIR/reboot.bin

run_kite once run --debug-exit --image "$img" --mode real --load 0x1000
expect_rc "reboot, default" 3
expect_out "reboot, default" 'B\n'
grep -q "guest reset" "$err" && ok "reboot, default: reason on stderr" || fail "reboot, default: stderr $(cat "$err")"

run_kite bad run --debug-exit --image "$img" --on-reboot sometimes
expect_rc "--on-reboot sometimes" 2
expect_err_line "--on-reboot sometimes" "expected exit or restart"

# Restarts until stopped: every boot prints "B" into the --serial-out file.
sout=$TMP/restart.serial
echo stale >"$sout"
"$KITE" run --debug-exit --image "$img" --mode real --load 0x1000 --on-reboot restart \
	--serial-out "$sout" --log-level info </dev/null >"$TMP/restart.out" 2>"$TMP/restart.err" &
pid=$!
boots() { grep -c '^B$' "$sout" 2>/dev/null || echo 0; }
wait_boots() { # n: until the file shows n boots or 20 s pass
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(boots)" -ge "$1" ] && return 0
		kill -0 $pid 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# Open fds go up and down as each machine is built and torn down: the most
# seen over 40 samples is the count of a fully built machine (plus leaks).
fds() {
	local i n max=0
	for ((i = 0; i < 40; i++)); do
		n=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
		((n > max)) && max=$n
		sleep 0.005
	done
	echo "$max"
}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0; }
if wait_boots 20; then
	f1=$(fds) r1=$(rss) b1=$(boots)
	if wait_boots $((b1 + 200)); then
		f2=$(fds) r2=$(rss) b2=$(boots)
		ok "restart: $b1 -> $b2 boots"
		# What must not happen is growth with every boot.
		[ "$f2" -le $((f1 + 2)) ] && ok "restart: fds $f1 -> $f2 over $((b2 - b1)) boots" ||
			fail "restart: fds grew $f1 -> $f2 over $((b2 - b1)) boots"
		if ldd "$KITE" 2>/dev/null | grep -q libasan; then
			# ASan's quarantine holds freed memory back: RSS grows by design.
			ok "restart: RSS $r1 -> $r2 KiB (ASan build: not judged)"
		elif [ "$r2" -le $((r1 + 2048)) ]; then
			ok "restart: RSS $r1 -> $r2 KiB"
		else
			fail "restart: RSS grew $r1 -> $r2 KiB over $((b2 - b1)) boots"
		fi
	else
		fail "restart: stuck at $(boots) boots"
	fi
else
	fail "restart: only $(boots) boots in 20 s; stderr: $(tail -n 3 "$TMP/restart.err")"
fi
kill -TERM $pid 2>/dev/null
timeout 20 tail --pid=$pid -f /dev/null
wait $pid
rc=$?
expect_rc "restart, then SIGTERM" 143
grep -q stale "$sout" && fail "restart: --serial-out was not truncated at the first boot" ||
	ok "restart: --serial-out truncated once"
[ "$(grep -cv '^B$' "$sout")" -eq 0 ] && ok "restart: only B lines in --serial-out" ||
	fail "restart: unexpected serial output: $(grep -v '^B$' "$sout" | head -3)"
grep -q "restarting the machine (boot 2)" "$TMP/restart.err" && ok "restart: logged" ||
	fail "restart: no restart line on stderr: $(head -3 "$TMP/restart.err")"
finish
