# api-ctrl-alt-del hook: the small guest with Firecracker's boot_args (reboot=k, the
# i8042 options; no i8042.nokbd) from a config file, with the API on; once the guest's
# AT keyboard is bound (KITE-CAD-READY, guest/api_cad.sh) the drive phase sends
# PUT /actions SendCtrlAltDel. The kernel reboots through the keyboard controller and kite
# ends with status 3 (guest reset; its default --on-reboot exit, as Firecracker ends when
# its guest reboots).
# shellcheck source=tests/lab/hooks/api-lib.sh
. "$LAB/hooks/api-lib.sh"
case $1 in
pre)
	need_artifacts "$LAB/bzImage" "$LAB/initramfs.cpio.gz"
	need_curl
	config_json "$LAB/bzImage" "$LAB/initramfs.cpio.gz" "$FC_ARGS kite.test=api_cad" 1 256 "" >vm.json
	show vm.json
	ok "vm.json written"
	;;
drive)
	wait_sock 20
	wait_line '^KITE-CAD-READY' 180
	api_ok PUT /actions '{"action_type": "SendCtrlAltDel"}'
	;;
post) ;;
esac
