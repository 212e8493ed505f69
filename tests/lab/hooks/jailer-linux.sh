# jailer-linux hook (issue 12, through `kite jailer`, Firecracker's command line): the
# jailer builds Firecracker's layout under srv/firecracker/jl-1/root, joins
# /run/netns/kitelab and cgroup v2 firecracker/jl-1, drops to uid 4242 / gid 4243 and execs
# its copy of $LAB/firecracker (kite linked statically, staged by lib/artifacts.sh) with
# --no-api --config-file /vm.json: the tiny kernel with a virtio-blk disk, a tap and vsock,
# all named by paths inside the root. The ids, namespace and limits must match tests.txt.
# pre: jail_pre (hooks/jail-lib.sh: namespace, tap kj1 = 10.0.6.1/24, cgroup2), and in the
#   root: the kernel, the initrd, a 64 MiB ext4 disk.img owned by the jailed uid, a marker
#   file and vm.json.
# drive: the same outside checks as jail-linux on the exec'd VMM (the jailer's pid; one
#   mount, /, the device nodes made in root/dev), then the same network and vsock drive.
# post: the disk as jail-linux; removes the tap, the namespace and the cgroup.
# shellcheck source=tests/lab/hooks/net-lib.sh
. "$LAB/hooks/net-lib.sh"
# shellcheck source=tests/lab/hooks/jail-lib.sh
. "$LAB/hooks/jail-lib.sh"
JUID=4242 JGID=4243
NS=/run/netns/kitelab
NOFILE=300 FSIZE=536870912
ROOT=${KITE_LAB_WORK:-$WORK}/srv/firecracker/jl-1/root
MAC=02:4b:49:54:45:06

case $1 in
pre)
	[ -x "$LAB/firecracker" ] || skip "no static kite staged as $LAB/firecracker (lib/artifacts.sh: ninja tests/integration/kite-static)"
	jail_pre kj1 10.0.6.1/24 4
	mkdir -p "$ROOT"
	cp "$LAB/bzImage" "$LAB/initramfs.cpio.gz" "$ROOT/" || fail "copying the kernel and initrd into $ROOT"
	(cd "$ROOT" && mk_ext4 disk.img 67108864) || fail "mkfs in $ROOT"
	chown "$JUID:$JGID" "$ROOT/disk.img" || fail "chown disk.img"
	echo "kite-jailer-marker-$$" >"$ROOT/marker"
	cat >"$ROOT/vm.json" <<JSON
{
  "boot-source": {
    "kernel_image_path": "/bzImage",
    "initrd_path": "/initramfs.cpio.gz",
    "boot_args": "$FC_ARGS kite.test=virtio_ext4,net,vsock kite.net_ip=10.0.6.2/24 kite.net_peer=10.0.6.1 kite.expect_mac=$MAC kite.net_mib=4 kite.net_rxsha=$(cat tx.sha)"
  },
  "drives": [$(drive_json disk /disk.img)],
  "network-interfaces": [{"iface_id": "eth0", "host_dev_name": "kj1", "guest_mac": "$MAC"}],
  "vsock": {"guest_cid": 3, "uds_path": "/v.sock"},
  "machine-config": {"vcpu_count": 1, "mem_size_mib": 256, "smt": false}
}
JSON
	show "$ROOT/vm.json"
	ok "netns $NS with tap kj1 10.0.6.1/24, cgroup2 at $(cgroot); $ROOT: kernel, initrd, ext4 disk.img, vm.json"
	;;
drive)
	wait_line '^KITE-GUEST-INIT' 180
	jail_wait "$KITE_PID" $JUID
	exe=$(readlink "/proc/$KITE_PID/exe")
	case $exe in
	*/jl-1/root/firecracker | /firecracker) jok "exec the jailer exec'd its copy: $exe" ;;
	*) jfail "exe is '$exe', expected the copy <root>/firecracker" ;;
	esac
	jail_ids "$KITE_PID" $JUID $JGID
	jail_root "$KITE_PID" "$ROOT"
	jail_netns "$KITE_PID" "$NS"
	jail_cgroup "$KITE_PID" pids.max 57 /firecracker/jl-1
	jail_limits "$KITE_PID" $NOFILE $FSIZE
	jail_env "$KITE_PID"
	jail_fds "$KITE_PID" "$WORK/kite.fifo" "${WORK%/*}/in" /disk.img
	s=$ROOT/v.sock
	[ -S "$s" ] && [ "$(stat -c %u:%g "$s")" = "$JUID:$JGID" ] ||
		jfail "vsock socket: $(ls -ln "$ROOT" | tr '\n' ' ')"
	jok "vsock uds_path /v.sock is $s, made in the jail by $JUID:$JGID"
	jail_io 10.0.6.2 4 "$s"
	;;
post)
	jail_post kj1
	c=$(cgroot)
	[ -n "$c" ] && rmdir "$c/firecracker/jl-1" "$c/firecracker" 2>/dev/null
	[ -f "$ROOT/disk.img" ] || fail "no $ROOT/disk.img"
	r=$(cd "$ROOT" && sh "$LAB/hooks/virtio-ext4.sh" post 2>&1) || fail "disk: $(echo "$r" | tail -n 1)"
	ok "disk: $(echo "$r" | tail -n 1); netns, tap and cgroup removed"
	;;
esac
