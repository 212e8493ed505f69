#!/bin/sh
# virtio_ext4: mounts the ext4 on /dev/vda (made by hooks/virtio-ext4.sh), writes
# /hello.txt and a copy of /data/blob, syncs, unmounts, remounts read-only and reads the
# blob back from the disk; the hook then reads both files from the image on the host.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
[ -b /dev/vda ] || fail "no /dev/vda (virtio-blk not probed?)"
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || fail "mount -t ext4 /dev/vda failed"
# Must match tests/lab/hooks/virtio-ext4.sh.
echo "kite-virtio-ext4-hello-0123456789" >/mnt/hello.txt || fail "write /mnt/hello.txt failed"
cp /data/blob /mnt/blob || fail "cp /data/blob /mnt/blob failed"
sync
umount /mnt || fail "umount failed"
# After umount the page cache of the files is gone: this reads the disk.
mount -t ext4 -o ro /dev/vda /mnt || fail "remount ro failed"
s=$(sha256sum /mnt/blob | cut -d' ' -f1)
h=$(cat /mnt/hello.txt)
umount /mnt || fail "second umount failed"
[ "$s" = "$(cat /data/blob.sha256)" ] || fail "blob read back from ext4 has sha256 $s"
[ "$h" = "kite-virtio-ext4-hello-0123456789" ] || fail "hello.txt read back as '$h'"
pass "wrote, synced, unmounted; read back intact"
