# api-drive-swap hook: a config file with two drives, rootfs (vda, 4 MiB) and scratch
# (vdb, old.img: 1 MiB, tag KITE-SWAP-OLD), with the API on. When the guest has checked
# vdb (KITE-SWAP-READY, guest/api_swap.sh) the drive phase swaps it with
# PATCH /drives/scratch to new.img (3 MiB, tags KITE-SWAP-NEW/-END); GET /vm/config must
# then name new.img. The guest must see 6144 sectors and the new data.
# shellcheck source=tests/lab/hooks/api-lib.sh
. "$LAB/hooks/api-lib.sh"
case $1 in
pre)
	need_artifacts "$LAB/bzImage" "$LAB/initramfs.cpio.gz"
	need_curl
	disk rootfs.img 4194304 KITE-DRIVE-rootfs
	disk old.img 1048576 KITE-SWAP-OLD
	disk new.img 3145728 KITE-SWAP-NEW
	config_json "$LAB/bzImage" "$LAB/initramfs.cpio.gz" \
		"$FC_ARGS kite.test=api_disks,api_swap kite.disks=vda:4194304:KITE-DRIVE-rootfs" 1 256 \
		"$(drive_json rootfs "$PWD/rootfs.img"), $(drive_json scratch "$PWD/old.img")" >vm.json
	show vm.json
	ok "vm.json, rootfs.img (4 MiB), old.img (1 MiB), new.img (3 MiB) written"
	;;
drive)
	wait_sock 20
	wait_line '^KITE-SWAP-READY' 180
	api_ok PATCH /drives/scratch "{\"drive_id\": \"scratch\", \"path_on_host\": \"$WORK/new.img\"}"
	api_ok GET /vm/config
	case $api_body in *new.img*) ;; *) dfail "GET /vm/config does not name new.img after the PATCH" ;; esac
	;;
post) ;;
esac
