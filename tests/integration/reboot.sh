#!/bin/bash
# A guest reboot ends kite with status 3 by default; with --on-reboot restart
# kite builds a fresh machine each time, with no fd or memory growth, appends
# to --serial-out, and a signal still stops it (128+SIG) at any point. A
# restart opens no path again: with the image and disk files gone after the
# first boot, the machine keeps restarting.
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
boots() { # grep -c prints 0 and fails when no line matches yet
	local n
	n=$(grep -c '^B$' "$sout" 2>/dev/null)
	echo "${n:-0}"
}
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
# Host resources are opened once: after the first boot the --image file is
# removed and the --disk file renamed, and the machine must keep restarting
# without an error. Under strace (when installed) each path is opened once
# in the whole run: the first boot needs one open, a restart needs none.
# NAME FILES-TO-TAKE-AWAY -- kite args
gone_run() {
	local name=$1 take=$2 b1 f n spid="" quiet
	shift 3
	sout=$TMP/$name.serial
	rm -f "$TMP/$name.pid"
	if command -v strace >/dev/null; then
		# strace may fork probe children of its own: kite's pid comes
		# from the shell that execs it. LeakSanitizer cannot run under a
		# tracer: off for this run (the other runs still check leaks).
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=open,openat -o "$TMP/$name.strace" \
			sh -c 'echo $$ >"$0.pid"; exec "$@"' "$TMP/$name" \
			"$KITE" run --serial-out "$sout" --log-level info "$@" </dev/null \
			>"$TMP/$name.out" 2>"$TMP/$name.err" &
		spid=$!
		for ((n = 0; n < 100; n++)); do
			[ -s "$TMP/$name.pid" ] && break
			sleep 0.05
		done
		pid=$(cat "$TMP/$name.pid" 2>/dev/null)
		pid=${pid:-$spid}
	else
		"$KITE" run --serial-out "$sout" --log-level info "$@" </dev/null \
			>"$TMP/$name.out" 2>"$TMP/$name.err" &
		pid=$!
	fi
	if ! wait_boots 1; then
		fail "$name: no first boot; stderr: $(tail -n 3 "$TMP/$name.err")"
	else
		for f in $take; do
			case $f in
			*.img) mv "$f" "$f.moved" ;; # renamed: same inode, path gone
			*) rm -f "$f" ;;
			esac
		done
		b1=$(boots)
		if wait_boots $((b1 + 20)); then
			ok "$name: files gone after boot $b1, still restarting ($(boots) boots)"
		else
			fail "$name: stopped at $(boots) boots after the files went"
		fi
	fi
	# Judged before the SIGTERM, whose messages are not errors.
	cp "$TMP/$name.err" "$TMP/$name.running"
	kill -TERM $pid 2>/dev/null
	timeout 20 tail --pid=${spid:-$pid} -f /dev/null
	wait ${spid:-$pid}
	rc=$?
	[ "$rc" -eq 143 ] && ok "$name: SIGTERM, exit 143" ||
		fail "$name: exit $rc, expected 143 (SIGTERM)"
	if grep -qv 'restarting the machine (boot [0-9]*)$' "$TMP/$name.running"; then
		fail "$name: errors on stderr: $(grep -v 'restarting the machine' "$TMP/$name.running" | head -n 3)"
	else
		ok "$name: nothing but restarts on stderr"
	fi
	if [ -z "$spid" ]; then
		echo "skip: $name: open count not checked, strace is not installed"
		return
	fi
	for f in $take; do
		# -f may split a call into "<unfinished ...>" and "resumed": only
		# the first part names the path, so each call counts once.
		n=$(grep -F "\"$f\"" "$TMP/$name.strace" | grep -cE '^[0-9]+ +open(at)?\(')
		[ "$n" -eq 1 ] && ok "$name: $(basename "$f") opened once" ||
			fail "$name: $(basename "$f") opened $n times: reopened at restart"
	done
}
mkdir "$TMP/gone"
cp "$img" "$TMP/gone/a.bin"
gone_run gone-image "$TMP/gone/a.bin" -- --debug-exit --image "$TMP/gone/a.bin" --mode real \
	--load 0x1000 --on-reboot restart
cp "$img" "$TMP/gone/b.bin"
truncate -s 1M "$TMP/gone/b.img"
gone_run gone-disk "$TMP/gone/b.bin $TMP/gone/b.img" -- --debug-exit --image "$TMP/gone/b.bin" \
	--mode real --load 0x1000 --on-reboot restart --disk "$TMP/gone/b.img"
finish
