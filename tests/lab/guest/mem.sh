#!/bin/sh
# mem: MemTotal is about the RAM kite was asked for (kite.expect_mem_mib=N): at most N MiB
# and at least 85% of it minus 32 MiB (kernel image, reserved areas and the initrd are
# not counted in MemTotal).
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
echo "KITE-MEMTOTAL-KIB $kib"
want=$(kite_arg expect_mem_mib) || skip "no kite.expect_mem_mib= on the command line"
max=$((want * 1024))
min=$((want * 1024 * 85 / 100 - 32 * 1024))
[ "$kib" -le "$max" ] || fail "MemTotal $kib KiB > $max KiB asked for"
[ "$kib" -ge "$min" ] || fail "MemTotal $kib KiB < $min KiB (85% of $want MiB - 32 MiB)"
pass "MemTotal $kib KiB for $want MiB"
