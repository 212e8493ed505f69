# net-tap hook: the tiny kernel, tap kt0 (MTU 1400) opened by kite: MAC and MTU as
# given, pings both ways, 16 MiB each way sha256-checked.
# L1 side in hooks/net-lib.sh; the guest side is tests/lab/guest/net.sh.
# shellcheck source=tests/lab/hooks/net-lib.sh
. "$LAB/hooks/net-lib.sh"
case $1 in
pre) net_pre kt0 10.0.2.1/24 1400 16 ;;
drive) net_drive 10.0.2.2 56 16 ;;
post) net_post kt0 ;;
esac
