#!/bin/sh
# virtio_rng: with --rng, the hw_random core uses virtio-rng and /dev/hwrng gives bytes
# (64 at a time, two reads that differ and are not all zero).
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
cur=$(cat /sys/devices/virtual/misc/hw_random/rng_current 2>/dev/null)
echo "KITE-RNG current=$cur available=$(cat /sys/devices/virtual/misc/hw_random/rng_available 2>/dev/null)"
case $cur in *virtio*) ;; *) fail "rng_current is '$cur', not virtio" ;; esac
[ -c /dev/hwrng ] || fail "no /dev/hwrng"
a=$(head -c 64 /dev/hwrng | od -An -tx1 | tr -d ' \n')
b=$(head -c 64 /dev/hwrng | od -An -tx1 | tr -d ' \n')
echo "KITE-RNG a=$a"
[ ${#a} = 128 ] || fail "got ${#a} hex digits from 64 bytes of /dev/hwrng"
[ ${#b} = 128 ] || fail "second read: ${#b} hex digits"
[ "$a" != "$b" ] || fail "two reads of /dev/hwrng are equal"
case $a in *[1-9a-f]*) ;; *) fail "64 zero bytes from /dev/hwrng" ;; esac
pass "$cur: 2 x 64 bytes"
