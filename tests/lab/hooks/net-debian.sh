# net-debian hook: Debian's kernel with its virtio_net module, tap kt2 with MTU 9000: MAC
# and MTU as given, 8000-byte pings both ways (no fragmentation).
# L1 side in hooks/net-lib.sh; the guest side is tests/lab/guest/net.sh.
# shellcheck source=tests/lab/hooks/net-lib.sh
. "$LAB/hooks/net-lib.sh"
case $1 in
pre) net_pre kt2 10.0.4.1/24 9000  ;;
drive) net_drive 10.0.4.2 8000  ;;
post) net_post kt2 ;;
esac
