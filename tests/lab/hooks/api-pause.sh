# api-pause hook: Debian's kernel (it has the soft-lockup and hung-task detectors, which
# the small guest kernel leaves out), 2 vCPUs, from a config file with the API on.
# watchdog_thresh=4 makes a soft lockup 8 s: a 10 s pause that the guest is not told about
# (KVM_KVMCLOCK_CTRL) would be reported as one. The guest prints KITE-TICK lines every
# second (guest/api_pause.sh); after tick 5 the drive phase pauses the VM (PATCH /vm
# Paused), checks GET / says "Paused", that no tick arrives and how much CPU kite uses in
# 10 s, then resumes it. post: the ticks are 1, 2, 3, ... each once and whole, and the
# guest's clock jumped by the time the host kept the VM paused (+-3 s).
# shellcheck source=tests/lab/hooks/api-lib.sh
. "$LAB/hooks/api-lib.sh"
PAUSE_S=${KITE_LAB_PAUSE_S:-10}
case $1 in
pre)
	need_artifacts "$LAB/debian-vmlinuz" "$LAB/initramfs-debian.cpio.gz"
	need_curl
	config_json "$LAB/debian-vmlinuz" "$LAB/initramfs-debian.cpio.gz" \
		"$FC_ARGS watchdog_thresh=4 kite.test=api_pause" 2 512 "" >vm.json
	show vm.json
	ok "vm.json written"
	;;
drive)
	wait_sock 20
	wait_line '^KITE-TICK 5 ' 240
	c0=$(cpu_ticks)
	t1=$(date +%s)
	api_ok PATCH /vm '{"state": "Paused"}'
	echo "KITE-API-PAUSED host=$t1 (PATCH answered after $(($(date +%s) - t1)) s)"
	api_ok GET /
	case $api_body in *'"Paused"'*) ;; *) dfail "GET / while paused: $api_body" ;; esac
	n0=$(grep -c '^KITE-TICK' "$KITE_OUT")
	sleep "$PAUSE_S"
	n1=$(grep -c '^KITE-TICK' "$KITE_OUT")
	c1=$(cpu_ticks)
	echo "KITE-API-WHILE-PAUSED ticks=$((n1 - n0)) kite_cpu=$((c1 - c0))/100 s in ${PAUSE_S} s"
	[ "$n1" = "$n0" ] || dfail "$((n1 - n0)) tick line(s) arrived while the VM was paused"
	[ $((c1 - c0)) -le $((PAUSE_S * 10)) ] ||
		dfail "kite used $((c1 - c0))/100 s of CPU in the ${PAUSE_S} s paused (more than 10%)"
	t2=$(date +%s)
	api_ok PATCH /vm '{"state": "Resumed"}'
	echo "KITE-API-RESUMED host=$t2 paused_for=$((t2 - t1))"
	api_ok GET /
	case $api_body in *'"Running"'*) ;; *) dfail "GET / after resume: $api_body" ;; esac
	;;
post)
	log=$KITE_LAB_LOG
	bad=$(grep '^KITE-TICK' "$log" | grep -Ev '^KITE-TICK [0-9]+ [0-9]{10} [0-9]+\.[0-9]{2}$' | head -n 1)
	[ -z "$bad" ] || fail "a broken tick line: '$bad'"
	seq=$(grep '^KITE-TICK' "$log" | awk '{ if ($2 != NR) { print "tick line " NR " is number " $2; exit } } END { if (NR == 0) print "no tick lines" }')
	[ -z "$seq" ] || fail "ticks lost or repeated: $seq"
	nt=$(grep -c '^KITE-TICK' "$log")
	gap=$(sed -n 's/^KITE-PAUSE-GAP [0-9]* [0-9]* \([0-9]*\).*/\1/p' "$log" | head -n 1)
	host=$(sed -n 's/^KITE-API-RESUMED .*paused_for=\([0-9]*\).*/\1/p' "$log" | head -n 1)
	[ -n "$gap" ] || fail "the guest saw no jump in its clock (no KITE-PAUSE-GAP line)"
	[ -n "$host" ] || fail "no KITE-API-RESUMED line"
	d=$((gap - host))
	[ $d -lt 0 ] && d=$((-d))
	[ $d -le 3 ] || fail "the guest's clock jumped $gap s across a pause of $host s (off by $d s)"
	ok "$nt ticks in order, none lost or repeated; the guest's clock jumped $gap s across a $host s pause"
	;;
esac
