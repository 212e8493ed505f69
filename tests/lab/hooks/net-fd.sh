# net-fd hook: the tiny kernel, tap kt1 opened by tapctl and passed to kite as --net
# fd=7: the guest's eth0 works (pings both ways).
# L1 side in hooks/net-lib.sh; the guest side is tests/lab/guest/net.sh.
# shellcheck source=tests/lab/hooks/net-lib.sh
. "$LAB/hooks/net-lib.sh"
case $1 in
pre) net_pre kt1 10.0.3.1/24 1500  ;;
drive) net_drive 10.0.3.2 56  ;;
post) net_post kt1 ;;
esac
