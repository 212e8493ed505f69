#!/bin/sh
# api_disks: the drives a config file or the API gave kite are there, in order, with
# their sizes and the tags the host wrote (hooks/api-lib.sh: disk). kite.disks= lists
# them: DEV:BYTES:TAG,... (TAG at the start of the first sector, TAG-END of the last one).
# Reads use O_DIRECT (no page cache: what the device returns now).
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
list=$(kite_arg disks) || skip "no kite.disks="
n=0
for d in $(echo "$list" | tr ',' ' '); do
	dev=${d%%:*}
	rest=${d#*:}
	want=${rest%%:*}
	tag=${rest#*:}
	[ -b "/dev/$dev" ] || fail "no /dev/$dev"
	bytes=$(($(cat "/sys/block/$dev/size") * 512))
	first=$(dd if="/dev/$dev" bs=512 count=1 iflag=direct 2>/dev/null | head -c ${#tag})
	last=$(dd if="/dev/$dev" bs=512 skip=$((bytes / 512 - 1)) count=1 iflag=direct 2>/dev/null |
		head -c $((${#tag} + 4)))
	echo "KITE-API-DISK $dev bytes=$bytes first=$first last=$last"
	[ "$bytes" = "$want" ] || fail "/dev/$dev has $bytes bytes, expected $want"
	[ "$first" = "$tag" ] || fail "/dev/$dev starts with '$first', expected '$tag'"
	[ "$last" = "$tag-END" ] || fail "last sector of /dev/$dev starts with '$last', expected '$tag-END'"
	n=$((n + 1))
done
pass "$n drive(s): sizes and tags right"
