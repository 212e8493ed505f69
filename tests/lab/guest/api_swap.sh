#!/bin/sh
# api_swap: /dev/vdb starts as the 1 MiB image (2048 sectors, tag KITE-SWAP-OLD); after
# KITE-SWAP-READY the host PATCHes the drive to a 3 MiB image (hooks/api-drive-swap.sh):
# the guest must see the new size (6144 sectors; virtio-blk config-change interrupt,
# Linux logs "capacity change") within 60 s and read the new image's tags with O_DIRECT.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
tag() { # dev sector length
	dd if="/dev/$1" bs=512 skip="$2" count=1 iflag=direct 2>/dev/null | head -c "$3"
}
[ -b /dev/vdb ] || fail "no /dev/vdb"
s=$(cat /sys/block/vdb/size)
t=$(tag vdb 0 13)
echo "KITE-SWAP-BEFORE size=$s first=$t"
[ "$s" = 2048 ] || fail "/sys/block/vdb/size is $s before the swap, expected 2048"
[ "$t" = KITE-SWAP-OLD ] || fail "/dev/vdb starts with '$t' before the swap, expected KITE-SWAP-OLD"
echo "KITE-SWAP-READY"
n=0
while [ "$(cat /sys/block/vdb/size)" = 2048 ]; do
	n=$((n + 1))
	[ $n -le 300 ] || fail "/sys/block/vdb/size still 2048 60 s after KITE-SWAP-READY"
	sleep 0.2
done
s=$(cat /sys/block/vdb/size)
echo "KITE-SWAP-SIZE $s after ~$((n / 5)) s"
echo "KITE-SWAP-DMESG $(dmesg | grep -E 'vdb' | tail -n 3 | tr '\n' '|')"
[ "$s" = 6144 ] || fail "/sys/block/vdb/size is $s after the swap, expected 6144"
first=$(tag vdb 0 13)
last=$(tag vdb 6143 17)
echo "KITE-SWAP-AFTER first=$first last=$last"
[ "$first" = KITE-SWAP-NEW ] || fail "/dev/vdb starts with '$first' after the swap, expected KITE-SWAP-NEW"
[ "$last" = KITE-SWAP-NEW-END ] || fail "last sector of /dev/vdb starts with '$last', expected KITE-SWAP-NEW-END"
pass "vdb: 2048 -> $s sectors, the new image's data"
