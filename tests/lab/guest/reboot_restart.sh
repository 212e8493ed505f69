#!/bin/sh
# reboot_restart: kite runs with --on-reboot restart and a disk, the only memory that
# survives a restart (each boot is a fresh machine: new RAM, the kernel loaded again).
# Boots 0 and 1 count themselves in the first bytes of /dev/vda and reboot; boot 2 passes,
# and init powers off (kite exits 0).
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
[ -b /dev/vda ] || fail "no /dev/vda"
n=$(dd if=/dev/vda bs=16 count=1 2>/dev/null | tr -dc 0-9)
n=${n:-0}
echo "KITE-BOOT-COUNT $n"
if [ "$n" -lt 2 ]; then
	printf '%d\n' $((n + 1)) | dd of=/dev/vda bs=16 count=1 conv=notrunc,fsync 2>/dev/null ||
		fail "cannot write the boot count to /dev/vda"
	echo "KITE-REBOOTING after boot $n"
	reboot -f
	sleep 30
	fail "reboot -f returned"
fi
pass "boot $n, after two guest reboots that kite restarted"
