#!/bin/sh
# bench/lab-snapshot.sh: the snapshot-restore benchmark (issue 10) inside the nested lab's
# L1 (started by tests/lab/l1-init.sh when tests/lab/run --bench-snapshot N staged it as
# /lab/bench-snapshot.sh), or on a host with vmx/svm (LAB= the staging directory). POSIX
# sh + busybox, as bench/lab-boot.sh.
#
# The guest: the lab's small kernel ($LAB/bzImage) with $LAB/initramfs-snap.cpio.gz (the
# lab initramfs with bench/guest/snap_beat.sh as its only test), 1 vCPU, 256 MiB; after
# init it prints KITE-SNAP-BEAT lines on the console as fast as it can.
#   kite: boot it with --api-sock, wait for a beat line, PATCH /vm Paused, PUT
#     /snapshot/create (state file + memory file), SIGKILL.
#   QEMU: boot it under QEMU microvm on L1's KVM (lab-boot.sh's command line) with its HMP
#     monitor on a pair of FIFOs (-monitor pipe:), wait for a beat line, then
#     'migrate "exec:cat > FILE"' (live: no "stop" first, see qemu_snapshot), "info
#     migrate" until completed, "quit".
# Then N interleaved pairs (after one untimed warm-up of each), timed by $LAB/boot_timer
# from exec to the first console line containing KITE-SNAP-BEAT:
#   kite run --restore SNAP --mem-file MEM
#   qemu-system-x86_64 <the same machine> -incoming "exec:cat FILE"
# (without -S QEMU runs the guest as soon as the incoming migration has completed). All
# files are in L1's /tmp, i.e. in RAM (L1's root is its initramfs): no disk reads for
# either, both read from the page cache. Prints on stdout:
#   KITE-BENCH info <text>            (including the sizes of the snapshot files)
#   KITE-BENCH restore vmm=kite|qemu run=<i> ms=<exec to beat> first_output_ms=<..>
#   KITE-BENCH-FAIL vmm=<..> run=<i> <why>   (+ KITE-BENCH-LOG lines)
#   KITE-BENCH snapshot-median kite_ms=.. qemu_ms=.. ratio=..   (kite / QEMU)
#   KITE-BENCH-DONE runs=N ok=0|1
LAB=${LAB:-/lab}
n=${KITE_BENCH_SNAPSHOT:-$(cat "$LAB/bench-snapshot" 2>/dev/null || echo 5)}
qemu=${KITE_BENCH_QEMU:-/usr/bin/qemu-system-x86_64}
initrd=$LAB/initramfs-snap.cpio.gz
cmdline="console=ttyS0 kite.test=snap_beat"
marker=KITE-SNAP-BEAT
# As lab-boot.sh: in the nested lab QEMU gets the CPU kite gives its guest, minus XSAVE.
cpu=host
[ "${KITE_LAB_TIER:-direct}" = nested ] && cpu=host,-xsave
cpu=${KITE_BENCH_QEMU_CPU:-$cpu}
W=$(mktemp -d "${TMPDIR:-/tmp}/kite-snapbench.XXXXXX") || exit 1
ok=1

log_tail() { # file
	tail -n 15 "$1" 2>/dev/null | cut -c 1-200 | sed 's/^/KITE-BENCH-LOG | /'
}
done_fail() { # why
	echo "KITE-BENCH-DONE runs=0 ok=0 error=$*"
	rm -rf "$W"
	exit 1
}
# wait_marker FILE SECONDS: until FILE has a beat line.
wait_marker() {
	w=0
	while ! grep -q "$marker" "$1" 2>/dev/null; do
		w=$((w + 1))
		[ $w -le $(($2 * 5)) ] || return 1
		sleep 0.2
	done
}
# size FILE: apparent bytes and KiB allocated.
size() { echo "bytes=$(wc -c <"$1") alloc_kib=$(du -k "$1" | cut -f1)"; }

# --- the snapshots ------------------------------------------------------------------------
kite_snapshot() {
	sock=$W/api.sock
	"$LAB/kite" run --kernel "$LAB/bzImage" --initrd "$initrd" --cmdline "$cmdline" \
		--memory 256M --cpus 1 --api-sock "$sock" </dev/null >"$W/kite-boot.out" 2>&1 &
	kpid=$!
	if ! wait_marker "$W/kite-boot.out" 90; then
		kill -s KILL $kpid 2>/dev/null
		wait $kpid 2>/dev/null # (no "Killed" on the console)
		log_tail "$W/kite-boot.out"
		return 1
	fi
	api() { # method path body
		code=$(curl -sS --max-time 60 --unix-socket "$sock" -o "$W/api.body" -w '%{http_code}' \
			-X "$1" "http://localhost$2" -H 'Content-Type: application/json' -d "$3" 2>&1)
		case $code in 2??) return 0 ;; esac
		echo "KITE-BENCH-LOG | $1 $2 -> $code $(cat "$W/api.body" 2>/dev/null)"
		return 1
	}
	t=$(date +%s)
	api PATCH /vm '{"state": "Paused"}' &&
		api PUT /snapshot/create "{\"snapshot_path\": \"$W/vm.snap\", \"mem_file_path\": \"$W/vm.mem\"}"
	rc=$?
	kill -s KILL $kpid 2>/dev/null
	wait $kpid 2>/dev/null # (no "Killed" on the console)
	rm -f "$W/kite-boot.out"
	[ $rc = 0 ] && [ -s "$W/vm.snap" ] && [ -f "$W/vm.mem" ] || return 1
	echo "KITE-BENCH info snapshot vmm=kite seconds=$(($(date +%s) - t)) state=vm.snap $(size "$W/vm.snap")" \
		"mem=vm.mem $(size "$W/vm.mem")"
}

