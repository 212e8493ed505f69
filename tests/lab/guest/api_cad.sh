#!/bin/sh
# api_cad: waits until the AT keyboard behind the i8042 is bound (atkbd), prints
# KITE-CAD-READY and waits: the host then sends Ctrl-Alt-Del through the API
# (PUT /actions SendCtrlAltDel, hooks/api-ctrl-alt-del.sh) and the kernel reboots
# (no init here disables C_A_D: the kernel restarts at once; reboot=k: through the
# keyboard controller). FAILs if the guest is still running 60 s later.
# Waits by polling the wall clock, not with sleep: with acpi=off (api-ctrl-alt-del-mptable)
# the guest's timers do not tick in the nested lab (tests.txt, virtio-irqs-mptable).
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
bound() { # an i8042 port bound to atkbd
	for p in /sys/bus/serio/drivers/atkbd/serio*; do [ -e "$p" ] && return 0; done
	return 1
}
t0=$(date +%s)
until bound; do
	[ $(($(date +%s) - t0)) -le 20 ] ||
		fail "no AT keyboard bound after 20 s: $(dmesg | grep -i -E 'i8042|serio|atkbd' | tr '\n' '|')"
done
echo "KITE-I8042 $(dmesg | grep -i -E 'i8042 KBD|input: AT' | tr '\n' '|')"
echo "KITE-CAD-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
t0=$(date +%s)
while [ $(($(date +%s) - t0)) -le 60 ]; do :; done
fail "still running 60 s after KITE-CAD-READY: no Ctrl-Alt-Del reboot"
