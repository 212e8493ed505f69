# snapshot-restore hook (issue 10): a guest that writes to ext4 survives snapshot, SIGKILL
# and restore into a new kite process, as if nothing had happened.
# pre: vm.json (the small kernel + initrd, 2 vCPUs, 256 MiB, kite.test=snapshot) and
#   data.img, a fresh 16 MiB ext4 (vda).
# drive (while the first kite runs; see api-run.sh): once the guest ticks
#   (guest/snapshot.sh), PATCH /vm Paused, PUT /snapshot/create, SIGKILL that kite, wait
#   GAP_S seconds, then start the second kite itself:
#     kite run --restore vm.snap --mem-file vm.mem --clock-realtime --api-sock api2.sock
#   The second kite must be the drive phase's child: api-run.sh only knows the first one
#   (whose status, 137 after the SIGKILL, becomes the test's exit status; tests.txt expects
#   it). The second kite's stdout is copied, line by line, to the same stdout (so tests.txt's
#   expect lines see it) and to kite2.out; its stdin is a FIFO this phase writes the
#   console commands to (batch.sh's FIFO belongs to the first kite); its stderr goes to
#   kite2.err and is printed afterwards as KITE-SNAP-KITE2-LOG lines (--log-level info
#   says how the restore went, and a log line written between two parts of a guest line
#   would break that line). After the restore: the guest ticks on, "ping WORD" must come
#   back as KITE-SNAP-ECHO WORD, then "finish" makes the guest report and power off. The
#   second kite's exit status goes to kite2.rc.
# post: kite2.rc is 0; the tick lines of both kites are 1, 2, 3, ... each once; the guest's
#   clock after the restore is within 5 s of this side's (--clock-realtime: without it the
#   guest would lag by the GAP_S+ seconds the snapshot spent on disk); e2fsck -fn is
#   clean; ticks.log on the image holds every tick, once, in order.
# shellcheck source=tests/lab/hooks/api-lib.sh
. "$LAB/hooks/api-lib.sh"
# Seconds between the SIGKILL and the restore: longer than the 5 s clock tolerance (so a
# restore that ignores clock_realtime fails) and than the guest's RCU stall timeout
# (21 s), so that a restore which lets the guest take the gap for lost CPU time can show
# as an RCU stall.
GAP_S=25
# Ticks the guest must print before the snapshot, and after the restore before "finish".
TICKS_BEFORE=4 TICKS_AFTER=6

# The tick lines of both kites, in order, CRs dropped. A tick line that the snapshot cut in
# two (its start printed by the first kite, the rest by the restored guest through the
# second) is joined again: api-run.sh's copy ended it with a newline of its own, and it
# lacks the CR that ends every whole line from the guest's tty.
ticks() {
	last=$(tail -n 1 kite.out) cut=""
	if [ -n "$last" ] && [ "${last%"$CR"}" = "$last" ]; then
		# The fragment holds the tag ...
		case $last in KITE-SNAP-TICK*) cut=1 ;; esac
		# ... or a start of it: is the fragment a prefix of the tag?
		tag=KITE-SNAP-TICK
		case $tag in "$last"*) cut=1 ;; esac
	fi
	if [ -n "$cut" ]; then
		echo "note: the snapshot cut a tick line: '$last' + the second kite's first line" >&2
		sed '$d' kite.out
		printf '%s' "$last"
		cat kite2.out
	else
		cat kite.out kite2.out
	fi | tr -d '\r' | grep '^KITE-SNAP-TICK'
}
CR=$(printf '\r')

case $1 in
pre)
	need_artifacts "$LAB/bzImage" "$LAB/initramfs.cpio.gz"
	need_curl
	need mkfs.ext4 debugfs e2fsck
	mk_ext4 data.img 16777216
	# The entropy device: the guest's random generator is ready (seeded) long before the
	# snapshot, as Linux only reseeds on a VM fork, and says so, once it is; and its
	# virtio-rng queue goes through the snapshot too.
	config_json "$LAB/bzImage" "$LAB/initramfs.cpio.gz" "$FC_ARGS random.trust_cpu=on kite.test=snapshot" 2 256 \
		"$(drive_json data "$PWD/data.img")" | sed '1a\
  "entropy": {},' >vm.json
	show vm.json
	ok "vm.json, data.img (16 MiB ext4) written"
	;;