qemu_snapshot() {
	mon=$W/mon
	mkfifo "$mon.in" "$mon.out" || return 1
	"$qemu" -accel kvm -cpu "$cpu" -M microvm -m 256M -smp 1 -nodefaults -no-user-config \
		-display none -serial stdio -no-reboot -kernel "$LAB/bzImage" -initrd "$initrd" \
		-append "$cmdline" -monitor "pipe:$mon" </dev/null >"$W/qemu-boot.out" 2>&1 &
	qpid=$!
	# Both FIFOs opened read-write here: neither open blocks, whatever QEMU does.
	exec 8<>"$mon.in"
	cat <>"$mon.out" >"$W/mon.log" &
	cpid=$!
	hmp() { printf '%s\n' "$*" >&8; }
	qrc=1
	if wait_marker "$W/qemu-boot.out" 90; then
		t=$(date +%s)
		# No "stop" first: QEMU's migration stream records whether the source ran, and
		# the destination only starts the guest by itself if it did (a stopped source
		# gives a paused destination that needs "cont"). So the migration runs live;
		# the beat loop dirties few pages, and QEMU stops the source when it ends.
		hmp "migrate \"exec:cat > $W/qemu.mig\""
		w=0
		while [ $w -lt 300 ]; do
			sleep 0.2
			hmp info migrate
			sleep 0.2
			if grep -q 'Migration status: completed' "$W/mon.log"; then qrc=0; break; fi
			if grep -q -E 'Migration status: (failed|cancelled)|Error|error' "$W/mon.log"; then break; fi
			w=$((w + 1))
		done
		hmp quit
	fi
	w=0
	while kill -0 $qpid 2>/dev/null && [ $w -lt 50 ]; do sleep 0.2; w=$((w + 1)); done
	kill -s KILL $qpid 2>/dev/null
	wait $qpid 2>/dev/null
	kill $cpid 2>/dev/null
	wait $cpid
	exec 8>&-
	if [ $qrc != 0 ] || [ ! -s "$W/qemu.mig" ]; then
		log_tail "$W/qemu-boot.out"
		tr -d '\r' <"$W/mon.log" | tr -d '\033' >"$W/mon.txt"
		log_tail "$W/mon.txt"
		return 1
	fi
	rm -f "$W/qemu-boot.out"
	echo "KITE-BENCH info snapshot vmm=qemu seconds=$(($(date +%s) - t)) migration=qemu.mig $(size "$W/qemu.mig")"
}

# --- the timed restores -------------------------------------------------------------------
kite_cmd() {
	"$LAB/boot_timer" -t 60 -o "$W/log" "$marker" -- "$LAB/kite" run \
		--restore "$W/vm.snap" --mem-file "$W/vm.mem"
}
qemu_cmd() {
	"$LAB/boot_timer" -t 60 -o "$W/log" "$marker" -- "$qemu" -accel kvm -cpu "$cpu" \
		-M microvm -m 256M -smp 1 -nodefaults -no-user-config -display none \
		-serial stdio -no-reboot -kernel "$LAB/bzImage" -initrd "$initrd" \
		-append "$cmdline" -incoming "exec:cat $W/qemu.mig"
}
one() { # vmm run
	out=$("${1}_cmd")
	rc=$?
	if [ $rc = 0 ]; then
		echo "KITE-BENCH restore vmm=$1 run=$2 ${out#boot_timer }"
		echo "$1 ${out#boot_timer ms=}" | cut -d' ' -f1,2 >>"$W/ms"
	else
		ok=0
		echo "KITE-BENCH-FAIL vmm=$1 run=$2 $out"
		log_tail "$W/log"
	fi
	return $rc
}

echo "KITE-BENCH info cpus=$(nproc) kernel=$(uname -r) cmdline=\"$cmdline\" runs=$n marker=$marker" \
	"memory=256M vcpus=1 files_in=$W"
echo "KITE-BENCH info qemu=\"$("$qemu" --version 2>&1 | head -n 1)\" cpu=$cpu"
[ -f "$initrd" ] || done_fail "no $initrd (tests/lab/run --bench-snapshot builds it)"
kite_snapshot || done_fail "kite: boot to a beat line or the snapshot failed"
qemu_snapshot || done_fail "QEMU: boot to a beat line or the migration to a file failed"

# Warm-up (untimed): the first restore of each also shows whether it works at all.
if one kite 0 && one qemu 0; then
	: >"$W/ms"
	i=1
	while [ $i -le "$n" ]; do
		one kite $i
		one qemu $i
		i=$((i + 1))
	done
	# Medians (the lower middle one for an even count).
	med() { grep "^$1 " "$W/ms" | cut -d' ' -f2 | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
	km=$(med kite) qm=$(med qemu)
	if [ -n "$km" ] && [ -n "$qm" ]; then
		echo "KITE-BENCH snapshot-median kite_ms=$km qemu_ms=$qm ratio=$(awk -v k="$km" -v q="$qm" 'BEGIN { printf "%.3f", k / q }')" \
			"runs=$(grep -c '^kite ' "$W/ms")/$(grep -c '^qemu ' "$W/ms")"
	fi
else
	ok=0
fi
echo "KITE-BENCH-DONE runs=$n ok=$ok"
rm -rf "$W"
