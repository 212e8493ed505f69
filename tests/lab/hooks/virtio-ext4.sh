# virtio-ext4 hook: before, a 64 MiB sparse image with a fresh ext4; after the guest wrote
# /hello.txt and /blob (a copy of its initrd's /data/blob) and unmounted, the host reads
# them back from the image with debugfs and checks the file system with e2fsck.
# shellcheck source=tests/lab/hooks/lib.sh
. "$LAB/hooks/lib.sh"
need mkfs.ext4 debugfs e2fsck
case $1 in
pre)
	mk_ext4 disk.img 67108864
	ok "disk.img: 64 MiB ext4"
	;;
post)
	[ -f disk.img ] || fail "disk.img vanished"
	# Must match tests/lab/guest/virtio_ext4.sh.
	want="kite-virtio-ext4-hello-0123456789"
	got=$(debugfs -R 'cat /hello.txt' disk.img 2>/dev/null)
	[ "$got" = "$want" ] || fail "host reads /hello.txt as '$got', guest wrote '$want'"
	rm -f blob.out
	debugfs -R 'dump /blob blob.out' disk.img >/dev/null 2>&1
	[ -f blob.out ] || fail "host cannot dump /blob from the image"
	s=$(sha blob.out)
	[ "$s" = "$(blob_sha)" ] || fail "/blob in the image has sha256 $s, the initrd's is $(blob_sha)"
	out=$(e2fsck -fn disk.img 2>&1) || fail "e2fsck -fn: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
	ok "host sees /hello.txt and /blob ($(wc -c <blob.out) bytes, sha256 ok); e2fsck clean"
	;;
esac
