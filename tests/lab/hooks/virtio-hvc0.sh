# virtio-hvc0 hook: SKIP while this kite has no --console option (virtio-console).
# shellcheck source=tests/lab/hooks/lib.sh
. "$LAB/hooks/lib.sh"
case $1 in
pre)
	[ -x "$KITE" ] || skip "no kite binary"
	"$KITE" --help 2>&1 | grep -q -e '--console' || skip "kite --help has no --console option (virtio-console not in this kite yet)"
	ok "kite has --console"
	;;
post) ;;
esac
