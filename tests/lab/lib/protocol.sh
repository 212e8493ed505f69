# shellcheck shell=bash
# lib/protocol.sh: the output protocol between batch.sh (in L1 or on this host) and run.
# Lines from batch.sh: KITE-LAB-BEGIN <name>, KITE-LAB-OUT <name>| <text>,
# KITE-LAB <name> <verdict> <reason>, KITE-LAB-ALIVE <name> <s>, KITE-LAB-DONE ...,
# KITE-LAB-ERROR ...; from l1-init.sh: KITE-L1 ...; from the benchmark: KITE-BENCH...;
# from run's own pipeline: KITE-RUNNER-PID <pid> (the process parse() stops on a hang).
# State (globals): verdict[], reason[], hung[] (name -> count of L1 hangs during it),
# tests[] (the names), current (the test running), l1pid, silent, silence, tq (L1 start).
# Needs: $out, $verbose, $boots (for l1_registers), say (lib/common.sh).

declare -A verdict=() reason=() hung=()
silence=${KITE_LAB_SILENCE:-100} silent=0 l1pid="" current=""

# The results: a FAIL "no result ($1)" for every test without a verdict, results.txt,
# and the summary line "N passed, N failed, N skipped". Fails if any test failed.
summary() {
	local p=0 f=0 s=0 t
	for t in "${tests[@]}"; do
		if [[ -z ${verdict[$t]:-} ]]; then
			verdict[$t]=FAIL
			reason[$t]="no result ($1)"
			printf 'FAIL %-13s %s\n' "$t" "${reason[$t]}"
		fi
		case ${verdict[$t]} in
		PASS) p=$((p + 1)) ;;
		SKIP) s=$((s + 1)) ;;
		*) f=$((f + 1)) ;;
		esac
	done
	{
		for t in "${tests[@]}"; do printf '%s %s %s\n' "$t" "${verdict[$t]}" "${reason[$t]}"; done
	} >"$out/results.txt"
	say "total $(($(date +%s) - t0)) s; logs in $out/logs, results in $out/results.txt"
	echo "$p passed, $f failed, $s skipped"
	((f == 0))
}
skip_all() {
	local t
	for t in "${tests[@]}"; do
		verdict[$t]=SKIP
		reason[$t]=$1
		printf 'SKIP %-13s %s\n' "$t" "$1"
	done
}
fail_all() {
	local t
	for t in "${tests[@]}"; do
		verdict[$t]=FAIL
		reason[$t]=$1
		printf 'FAIL %-13s %s\n' "$t" "$1"
	done
}

# A hung L1's vCPU registers, twice a second apart, from the QEMU monitor.
l1_registers() {
	local f="$out/l1-hang-$boots.txt"
	[[ -S $out/monitor.sock ]] || return 0
	python3 - "$out/monitor.sock" >"$f" 2>&1 <<'PY'
import socket, sys, time
def ask(cmd):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    s.connect(sys.argv[1])
    s.sendall(cmd.encode() + b"\n")
    out, end = b"", time.time() + 3
    while time.time() < end:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        out += b
    s.close()
    return out.decode(errors="replace")
for n in (1, 2):
    print("=== info registers -a, sample", n)
    print(ask("info registers -a"))
    time.sleep(1)
PY
	say "L1 vCPU registers (two samples) in $f:"
	grep -E '^(CPU#|RIP=)' "$f" | sed 's/^/      | /' | head -n 8
}

# Reads batch.sh output (from either tier) on stdin until it ends, records verdicts,
# writes logs/<test>.log and console.log, and stops an L1 that stays silent for $silence s.
parse() {
	local line name rest
	local st last=$SECONDS
	while :; do
		IFS= read -r -t 10 line
		st=$?
		if ((st > 128)); then
			[[ -n $line ]] && printf '%s\n' "$line" >>"$out/console.log"
			line=""
		fi
		# Progress is a KITE- line (batch.sh's own, a heartbeat, or a
		# test's output): a wedged L1 kernel can go on printing soft-lockup
		# reports while nothing moves (see "When L1 hangs" in README.md).
		if ((SECONDS - last >= silence)) && [[ -n ${l1pid:-} ]]; then
			if ((!silent)); then
				silent=1
				say "L1 silent for $silence s${current:+ during $current}; stopping it. Last console lines:"
				tail -n 15 "$out/console.log" | sed 's/^/      | /'
				l1_registers
				kill -TERM "$l1pid" 2>/dev/null
			elif ((SECONDS - last >= silence + 20)); then
				kill -KILL "$l1pid" 2>/dev/null
			fi
		fi
		((st > 128)) && continue
		((st == 0)) || [[ -n $line ]] || break
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$out/console.log"
		[[ $line == KITE-* ]] && last=$SECONDS
		case $line in
		KITE-RUNNER-PID\ *) l1pid=${line#KITE-RUNNER-PID } ;;
		KITE-LAB-ALIVE\ *) ;;
		KITE-LAB-OUT\ *)
			rest=${line#KITE-LAB-OUT }
			name=${rest%%|*}
			[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || continue
			printf '%s\n' "${rest#*| }" >>"$out/logs/$name.log"
			((verbose)) && printf '    %s| %s\n' "$name" "${rest#*| }"
			;;
		KITE-LAB-BEGIN\ *)
			current=${line#KITE-LAB-BEGIN }
			((verbose)) && say "begin $current"
			;;
		KITE-LAB\ *)
			read -r _ name v r <<<"$line"
			[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || continue
			verdict[$name]=$v
			reason[$name]=$r
			[[ $name == "${current:-}" ]] && current=""
			# Said with the verdict: a test that was running when an L1 hung.
			((${hung[$name]:-0})) && r+=" (its first run was cut short by an L1 hang or crash; run again in a fresh L1)" && reason[$name]=$r
			printf '%s %-13s %s\n' "$v" "$name" "$r"
			if [[ $v == FAIL && -s $out/logs/$name.log ]]; then
				tail -n 12 "$out/logs/$name.log" | sed 's/^/      | /'
			fi
			;;
		KITE-BENCH*)
			printf '%s\n' "$line" >>"$out/bench.txt"
			say "$line"
			;;
		KITE-LAB-DONE* | KITE-L1\ * | KITE-LAB-ERROR*)
			if [[ -n ${tq:-} ]]; then
				say "${line} (L1 +$(($(date +%s) - tq)) s)"
			else
				say "$line"
			fi
			;;
		esac
	done
}

# The end of --bench-boot: fails unless the benchmark said ok=1.
bench_summary() {
	say "total $(($(date +%s) - t0)) s; benchmark lines in $out/bench.txt"
	grep -q '^KITE-BENCH-DONE .*ok=1' "$out/bench.txt"
}
