#!/bin/sh
# virtio_disks: two --disk options appear as /dev/vda and /dev/vdb in that order, with the
# sizes (kite.vda_bytes=, kite.vdb_bytes=) and serials (kite.vda_serial=, kite.vdb_serial=;
# VIRTIO_BLK_T_GET_ID) given, and the last sector of each holds the tag the host wrote
# (hooks/virtio-disks.sh); reading past the end gives nothing.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
for d in vda vdb; do
	[ -b /dev/$d ] || fail "no /dev/$d"
	bytes=$(($(cat /sys/block/$d/size) * 512))
	serial=$(cat /sys/block/$d/serial 2>/dev/null)
	echo "KITE-DISK $d bytes=$bytes serial=$serial"
	want=$(kite_arg ${d}_bytes) || skip "no kite.${d}_bytes="
	[ "$bytes" = "$want" ] || fail "/dev/$d has $bytes bytes, expected $want"
	if want=$(kite_arg ${d}_serial); then
		[ "$serial" = "$want" ] || fail "/sys/block/$d/serial is '$serial', expected '$want'"
	fi
	last=$((bytes / 512 - 1))
	tag=$(dd if=/dev/$d bs=512 skip=$last count=1 2>/dev/null | head -c 18)
	case $d in vda) want=KITE-LAST-SECTOR-A ;; *) want=KITE-LAST-SECTOR-B ;; esac
	[ "$tag" = "$want" ] || fail "last sector of /dev/$d starts with '$tag', expected '$want'"
	n=$(dd if=/dev/$d bs=512 skip=$((last + 1)) count=1 2>/dev/null | wc -c)
	[ "$n" = 0 ] || fail "read past the end of /dev/$d gave $n bytes"
done
pass "vda and vdb: sizes, serials and last sectors right"
