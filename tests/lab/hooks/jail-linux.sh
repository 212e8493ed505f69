# jail-linux hook (issue 12, "Jail, from outside"): the tiny kernel under
# `kite run --jail jail --uid 4242 --gid 4243 --netns /run/netns/kitelab --cgroup pids.max=57
# --rlimit nofile=300,fsize=536870912` with a virtio-blk disk, a tap and vsock. The ids,
# namespace and limits must match the test's cmd in tests.txt.
# pre: the network namespace /run/netns/kitelab holding tap kj0 = 10.0.5.1/24, cgroup2
#   (hooks/jail-lib.sh jail_pre), a 64 MiB ext4 disk.img, the jail directory (a marker
#   file, run/ owned by the jail's uid for the vsock socket).
# drive (while the guest runs): the outside checks of hooks/jail-lib.sh on kite's /proc,
#   then net-tap's L1 side inside the namespace (pings, 4 MiB each way), then the vsock
#   test's (hooks/vsock.sh) against the socket kite made in the jail.
# post: what the guest wrote to the disk (hooks/virtio-ext4.sh post), the vsock socket
#   gone; removes the tap, the namespace and kite's cgroup.
# shellcheck source=tests/lab/hooks/net-lib.sh
. "$LAB/hooks/net-lib.sh"
# shellcheck source=tests/lab/hooks/jail-lib.sh
. "$LAB/hooks/jail-lib.sh"
JUID=4242 JGID=4243
NS=/run/netns/kitelab
NOFILE=300 FSIZE=536870912

case $1 in
pre)
	jail_pre kj0 10.0.5.1/24 4
	mk_ext4 disk.img 67108864
	mkdir -p jail/run
	chown "$JUID:$JGID" jail/run || fail "chown jail/run"
	echo "kite-jail-marker-$$" >jail/marker
	ok "netns $NS with tap kj0 10.0.5.1/24, cgroup2 at $(cgroot), 64 MiB ext4 disk.img, jail/"
	;;
drive)
	wait_line '^KITE-GUEST-INIT' 180
	jail_wait "$KITE_PID" $JUID
	jail_ids "$KITE_PID" $JUID $JGID
	jail_root "$KITE_PID" "$WORK/jail" tmpfs
	jail_netns "$KITE_PID" "$NS"
	jail_cgroup "$KITE_PID" pids.max 57
	jail_limits "$KITE_PID" $NOFILE $FSIZE
	jail_env "$KITE_PID"
	jail_fds "$KITE_PID" "$WORK/disk.img" "$WORK/kite.fifo" "${WORK%/*}/in"
	s=$WORK/jail/run/v.sock
	[ -S "$s" ] && [ "$(stat -c %u:%g "$s")" = "$JUID:$JGID" ] ||
		jfail "vsock socket: $(ls -ln "$WORK/jail/run" | tr '\n' ' ')"
	jok "vsock --vsock uds=/run/v.sock is $s, made in the jail by $JUID:$JGID"
	jail_io 10.0.5.2 4 "$s"
	;;
post)
	jail_post kj0
	c=$(cgroot)
	[ -n "$c" ] && rmdir "$c"/kite/kite-* "$c/kite" 2>/dev/null
	r=$(sh "$LAB/hooks/virtio-ext4.sh" post 2>&1) || fail "disk: $(echo "$r" | tail -n 1)"
	[ ! -e jail/run/v.sock ] || fail "the vsock socket jail/run/v.sock is left behind"
	ok "disk: $(echo "$r" | tail -n 1); vsock socket removed; netns, tap and cgroup removed"
	;;
esac
