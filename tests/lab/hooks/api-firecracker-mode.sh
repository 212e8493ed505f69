# api-firecracker-mode hook: `kite firecracker --no-api --config-file vm.json` (the config
# of api-config-file). pre: SKIP while this kite has no Firecracker mode (it is on the
# fcmode branch); prints `kite firecracker --version`. drive (hooks/api-run.sh): once the
# guest's init runs, kite's threads must include the vCPUs named as Firecracker's
# (`fc_vcpu 0`, `fc_vcpu 1`: Kata Containers finds them by that prefix).
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
	wait_line '^KITE-GUEST-INIT' 180
	th=$(cat /proc/"$KITE_PID"/task/*/comm 2>/dev/null | tr '\n' ',')
	echo "KITE-API-THREADS $th"
	for i in 0 1; do
		case ",$th" in *",fc_vcpu $i,"*) ;; *) dfail "no thread named 'fc_vcpu $i' in kite: $th" ;; esac
	done
	;;
post) ;;
esac
