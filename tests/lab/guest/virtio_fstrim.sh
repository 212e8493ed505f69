#!/bin/sh
# virtio_fstrim: on the ext4 of /dev/vda, writes an 8 MiB file to keep and a 32 MiB file,
# deletes the latter and runs fstrim -v; it must report at least 32 MiB trimmed.
# hooks/virtio-fstrim.sh then checks that the image's allocation shrank accordingly.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
[ -b /dev/vda ] || fail "no /dev/vda"
echo "KITE-DISCARD max_bytes=$(cat /sys/block/vda/queue/discard_max_bytes)"
[ "$(cat /sys/block/vda/queue/discard_max_bytes)" -gt 0 ] || fail "/dev/vda has no discard support"
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || fail "mount -t ext4 /dev/vda failed"
dd if=/dev/zero of=/mnt/keep bs=1048576 count=8 conv=fsync 2>/dev/null || fail "writing /mnt/keep failed"
dd if=/dev/zero of=/mnt/big bs=1048576 count=32 conv=fsync 2>/dev/null || fail "writing /mnt/big failed"
sync
rm /mnt/big
sync
out=$(fstrim -v /mnt 2>&1) || fail "fstrim -v /mnt failed: $out"
echo "KITE-FSTRIM $out"
n=$(echo "$out" | sed -n 's/.*: \([0-9]*\) bytes trimmed.*/\1/p')
umount /mnt || fail "umount failed"
[ -n "$n" ] || fail "cannot parse fstrim output '$out'"
[ "$n" -ge 33554432 ] || fail "fstrim trimmed $n bytes, expected >= 32 MiB"
pass "fstrim trimmed $n bytes"
