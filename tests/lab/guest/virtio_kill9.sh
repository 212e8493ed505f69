#!/bin/sh
# virtio_kill9: copies /data/blob (4 MiB) to /dev/vda at 1 MiB with fsync, runs sync,
# prints KITE-DURABLE-SYNCED and waits to be killed: the lab sends SIGKILL to kite on that
# line (kill-at=) and hooks/virtio-kill9.sh checks that the image holds the blob.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
[ -b /dev/vda ] || fail "no /dev/vda"
dd if=/data/blob of=/dev/vda bs=1048576 seek=1 conv=fsync 2>/dev/null || fail "dd to /dev/vda failed"
sync
echo "KITE-DURABLE-SYNCED $(cat /data/blob.sha256)"
sleep 600
fail "still running 600 s after KITE-DURABLE-SYNCED: the lab did not kill kite"
