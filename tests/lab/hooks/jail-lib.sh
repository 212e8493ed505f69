# shellcheck shell=sh
# hooks/jail-lib.sh: the outside view of a jailed kite (issue 12, "Jail, from outside"),
# sourced by hooks/jail-linux.sh in its drive phase, while the guest runs. Everything is
# read from L1's side: /proc/PID of kite (and of each of its threads), the namespace
# files, the cgroup file system. Each check prints `KITE-JAIL-OK <what> <detail>` or fails
# the drive phase (dfail: `KITE-API-DRIVE FAIL jail: <what> ...`, kite is then killed), so
# tests.txt expects one KITE-JAIL-OK line per check.
# shellcheck source=tests/lab/hooks/api-lib.sh
. "$LAB/hooks/api-lib.sh"

jok() { echo "KITE-JAIL-OK $*"; }
jfail() { dfail "jail: $*"; }

# status_line PID FIELD: the /proc/PID/status line FIELD, blanks squeezed to one space.
status_line() { grep "^$2:" "/proc/$1/status" 2>/dev/null | tr -s ' \t' '  ' | sed 's/ $//'; }

# jail_wait PID UID: until kite has dropped to UID (it jails itself before the guest).
jail_wait() {
	w_n=0
	until [ "$(stat -c %u "/proc/$1" 2>/dev/null)" = "$2" ]; do
		kite_alive || dfail "kite exited before it was jailed"
		w_n=$((w_n + 1))
		[ $w_n -le 120 ] || jfail "kite (pid $1) still runs as uid $(stat -c %u "/proc/$1" 2>/dev/null) after 60 s"
		nap
	done
}

