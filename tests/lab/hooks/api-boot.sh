# api-boot hook: kite started with only --api-sock; the drive phase (hooks/api-run.sh)
# configures it the way Firecracker's getting-started guide and its Go SDK do
# (machine-config, boot-source, drives, then InstanceStart) and checks GET / says
# "Not started" before and "Running" after. The guest checks vCPUs, memory and the drive,
# and powers off (exit 0).
# shellcheck source=tests/lab/hooks/api-lib.sh
. "$LAB/hooks/api-lib.sh"
case $1 in
pre)
	need_artifacts "$LAB/bzImage" "$LAB/initramfs.cpio.gz"
	need_curl
	disk rootfs.img 4194304 KITE-DRIVE-rootfs
	ok "rootfs.img: 4 MiB"
	;;
drive)
	wait_sock 20
	api_ok GET /
	case $api_body in *'"Not started"'*) ;; *) dfail "GET / before InstanceStart: $api_body" ;; esac
	api_ok PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256, "smt": false}'
	api_ok PUT /boot-source "{\"kernel_image_path\": \"$LAB/bzImage\", \"initrd_path\": \"$LAB/initramfs.cpio.gz\", \"boot_args\": \"$FC_ARGS kite.test=boot,nproc,mem,api_disks kite.expect_cpus=2 kite.expect_mem_mib=256 kite.disks=vda:4194304:KITE-DRIVE-rootfs\"}"
	api_ok PUT /drives/rootfs "$(drive_json rootfs "$WORK/rootfs.img")"
	api_ok PUT /actions '{"action_type": "InstanceStart"}'
	api_ok GET /
	case $api_body in *'"Running"'*) ;; *) dfail "GET / after InstanceStart: $api_body" ;; esac
	wait_line '^KITE-GUEST-INIT' 180
	;;
post) ;;
esac
