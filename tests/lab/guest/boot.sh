#!/bin/sh
# boot: reaching this script means the kernel ran /init from the initrd.
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
pass "init reached at uptime $(cut -d' ' -f1 /proc/uptime) s, kernel $(uname -r)"
