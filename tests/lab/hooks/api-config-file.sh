# api-config-file hook: before, a Firecracker config file (vm.json: the small guest
# kernel + initrd, 2 vCPUs, 256 MiB, a 4 MiB drive) for `kite run --config-file vm.json
# --no-api`; after, no API socket was made.
# shellcheck source=tests/lab/hooks/api-lib.sh
. "$LAB/hooks/api-lib.sh"
case $1 in
pre) std_config vm.json && ok "vm.json written" ;;
post)
	s=$(find . -type s | head -n 1)
	[ -z "$s" ] || fail "--no-api, yet a socket appeared: $s"
	ok "no socket with --no-api"
	;;
esac
