#!/bin/sh
# virtio_ro: with --disk IMG,ro the kernel sees a read-only disk (/sys/block/vda/ro = 1),
# reads work, and writes fail (buffered with fsync, and O_DIRECT). Prints the sha256 of
# the whole disk (KITE-RO-SHA256), which hooks/virtio-ro.sh compares with the image.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
[ -b /dev/vda ] || fail "no /dev/vda"
ro=$(cat /sys/block/vda/ro)
[ "$ro" = 1 ] || fail "/sys/block/vda/ro is '$ro', expected 1"
echo "KITE-RO-SHA256 $(sha256sum /dev/vda | cut -d' ' -f1)"
n=$(dd if=/dev/vda bs=4096 count=16 iflag=direct 2>/dev/null | wc -c)
[ "$n" = 65536 ] || fail "O_DIRECT read of 64 KiB gave $n bytes"
if dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct 2>/tmp/dd.err; then
	fail "O_DIRECT write to the read-only /dev/vda succeeded"
fi
echo "KITE-RO-DIRECT-WRITE refused: $(head -n 1 /tmp/dd.err)"
if dd if=/dev/zero of=/dev/vda bs=4096 seek=8 count=1 conv=fsync 2>/tmp/dd.err; then
	fail "buffered write + fsync to the read-only /dev/vda succeeded"
fi
echo "KITE-RO-WRITE refused: $(head -n 1 /tmp/dd.err)"
pass "ro=1, reads work, writes refused"
