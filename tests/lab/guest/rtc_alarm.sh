#!/bin/sh
# rtc_alarm: Linux's rtc-cmos driver binds the CMOS RTC with its interrupt ("alarms up to
# ..."), and an alarm set 2 s ahead through /sys/class/rtc/rtc0/wakealarm fires: the rtc0
# line of /proc/interrupts counts it and the (one-shot) alarm is no longer set.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
rtc=/sys/class/rtc/rtc0
# Sum of the per-CPU counts on the rtc0 line of /proc/interrupts (empty: no such line).
rtc_irqs() {
	awk '$NF == "rtc0" { n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n }' \
		/proc/interrupts
}
dmesg | grep -i 'rtc' | sed 's/^/KITE-RTC dmesg: /'
[ -d $rtc ] || fail "no $rtc: rtc_cmos did not bind"
dmesg | grep -q 'rtc_cmos .*alarms up to' || fail "rtc_cmos has no alarms (no IRQ)"
before=$(rtc_irqs)
[ -n "$before" ] || fail "no rtc0 line in /proc/interrupts"
echo 0 >$rtc/wakealarm || fail "cannot clear wakealarm"
echo +2 >$rtc/wakealarm || fail "cannot set wakealarm"
set_to=$(cat $rtc/wakealarm)
echo "KITE-RTC now=$(cat $rtc/since_epoch) wakealarm=$set_to irqs=$before"
[ -n "$set_to" ] || fail "the alarm did not stay set"
sed 's/^/KITE-RTC proc: /' /proc/driver/rtc
i=0
while [ $i -lt 10 ] && [ -n "$(cat $rtc/wakealarm)" ]; do
	sleep 1
	i=$((i + 1))
done
after=$(rtc_irqs)
left=$(cat $rtc/wakealarm)
echo "KITE-RTC now=$(cat $rtc/since_epoch) wakealarm=$left irqs=$after after ${i}s"
grep rtc0 /proc/interrupts | sed 's/^/KITE-RTC interrupts: /'
[ -z "$left" ] || fail "alarm $left still set after ${i}s"
[ "$after" -gt "$before" ] || fail "rtc0 interrupts $before -> $after"
[ $i -ge 1 ] || fail "the alarm fired at once"
pass "alarm fired after ${i}s; rtc0 interrupts $before -> $after"
