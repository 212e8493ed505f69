# virtio-ro hook: before, 8 MiB of random data and its sha256; after the guest (--disk ,ro)
# tried to write, the image is unchanged, and the sha256 the guest computed of /dev/vda
# (KITE-RO-SHA256 line) is the image's.
# shellcheck source=tests/lab/hooks/lib.sh
. "$LAB/hooks/lib.sh"
case $1 in
pre)
	dd if=/dev/urandom of=disk.img bs=1048576 count=8 2>/dev/null || fail "cannot write disk.img"
	sha disk.img >sha.pre
	ok "disk.img: 8 MiB random, sha256 $(cat sha.pre)"
	;;
post)
	now=$(sha disk.img)
	[ "$now" = "$(cat sha.pre)" ] || fail "read-only image changed: sha256 $(cat sha.pre) -> $now"
	g=$(sed -n 's/.*KITE-RO-SHA256 \([0-9a-f]*\).*/\1/p' "$KITE_LAB_LOG" | tail -n 1)
	[ "$g" = "$now" ] || fail "guest read sha256 '$g' from /dev/vda, image is $now"
	ok "image unchanged ($now), guest read the same bytes"
	;;
esac
