# shellcheck shell=bash
# lib/runner.sh: runs batch.sh and feeds its output to parse() (lib/protocol.sh).
#   run_direct: on this host (tier direct).
#   run_lab:    in an L1 VM under QEMU TCG (tier lab), with the restart policy for an L1
#               that hangs or dies: the tests without a result run in a fresh L1.
# Both end run (exit) with its status: the summary's, or the benchmark's.
# Needs: $lab, $l1cpio, $dver, $out, $t0, $budget, $only, $bench, $bench_kind, tests[]; say (lib/common.sh);
# parse, summary, bench_summary and the verdict state (lib/protocol.sh).

run_direct() {
	local sh
	say "running ${#tests[@]} tests directly"
	# batch.sh is tested with busybox sh (as in L1) and bash; dash's kill lacks -PGID.
	if [[ -x /bin/busybox ]]; then sh=(/bin/busybox sh); else sh=(bash); fi
	if [[ -n $bench ]]; then
		LAB="$lab" KITE_BENCH_QEMU=$(command -v qemu-system-x86_64) "${sh[@]}" "$lab/bench-$bench_kind.sh" 2>&1 | parse
		bench_summary
		exit
	fi
	LAB="$lab" KITE_LAB_ONLY="$only" KITE_LAB_BUDGET="$budget" "${sh[@]}" "$lab/batch.sh" 2>&1 | parse
	summary "batch.sh ended early; see $out/console.log"
	exit
}

# L1's memory in MiB: KITE_LAB_L1_MEM, else 7168 when the host has 10 GiB available
# (mem-5g needs it), else 2048.
l1_memory() {
	local avail
	avail=$(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) / 1024))
	if [[ -n ${KITE_LAB_L1_MEM:-} ]]; then
		echo "$KITE_LAB_L1_MEM"
	elif ((avail >= 10240)); then
		echo 7168
	else
		echo 2048
	fi
}

# An L1 under nested TCG can wedge (tests/lab/README.md, "When L1 hangs"). batch.sh
# prints a heartbeat every 30 s while a test runs, so an L1 silent for $silence s is
# stuck: parse() kills it, and the tests without a result run in a fresh L1, at most
# $max_boots L1 boots in all. A test that was running during two hangs FAILs.
run_lab() {
	local l1mem l1cpus append max_boots lab_deadline left args todo only_re t nleft rc=""
	local -a qemu
	l1mem=$(l1_memory)
	l1cpus=${KITE_LAB_L1_CPUS:-1}
	# shellcheck disable=SC2054 # the commas belong to QEMU options
	qemu=(qemu-system-x86_64 -accel "tcg,thread=${KITE_LAB_TCG_THREAD:-multi}" -cpu max -m "$l1mem" -smp "$l1cpus"
		-nodefaults -no-user-config -display none -serial stdio -no-reboot
		-kernel "/boot/vmlinuz-$dver" -initrd "$l1cpio"
		-monitor "unix:$out/monitor.sock,server=on,wait=off")
	append="console=ttyS0 quiet loglevel=3 panic=-1"
	max_boots=3
	lab_deadline=$((t0 + budget + 180))
	boots=0
	while :; do
		boots=$((boots + 1))
		left=$((lab_deadline - $(date +%s)))
		args=$append
		if ((boots > 1)); then
			todo=()
			for t in "${tests[@]}"; do [[ -n ${verdict[$t]:-} ]] || todo+=("$t"); done
			((${#todo[@]})) || break
			if ((left < 120)); then
				say "not restarting L1: ${left} s left of the lab's $((budget + 180)) s"
				break
			fi
			only_re="^($(IFS='|'; echo "${todo[*]}"))\$"
			args+=" kite.only=$only_re"
			say "restarting L1 (boot $boots of at most $max_boots) for the ${#todo[@]} tests left"
		fi
		args+=" kite.budget=$((left - 90 > 60 ? left - 90 : 60))"
		printf '%q ' "${qemu[@]}" -append "$args" >"$out/qemu-cmdline.txt"
		say "starting L1: ${qemu[*]} -append \"$args\""
		tq=$(date +%s)
		current="" silent=0 l1pid=""
		# The group's first line names the PID that exec turns into timeout(1), for parse().
		{ echo "KITE-RUNNER-PID $BASHPID"; exec timeout -k 10 "$left" "${qemu[@]}" -append "$args" </dev/null 2>&1; } | parse
		rc=${PIPESTATUS[0]}
		((rc == 124)) && say "L1 killed after $left s (the lab's time budget)"
		[[ -n $bench ]] && break
		nleft=0
		for t in "${tests[@]}"; do [[ -n ${verdict[$t]:-} ]] || nleft=$((nleft + 1)); done
		((nleft)) || break
		if ((!silent)); then
			# Ended by itself (an L1 kernel panic, say): show what L1 said last.
			say "L1 ended (qemu status $rc) with $nleft tests left${current:+, during $current}; its last lines:"
			grep -v '^KITE-LAB-OUT' "$out/console.log" | tail -n 12 | sed 's/^/      | /'
		fi
		if [[ -n $current ]]; then
			hung[$current]=$((${hung[$current]:-0} + 1))
			if ((${hung[$current]} >= 2)); then
				verdict[$current]=FAIL
				reason[$current]="L1 hung or ended twice while this test ran (see $out/logs/$current.log)"
				printf 'FAIL %-13s %s\n' "$current" "${reason[$current]}"
			fi
		fi
		((boots < max_boots)) || break
	done
	if [[ -n $bench ]]; then
		bench_summary
		exit
	fi
	summary "L1 ended early (qemu status $rc); see $out/console.log"
	exit
}
