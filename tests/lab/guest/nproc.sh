#!/bin/sh
# nproc: the guest sees the number of vCPUs kite was asked for (kite.expect_cpus=N).
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
n=$(nproc)
echo "KITE-NPROC $n"
want=$(kite_arg expect_cpus) || skip "no kite.expect_cpus= on the command line"
[ "$n" = "$want" ] || fail "nproc is $n, expected $want"
pass "nproc $n"
