#!/bin/sh
# api_cad: waits until the AT keyboard behind the i8042 is bound (atkbd), prints
# KITE-CAD-READY and waits: the host then sends Ctrl-Alt-Del through the API
# (PUT /actions SendCtrlAltDel, hooks/api-ctrl-alt-del.sh) and the kernel reboots
# (no init here disables C_A_D: the kernel restarts at once; reboot=k: through the
# keyboard controller). FAILs if the guest is still running 60 s later.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
bound() { # an i8042 port bound to atkbd
	for p in /sys/bus/serio/drivers/atkbd/serio*; do [ -e "$p" ] && return 0; done
	return 1
}
n=0
until bound; do
	n=$((n + 1))
	[ $n -le 40 ] || fail "no AT keyboard bound after 20 s: $(dmesg | grep -i -E 'i8042|serio|atkbd' | tr '\n' '|')"
	sleep 0.5
done
echo "KITE-I8042 $(dmesg | grep -i -E 'i8042 KBD|input: AT' | tr '\n' '|')"
echo "KITE-CAD-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
sleep 60
fail "still running 60 s after KITE-CAD-READY: no Ctrl-Alt-Del reboot"
