# api-firecracker-mode hook: `kite firecracker --no-api --config-file vm.json` (the config
# of api-config-file). pre: SKIP while this kite has no Firecracker mode (it is on the
# fcmode branch); prints `kite firecracker --version`. The vCPU thread names
# (`fc_vcpu N`) are checked by tests/integration/fcmode.sh.
# shellcheck source=tests/lab/hooks/api-lib.sh
. "$LAB/hooks/api-lib.sh"
case $1 in
pre)
	v=$("$KITE" firecracker --version 2>&1) ||
		skip "this kite has no Firecracker mode (kite firecracker --version: $(echo "$v" | head -n 1)); needs the fcmode branch"
	echo "$v" | head -n 2
	echo "$v" | head -n 1 | grep -q '^Firecracker v' || fail "kite firecracker --version: first line is not 'Firecracker v...'"
	std_config vm.json && ok "vm.json written"
	;;
drive)
	# The thread names (fc_vcpu N) are checked on this host's KVM by
	# tests/integration/fcmode.sh; here: Linux boots in Firecracker mode.
	;;
post) ;;
esac