# jail_ids PID UID GID: for kite and each of its threads: real/effective/saved/fs ids are
# UID and GID, no supplementary groups, every capability set empty, no_new_privs; and
# neither id has a passwd or group entry.
jail_ids() {
	p=$1 uid=$2 gid=$3
	grep -q "^[^:]*:[^:]*:$uid:" /etc/passwd 2>/dev/null && jfail "uid $uid has a passwd entry"
	grep -q "^[^:]*:[^:]*:$gid:" /etc/group 2>/dev/null && jfail "gid $gid has a group entry"
	n=0
	for t in "/proc/$p/task/"*; do
		t=${t##*/}
		for kv in "Uid:$uid $uid $uid $uid" "Gid:$gid $gid $gid $gid" "Groups:" \
			"CapInh:0000000000000000" "CapPrm:0000000000000000" "CapEff:0000000000000000" \
			"CapBnd:0000000000000000" "CapAmb:0000000000000000" "NoNewPrivs:1"; do
			k=${kv%%:*} want=${kv#*:}
			got=$(status_line "$p/task/$t" "$k")
			[ "$got" = "$k:${want:+ $want}" ] || jfail "thread $t ($(cat "/proc/$p/task/$t/comm")): '$got', expected '$k:${want:+ $want}'"
		done
		n=$((n + 1))
	done
	jok "ids uid=$uid gid=$gid (no passwd/group entry) groups=none in all $n threads"
	jok "caps CapEff=0 CapPrm=0 CapInh=0 CapBnd=0 CapAmb=0 NoNewPrivs=1 in all $n threads"
}

# jail_root PID DIR [DEV]: kite's root is DIR (a marker file written there by the hook
# reads the same through /proc/PID/root), its mount namespace is its own and holds exactly
# DIR as / and, with DEV=tmpfs (kite run --jail), the jail's tmpfs /dev; without (the
# jailer: nodes made in DIR/dev), nothing else. Either way the jail's /dev holds kvm and
# net/tun only.
jail_root() {
	p=$1 dir=$2 dev=${3:-}
	[ -f "$dir/marker" ] || jfail "no $dir/marker"
	[ "$(cat "/proc/$p/root/marker" 2>&1)" = "$(cat "$dir/marker")" ] ||
		jfail "root: /proc/$p/root/marker is '$(cat "/proc/$p/root/marker" 2>&1)'"
	jok "root /proc/$p/root is $dir (marker $(cat "$dir/marker"))"
	[ "$(stat -Lc %i "/proc/$p/ns/mnt")" != "$(stat -Lc %i /proc/self/ns/mnt)" ] ||
		jfail "kite shares L1's mount namespace"
	mnts=$(awk '{ print $5 }' "/proc/$p/mountinfo" | tr '\n' ' ')
	want="/ ${dev:+/dev }"
	[ "$mnts" = "$want" ] || jfail "mounts: '$mnts', expected '$want'"
	src=$(awk '$5 == "/" { print $4 }' "/proc/$p/mountinfo")
	[ "$src" = "$dir" ] || jfail "the root mount is '$src' of its file system, expected $dir"
	if [ -n "$dev" ]; then
		t=$(awk '$5 == "/dev" { print $(NF-2) }' "/proc/$p/mountinfo")
		[ "$t" = "$dev" ] || jfail "/dev is '$t', expected $dev"
	fi
	devs=$(cd "/proc/$p/root/dev" && find . | sort | tr '\n' ' ')
	[ "$devs" = ". ./kvm ./net ./net/tun " ] || jfail "the jail's /dev holds '$devs'"
	jok "mounts a namespace of its own with only / ($dir)${dev:+ and /dev ($dev)}; /dev: kvm, net/tun"
}

# jail_netns PID NSFILE: kite is in the network namespace NSFILE (not L1's).
jail_netns() {
	i=$(stat -Lc %i "/proc/$1/ns/net")
	[ "$i" = "$(stat -Lc %i "$2")" ] || jfail "netns: kite's is $i, $2 is $(stat -Lc %i "$2")"
	[ "$i" != "$(stat -Lc %i /proc/self/ns/net)" ] || jfail "netns: $2 is L1's own"
	jok "netns $2 (inode $i; L1's is $(stat -Lc %i /proc/self/ns/net))"
}

# jail_cgroup PID KEY VALUE [CGROUP]: kite (all threads) is in cgroup v2 CGROUP (default
# /kite/kite-PID, kite run --jail's), whose KEY holds VALUE.
jail_cgroup() {
	p=$1 rel=${4:-/kite/kite-$1}
	cg=$(cat "/proc/$p/cgroup")
	[ "$cg" = "0::$rel" ] || jfail "cgroup: '$(echo "$cg" | tr '\n' ' ')', expected 0::$rel"
	d=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)$rel
	[ "$(cat "$d/$2" 2>&1)" = "$3" ] || jfail "$d/$2 is '$(cat "$d/$2" 2>&1)', expected $3"
	for t in "/proc/$p/task/"*; do
		grep -qx "${t##*/}" "$d/cgroup.threads" || jfail "thread ${t##*/} is not in $d"
	done
	jok "cgroup $d: $2=$3, all $(wc -l <"$d/cgroup.threads") threads in it"
}

# jail_limits PID NOFILE FSIZE: soft and hard limits.
jail_limits() {
	grep -Eq "^Max open files +$2 +$2 " "/proc/$1/limits" || jfail "nofile: $(grep 'open files' "/proc/$1/limits")"
	grep -Eq "^Max file size +$3 +$3 " "/proc/$1/limits" || jfail "fsize: $(grep 'file size' "/proc/$1/limits")"
	jok "rlimits nofile=$2 fsize=$3 (soft and hard)"
}

# jail_env PID: the environment kite started with is blanked.
jail_env() {
	[ "$(tr -d '\0' <"/proc/$1/environ" | wc -c)" -eq 0 ] ||
		jfail "environment: $(tr '\0' ' ' <"/proc/$1/environ" | head -c 200)"
	jok "environ empty"
}

# jail_fds PID PATH...: every descriptor is a PATH given, /dev/kvm, /dev/net/tun, kite's
# guest RAM memfd, an anonymous inode (VM, vCPU, eventfd, io_uring...), a socket or the
# write end of the cleaner's pipe; each is listed in the log.
jail_fds() {
	p=$1
	shift
	bad="" n=0
	for f in "/proc/$p/fd/"*; do
		t=$(readlink "$f") || continue
		echo "KITE-JAIL-FD ${f##*/} -> $t"
		good=""
		for a in "$@" /dev/kvm /dev/net/tun; do [ "$t" = "$a" ] && good=1; done
		case $t in
		anon_inode:* | "/memfd:kite-guest-ram (deleted)" | socket:*) good=1 ;;
		# the write end of the pipe to kite's cleaner (its sealed records,
		# kept open until kite ends so that the cleaner knows when)
		pipe:*) grep -q '^flags:.*1$' "/proc/$p/fdinfo/${f##*/}" && good=1 ;;
		esac
		[ -n "$good" ] || bad="$bad ${f##*/}->$t"
		n=$((n + 1))
	done
	[ -z "$bad" ] || jfail "unexpected descriptors:$bad"
	jok "fds $n, each one kite opened for this machine (list: KITE-JAIL-FD lines)"
}

