#!/bin/sh
# api_pause: prints the wall clock every second while the host pauses the VM through the
# API (hooks/api-pause.sh) and resumes it:
#   KITE-TICK <n> <date +%s> <uptime>   n = 1, 2, 3, ... (the host checks none is lost or
#                                       repeated)
#   KITE-PAUSE-GAP <before> <after> <seconds>   the first jump of >= 5 s between two ticks
# then 5 more ticks, KITE-DATE (compared with the host's clock: clock<=N in tests.txt) and
# the kernel's complaints about the gap, if any (soft lockup, hung task, RCU stall).
# kite.ticks=N: at most N ticks without a gap (default 90), then FAIL.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
max=$(kite_arg ticks) || max=90
echo "KITE-WATCHDOG thresh=$(cat /proc/sys/kernel/watchdog_thresh 2>/dev/null)" \
	"soft=$(cat /proc/sys/kernel/soft_watchdog 2>/dev/null)" \
	"hung_task_timeout=$(cat /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null)" \
	"clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
# Kernel messages stay in the log but off the console while ticking (a message could cut
# a tick line in two); the complaints that matter are looked for in dmesg below.
dmesg -n 1
i=0 prev=$(date +%s) gap="" after=0
while :; do
	i=$((i + 1))
	now=$(date +%s)
	echo "KITE-TICK $i $now $(cut -d' ' -f1 /proc/uptime)"
	if [ -z "$gap" ] && [ $((now - prev)) -ge 5 ]; then
		gap="$prev $now $((now - prev))"
		echo "KITE-PAUSE-GAP $gap"
	fi
	if [ -n "$gap" ]; then
		after=$((after + 1))
		[ $after -gt 5 ] && break
	elif [ $i -ge "$max" ]; then
		fail "no jump of >= 5 s in the guest's clock within $max ticks (was the VM paused?)"
	fi
	prev=$now
	sleep 1
done
echo "KITE-DATE $(date +%s)"
dmesg -n 7
dmesg | tail -n 4 | while IFS= read -r l; do echo "KITE-PAUSE-DMESG $l"; done
bad=$(dmesg | grep -E -i 'soft lockup|hung task|blocked for more than|rcu.*stall' | head -n 3)
[ -z "$bad" ] || fail "kernel log after the pause: $(echo "$bad" | tr '\n' '|')"
pass "clock jumped ${gap##* } s across the pause; the kernel log has no complaint about it"
