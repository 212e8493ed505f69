# virtio-kill9 hook: before, a 16 MiB sparse image; the guest copies its initrd's 4 MiB
# /data/blob to /dev/vda at 1 MiB with conv=fsync, runs sync, prints KITE-DURABLE-SYNCED and
# sleeps; batch.sh kills kite with SIGKILL on that line (kill-at=). After: the 4 MiB at 1 MiB
# in the image are the blob, i.e. everything the guest had flushed was in the image file.
# shellcheck source=tests/lab/hooks/lib.sh
. "$LAB/hooks/lib.sh"
case $1 in
pre)
	rm -f disk.img
	truncate -s 16777216 disk.img || fail "truncate failed"
	blob_sha >/dev/null
	ok "disk.img: 16 MiB sparse"
	;;
post)
	[ "$KITE_LAB_RC" = 137 ] || fail "kite exit status '$KITE_LAB_RC', expected 137 (SIGKILL at the marker)"
	s=$(dd if=disk.img bs=1048576 skip=1 count=4 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$s" = "$(blob_sha)" ] || fail "after SIGKILL, the image's 4 MiB at 1 MiB have sha256 $s, the guest wrote $(blob_sha)"
	ok "after SIGKILL the image holds the 4 MiB the guest had synced"
	;;
esac