drive)
	K2_PID="" C2_PID=""
	# From the restore on, a failure must end the second kite too (api-run.sh knows only
	# the first): a kite left running would hold the test's output open until the timeout.
	dfail() {
		echo "KITE-API-DRIVE FAIL $*"
		[ -n "$K2_PID" ] && kill -s KILL "$K2_PID" 2>/dev/null && wait "$K2_PID"
		[ -n "$C2_PID" ] && wait "$C2_PID"
		# Why a restore failed is on the second kite's stderr.
		[ -n "$K2_PID" ] && [ -f "$WORK/kite2.err" ] &&
			while IFS= read -r l; do echo "KITE-SNAP-KITE2-LOG $l"; done <"$WORK/kite2.err"
		exit 1
	}
	wait_sock 20
	wait_line '^KITE-SNAP-READY' 240
	r=$(grep -E '^KITE-SNAP-READY' "$KITE_OUT" | head -n 1 | tr -d '\r')
	echo "KITE-SNAP-DRIVE guest ready: $r"
	wait_line "^KITE-SNAP-TICK $TICKS_BEFORE " 120
	api_ok PATCH /vm '{"state": "Paused"}'
	api_ok PUT /snapshot/create "{\"snapshot_path\": \"$WORK/vm.snap\", \"mem_file_path\": \"$WORK/vm.mem\"}"
	[ -s "$WORK/vm.snap" ] || dfail "PUT /snapshot/create answered 2xx but $WORK/vm.snap is missing or empty"
	[ -f "$WORK/vm.mem" ] || dfail "PUT /snapshot/create answered 2xx but $WORK/vm.mem is missing"
	echo "KITE-SNAP-DRIVE snapshot written: vm.snap $(wc -c <"$WORK/vm.snap") bytes," \
		"vm.mem $(wc -c <"$WORK/vm.mem") bytes ($(du -k "$WORK/vm.mem" | cut -f1) KiB allocated)"
	# Let the paused kite write out the guest output it still holds (its event loop runs
	# while the vCPUs are parked): until its output has not grown for 1 s, at most 10 s.
	s0=-1 n=0
	while [ "$(wc -c <"$KITE_OUT")" != "$s0" ] && [ $n -lt 10 ]; do
		s0=$(wc -c <"$KITE_OUT")
		sleep 1
		n=$((n + 1))
	done
	last1=$(grep '^KITE-SNAP-TICK' "$KITE_OUT" | tail -n 1 | tr -d '\r')
	kill -s KILL "$KITE_PID" || dfail "SIGKILL to the first kite (pid $KITE_PID) failed"
	# The two kites must never share data.img: wait until the first is gone (a zombie
	# that api-run.sh reaps at the end).
	n=0
	while kite_alive; do
		n=$((n + 1))
		[ $n -le 20 ] || dfail "the first kite (pid $KITE_PID) still runs 10 s after SIGKILL"
		nap
	done
	echo "KITE-SNAP-KILLED first kite (pid $KITE_PID) SIGKILLed; its last tick: $last1"
	sleep "$GAP_S"

	# The second kite. Its stdin: a FIFO held open read-write on fd 7 here, so that it
	# never reads end-of-file and writes to it never block for want of a reader.
	rm -f "$WORK/in2" "$WORK/api2.sock"
	mkfifo "$WORK/in2" "$WORK/out2" || dfail "mkfifo in $WORK failed"
	exec 7<>"$WORK/in2"
	: >"$WORK/kite2.out"
	# Whole lines only (one write each), as api-run.sh copies the first kite's; the
	# guest's KITE-SNAP-DATE line gets this side's clock (as batch.sh does for KITE-DATE).
	while IFS= read -r l || [ -n "$l" ]; do
		case $l in *KITE-SNAP-DATE*) l="${l%"$CR"} host=$(date +%s)" ;; esac
		printf '%s\n' "$l"
		printf '%s\n' "$l" >>"$WORK/kite2.out"
	done <"$WORK/out2" &
	C2_PID=$!
	t0=$(date +%s)
	"$KITE" run --restore "$WORK/vm.snap" --mem-file "$WORK/vm.mem" --clock-realtime \
		--api-sock "$WORK/api2.sock" --log-level info \
		<"$WORK/in2" >"$WORK/out2" 2>"$WORK/kite2.err" 7>&- &
	K2_PID=$!
	echo "KITE-SNAP-RESTORE second kite pid $K2_PID: $KITE run --restore $WORK/vm.snap" \
		"--mem-file $WORK/vm.mem --clock-realtime --api-sock $WORK/api2.sock --log-level info"
	# api-lib's helpers now watch the second kite.
	KITE_OUT=$WORK/kite2.out KITE_PID=$K2_PID API_SOCK=$WORK/api2.sock
	wait_sock 30
	api_ok GET /
	case $api_body in *'"Running"'*) ;; *) dfail "GET / on the restored kite: $api_body (want Running)" ;; esac
	n1=${last1#KITE-SNAP-TICK }
	n1=${n1%% *}
	# The next tick, or the one after if the snapshot cut the next one in two (its
	# second half then starts a line of the second kite, see ticks above).
	wait_line "^KITE-SNAP-TICK ($((n1 + 1))|$((n1 + 2))) " 60
	echo "KITE-SNAP-DRIVE the restored guest ticks ($(($(date +%s) - t0)) s after the restore started)"
	word=w$$x$(date +%s)
	printf 'ping %s\n' "$word" >&7
	wait_line "^KITE-SNAP-ECHO $word" 60
	wait_line "^KITE-SNAP-TICK $((n1 + TICKS_AFTER)) " 60
	printf 'finish\n' >&7
	# The guest reports, unmounts and powers off; the test's timeout bounds this wait.
	wait "$K2_PID"
	rc2=$?
	K2_PID=""
	wait "$C2_PID"
	C2_PID=""
	exec 7>&-
	while IFS= read -r l; do echo "KITE-SNAP-KITE2-LOG $l"; done <"$WORK/kite2.err"
	echo "$rc2" >"$WORK/kite2.rc"
	echo "KITE-SNAP-KITE2-EXIT $rc2"
	;;
post)
	[ -f kite2.rc ] || fail "the second kite never ran to its end (no kite2.rc; see KITE-API-DRIVE FAIL above)"
	rc2=$(cat kite2.rc)
	[ "$rc2" = 0 ] || fail "the restored kite exited with status $rc2 (want 0: the guest powers off)"
	# Ticks: 1, 2, 3, ... each once and whole, across both kites.
	ticks >ticks.seen || fail "no tick lines in either kite's output"
	bad=$(grep -Ev '^KITE-SNAP-TICK [0-9]+ [0-9]+ ged=([0-9]+|none)$' ticks.seen | head -n 1)
	[ -z "$bad" ] || fail "a broken tick line: '$bad'"
	seq=$(awk '{ if ($2 != NR) { print "tick line " NR " is number " $2; exit } }' ticks.seen)
	[ -z "$seq" ] || fail "ticks lost or repeated across the restore: $seq"
	nt=$(wc -l <ticks.seen)
	n1=$(grep -c '^KITE-SNAP-TICK' kite.out)
	# The first kite ticked before the GED interrupt existed: its count must be 0.
	g=$(grep '^KITE-SNAP-TICK' kite.out | tr -d '\r' | grep -v ' ged=0$' | head -n 1)
	[ -z "$g" ] || echo "note: a tick before the snapshot had a GED interrupt count other than 0: $g"
	# The clock: within 5 s of this side's when the line arrived.
	l=$(grep -o 'KITE-SNAP-DATE guest=[0-9]* host=[0-9]*' kite2.out | tail -n 1)
	[ -n "$l" ] || fail "no KITE-SNAP-DATE line from the restored guest"
	gd=$(echo "$l" | sed 's/.*guest=\([0-9]*\) .*/\1/')
	hd=${l##*host=}
	d=$((gd - hd))
	[ $d -lt 0 ] && d=$((-d))
	[ $d -le 5 ] || fail "after the restore the guest's clock is off by $d s (guest $gd, host $hd; --clock-realtime)"
	# The disk.
	out=$(e2fsck -fn data.img 2>&1) || fail "e2fsck -fn data.img: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
	debugfs -R 'cat /ticks.log' data.img >ticks.disk 2>/dev/null
	[ -s ticks.disk ] || fail "the host cannot read /ticks.log from data.img"
	dseq=$(awk '$1 != NR { print "line " NR " is tick " $1; exit }' ticks.disk)
	[ -z "$dseq" ] || fail "/ticks.log on data.img: $dseq"
	nd=$(wc -l <ticks.disk)
	[ "$nd" -eq "$nt" ] || fail "/ticks.log on data.img has $nd lines, the guest printed $nt ticks"
	ok "ticks 1-$nt in order ($n1 from the first kite, the rest after the restore);" \
		"guest clock off by $d s; e2fsck clean; /ticks.log has all $nd ticks"
	;;
esac
