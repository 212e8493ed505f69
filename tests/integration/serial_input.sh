#!/bin/bash
# Host stdin reaches the guest through the UART; Ctrl-A x quits; signals stop
# kite with 128+N; a large input is delivered whole, with nothing dropped.
. "$(dirname "$0")/lib.sh"
need_kvm
guest=(run --debug-exit --image "$GUEST_DIR/echo_user.bin" --mode long-user --load 0x100000)
printf 'hello kite.' >"$TMP/in1"
STDIN_FILE=<(cat "$TMP/in1") run_kite echo "${guest[@]}"
expect_rc echo 0
expect_out echo 'hello kite.\n'
# 3000 bytes: far more than the 16-byte FIFO, so backpressure must work.
head -c 3000 /dev/zero | tr '\0' 'a' >"$TMP/in2"; printf '.' >>"$TMP/in2"
STDIN_FILE=<(cat "$TMP/in2") run_kite echo-long "${guest[@]}"
expect_rc echo-long 0
[ "$(tr -d '\n' <"$out")" = "$(cat "$TMP/in2")" ] && ok "echo-long: all 3001 bytes" || fail "echo-long: got $(wc -c <"$out") bytes"
# A regular file on stdin (not pollable) is read as the guest takes it.
STDIN_FILE="$TMP/in2" run_kite echo-file "${guest[@]}"
expect_rc echo-file 0
[ "$(tr -d '\n' <"$out")" = "$(cat "$TMP/in2")" ] && ok "echo-file: all 3001 bytes" || fail "echo-file: got $(wc -c <"$out") bytes"
# Ctrl-A x quits even though the guest never stops by itself.
STDIN_FILE=<(printf 'ab\001x') run_kite quit "${guest[@]}"
expect_rc "ctrl-a x" 0
grep -q $'\x01' "$out" && fail "ctrl-a x: the escape reached the guest" || ok "ctrl-a x: escape not forwarded"
# SIGTERM while the guest waits for input.
mkfifo "$TMP/fifo"
(sleep 30 >"$TMP/fifo") &
holder=$!
timeout 20 "$KITE" "${guest[@]}" <"$TMP/fifo" >"$TMP/sig.out" 2>"$TMP/sig.err" &
kpid=$!
sleep 1
kill -TERM $kpid
wait $kpid
rc=$?
kill $holder 2>/dev/null
[ $rc -eq 143 ] && ok "SIGTERM: exit 143" || fail "SIGTERM: exit $rc"
# SIGTERM while the guest's output is stuck: stdout is a pipe that nobody
# reads. Once the pipe is full, output waits in kite's buffer (drained by the
# event loop, never by a vCPU) and the guest's transmitter is held. kite must
# still stop, not wait for a reader forever.
mkfifo "$TMP/outfifo"
exec 8<>"$TMP/outfifo" # a reader that never reads
timeout -k 5 20 "$KITE" run --debug-exit --image "$GUEST_DIR/flood_user.bin" --mode long-user --load 0x100000 \
	</dev/null >"$TMP/outfifo" 2>"$TMP/flood.err" &
kpid=$!
sleep 0.2
kite_pid=$(pgrep -P $kpid -x kite)
# The pipe holds 64 KiB: once kite wrote that much, its reader is stuck.
stuck() { [ "$(awk '/^wchar/ {print $2}' "/proc/$kite_pid/io" 2>/dev/null)" -ge 65536 ] 2>/dev/null; }
for ((i = 0; i < 150; i++)); do # until the pipe is full
	stuck && break
	sleep 0.1
done
stuck && ok "flood: stdout's pipe is full" ||
	fail "flood: kite did not fill stdout's pipe within 15 s"
kill -TERM $kpid
t0=$SECONDS
wait $kpid
rc=$?
exec 8>&-
[ $rc -eq 143 ] && ok "SIGTERM with stdout stuck: exit 143 after $((SECONDS - t0)) s" ||
	fail "SIGTERM with stdout stuck: exit $rc (124/137: kite did not stop)"
finish
