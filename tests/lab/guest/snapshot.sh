#!/bin/sh
# snapshot: the guest half of the snapshot-restore lab test (hooks/snapshot-restore.sh).
# Mounts the ext4 on /dev/vda, prints
#   KITE-SNAP-READY ged_irqs=<n> ged_dev=.. vmgenctr=.. driver=..
# then, every 0.5 s, appends "<n> <date +%s>" to /mnt/ticks.log, syncs, and prints
#   KITE-SNAP-TICK <n> <date +%s> ged=<n>   n = 1, 2, 3, ...
# (the line is printed only once it is on the disk, so every tick the host saw must be in
# the file, in order). The host pauses the VM, snapshots it, SIGKILLs that kite and
# restores the snapshot in a new one; the loop neither knows nor cares. Meanwhile a reader
# answers the console: "ping WORD" -> KITE-SNAP-ECHO WORD; "finish" ends the loop. Then:
#   KITE-SNAP-DATE guest=<date +%s>         (the host compares it with its own clock)
#   KITE-SNAP-VMGENID ged_irqs_before=<n> ged_irqs_after=<n> ged_dev=.. vmgenctr=.. driver=..
#   KITE-SNAP-DMESG <line>                  (kernel complaints, if any)
# and unmounts. ged_irqs is the interrupt count of the ACPI Generic Event Device (GSI 13,
# "ACPI:Ged" in /proc/interrupts; "none" if no driver requested it): kite raises it once
# per restore to announce a new VM generation ID. driver= is what bound VMGENCTR (the
# small guest kernel has CONFIG_VMGENID, so "vmgenid"); KITE-SNAP-RESEED: the kernel's
# line saying it reseeded its random generator for a virtual machine fork.
# kite.ticks=N: FAIL after N ticks without "finish" (default 600, i.e. >= 5 min).
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
max=$(kite_arg ticks) || max=600

# Sum over the CPU columns of the GED's line in /proc/interrupts. 6.1's evged.c names
# its interrupt "ACPI:Ged"; "ACPI:Event" is accepted too in case another kernel says so.
ged_count() {
	awk '/ACPI:Ged|ACPI:Event/ { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s; f = 1; exit }
	     END { if (!f) print "none" }' /proc/interrupts
}
# What the guest made of kite's DSDT: the GED (ACPI0013) and VMGENCTR devices, and the
# driver bound to the latter (vmgenid with CONFIG_VMGENID, else none).
vmgen_state() {
	v_ged=no v_gen=no v_drv=none
	for v_d in /sys/bus/acpi/devices/ACPI0013:*; do [ -e "$v_d" ] && v_ged=yes; done
	for v_d in /sys/bus/acpi/devices/VMGENCTR:*; do
		[ -e "$v_d" ] || continue
		v_gen=yes
		[ -L "$v_d/driver" ] && v_drv=$(basename "$(readlink "$v_d/driver")")
	done
	echo "ged_dev=$v_ged vmgenctr=$v_gen driver=$v_drv"
}
nap() { sleep 0.5 2>/dev/null || sleep 1; }

[ -b /dev/vda ] || fail "no /dev/vda (virtio-blk not probed?)"
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || fail "mount -t ext4 /dev/vda failed"
[ ! -e /mnt/ticks.log ] || fail "/mnt/ticks.log exists already: the disk is not the fresh one the hook made"
g0=$(ged_count)
# Typed commands must not be echoed back by the tty: an echo could land inside a tick line.
stty -echo 2>/dev/null || echo "KITE-SNAP-NOTE stty -echo failed: typed commands are echoed"
# Kernel messages stay in the log but off the console while ticking (a message could cut
# a tick line in two); the complaints that matter are looked for in dmesg below.
dmesg -n 1
rm -f /tmp/snap-finish
# The reader. An asynchronous list gets /dev/null as stdin unless told otherwise: fd 3 is
# the console. Each answer is one short write, which the tty keeps whole.
exec 3<&0
(
	while IFS= read -r c; do
		c=$(printf '%s' "$c" | tr -d '\r')
		case $c in
		"ping "*) echo "KITE-SNAP-ECHO ${c#ping }" ;;
		finish) : >/tmp/snap-finish; exit 0 ;;
		"") ;;
		*) echo "KITE-SNAP-UNKNOWN '$c'" ;;
		esac
	done
	echo "KITE-SNAP-NOTE the console reached end of input"
) <&3 &
rpid=$!
exec 3<&-
echo "KITE-SNAP-READY ged_irqs=$g0 $(vmgen_state)"

i=0
while [ ! -e /tmp/snap-finish ]; do
	i=$((i + 1))
	if [ "$i" -gt "$max" ]; then
		kill "$rpid" 2>/dev/null
		umount /mnt
		fail "no 'finish' on the console within $max ticks"
	fi
	now=$(date +%s)
	echo "$i $now" >>/mnt/ticks.log || fail "appending tick $i to /mnt/ticks.log failed"
	sync
	echo "KITE-SNAP-TICK $i $now ged=$(ged_count)"
	nap
done
wait "$rpid"
echo "KITE-SNAP-DATE guest=$(date +%s)"
echo "KITE-SNAP-VMGENID ged_irqs_before=$g0 ged_irqs_after=$(ged_count) $(vmgen_state)"
# The vmgenid driver's work: Linux reseeds its random generator when the generation ID
# changes, and says so once ("crng reseeded due to virtual machine fork").
echo "KITE-SNAP-RESEED $(dmesg | grep -m 1 'virtual machine fork' || echo "none ($(dmesg | grep -m 1 'crng init done' || echo 'crng never ready'))")"
bad=$(dmesg | grep -E 'soft lockup|rcu_sched self-detected stall|rcu: INFO|BUG:|Call Trace' | head -n 5)
[ -z "$bad" ] || echo "$bad" | while IFS= read -r l; do echo "KITE-SNAP-DMESG $l"; done
dmesg -n 7
stty echo 2>/dev/null
# The file as the guest sees it: every tick, once, in order (the host checks the image too).
seqerr=$(awk '$1 != NR { print "line " NR " is tick " $1; exit }' /mnt/ticks.log)
n=$(wc -l </mnt/ticks.log)
umount /mnt || fail "umount /mnt failed"
[ -z "$bad" ] || fail "kernel log: $(echo "$bad" | head -n 1)"
[ -z "$seqerr" ] || fail "/mnt/ticks.log: $seqerr"
[ "$n" -eq "$i" ] || fail "/mnt/ticks.log has $n lines after $i ticks"
pass "$i ticks written and synced to ext4, in order; unmounted cleanly"
