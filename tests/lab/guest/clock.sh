#!/bin/sh
# clock: prints the guest's wall clock; the lab compares it with its own clock at the
# moment the line arrives (check clock<=N in tests/lab/tests.txt).
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
echo "KITE-DATE $(date +%s)"
y=$(date +%Y)
[ "$y" -ge 2024 ] || fail "guest clock says year $y"
pass "year $y"
