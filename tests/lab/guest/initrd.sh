#!/bin/sh
# initrd: checksum of /data/blob (random, baked into the initrd); the lab compares it with
# the sha256 recorded when the initrd was built. Also checked here against the copy inside.
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
[ -f /data/blob ] || fail "/data/blob missing from the initrd"
sum=$(sha256sum /data/blob | cut -d' ' -f1)
echo "KITE-INITRD-SHA256 $sum"
[ "$sum" = "$(cat /data/blob.sha256)" ] || fail "blob sha256 $sum != recorded $(cat /data/blob.sha256)"
pass "blob $(wc -c </data/blob) bytes intact"
