#!/bin/sh
# cmdline: prints the command line the kernel got; the lab compares it with what it passed.
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
echo "KITE-CMDLINE $(cat /proc/cmdline)"
pass "printed"
