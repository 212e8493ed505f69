# reboot-restart hook: before, a 1 MiB sparse disk (the guest's boot counter); after,
# the counter reads 2 (two reboots, each restarted by kite, then a clean poweroff).
# shellcheck source=tests/lab/hooks/lib.sh
. "$LAB/hooks/lib.sh"
case $1 in
pre)
	rm -f disk.img
	truncate -s 1048576 disk.img || fail "truncate failed"
	ok "disk.img: 1 MiB sparse"
	;;
post)
	n=$(dd if=disk.img bs=16 count=1 2>/dev/null | tr -dc 0-9)
	[ "$n" = 2 ] || fail "boot counter in the image is '$n', expected 2"
	ok "boot counter in the image: 2"
	;;
esac