# The L1 side both jail tests share: $NS (a network namespace file) and the tap in it.
in_ns() { nsenter --net="$NS" "$@"; }
cgroot() { awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo; }

# jail_pre TAP L1_ADDR/24 MIB: SKIPs outside the lab's L1 or without root, e2fsprogs or
# socat; mounts cgroup2 on /sys/fs/cgroup if L1 has none; makes the network namespace $NS
# (`ip netns add`, else busybox `unshare --net=FILE`: busybox ip has no netns) and in it
# the tap (hooks/net-lib.sh net_pre: TAP up with L1_ADDR, tx.bin of MIB MiB and tx.sha).
jail_pre() {
	[ "${KITE_LAB_TIER:-}" = nested ] || [ "${KITE_LAB_NET_DIRECT:-}" = 1 ] ||
		skip "creates a network namespace, a tap and a cgroup: only inside the lab's L1 (KITE_LAB_NET_DIRECT=1 allows it here)"
	[ "$(id -u)" = 0 ] || skip "the jail needs root"
	need mkfs.ext4 debugfs e2fsck
	command -v socat >/dev/null || skip "needs socat where kite runs"
	if [ -z "$(cgroot)" ]; then
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail "mount -t cgroup2 on /sys/fs/cgroup failed"
	fi
	grep -qw pids "$(cgroot)/cgroup.controllers" || skip "no pids controller in $(cgroot)"
	mkdir -p "${NS%/*}"
	if [ -e "$NS" ]; then umount "$NS" 2>/dev/null; rm -f "$NS"; fi
	if ! ip netns add "${NS##*/}" 2>/dev/null; then
		: >"$NS"
		unshare --net="$NS" true || fail "unshare --net=$NS failed"
	fi
	[ "$(stat -Lc %i "$NS")" != "$(stat -Lc %i /proc/self/ns/net)" ] || fail "$NS is not a network namespace of its own"
	# shellcheck disable=SC2016 # expanded by the inner sh
	r=$(in_ns sh -c '. "$LAB/hooks/net-lib.sh"; net_pre "$0" "$1" 1500 "$2"' "$1" "$2" "$3" 2>&1)
	rc=$?
	echo "$r"
	[ $rc = 0 ] || { echo "in $NS: $(echo "$r" | tail -n 1)"; exit $rc; }
}

# jail_post TAP: the tap, the namespace and the transfer files go.
jail_post() {
	in_ns "$LAB/tapctl" del "$1" >/dev/null 2>&1
	umount "$NS" 2>/dev/null
	rm -f "$NS" tx.bin rx.bin
}

# jail_io GUEST_IP MIB UDS: while the guest runs: net-tap's L1 side in $NS (pings, MIB MiB
# each way), then the vsock test's (hooks/vsock.sh) against kite's socket UDS.
jail_io() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	in_ns sh -c '. "$LAB/hooks/net-lib.sh"; net_drive "$0" 56 "$1"' "$1" "$2" || exit 1
	# The socat listeners (guest-initiated connections) must let the jailed uid connect.
	umask 0
	VSOCK_UDS=$3 sh "$LAB/hooks/vsock.sh" drive || exit 1
}
