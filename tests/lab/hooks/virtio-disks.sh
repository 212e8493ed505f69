# virtio-disks hook: two sparse images, 16 MiB and 40 MiB, each with a tag in its last
# sector; the guest checks sizes, serials and reads the tags through /dev/vda and /dev/vdb.
# shellcheck source=tests/lab/hooks/lib.sh
. "$LAB/hooks/lib.sh"
case $1 in
pre)
	rm -f a.img b.img
	{ truncate -s 16777216 a.img && truncate -s 41943040 b.img; } || fail "truncate failed"
	printf 'KITE-LAST-SECTOR-A' | dd of=a.img bs=512 seek=32767 conv=notrunc 2>/dev/null
	printf 'KITE-LAST-SECTOR-B' | dd of=b.img bs=512 seek=81919 conv=notrunc 2>/dev/null
	[ "$(stat -c %s a.img) $(stat -c %s b.img)" = "16777216 41943040" ] || fail "image sizes wrong after tagging"
	ok "a.img 16 MiB, b.img 40 MiB, tagged last sectors"
	;;
post) ;;
esac
