#!/bin/bash
# The jail and the jailer, judged from outside (issue 12, "Jail"): as root,
# with a numeric uid/gid that has no passwd entry, a CPL-3 guest runs under
# kite run --jail while /proc/PID shows its ids, capabilities, no_new_privs,
# root directory, mounts, network namespace, cgroup, rlimits, descriptors
# and environment; a virtio disk guest and an API-configured guest run
# jailed; --rlimit nofile too small and other bad set-ups fail with one
# line; --new-pid-ns and --daemonize; `kite jailer` builds Firecracker's
# layout (tree, device nodes, copied exec file, ownership, cgroup, pid
# file) and execs the copy, whose API the test drives through <root>.
. "$(dirname "$0")/lib.sh"
JAILER=${JAILER:?JAILER must point at the jailer link}
# Under ASan: LeakSanitizer reads /proc at exit, which the jail hides (the
# other whole-VM tests check leaks); everything else stays on.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
FIRECRACKER=${FIRECRACKER:?FIRECRACKER must point at the firecracker link}

# Needs no root: the options' errors.
run_kite opt-nouid run --image "$GUEST_DIR/demo.bin" --jail /tmp
expect_rc "--jail without --uid" 2
expect_err_line "--jail without --uid" "--jail needs --uid N and --gid N"
run_kite opt-alone run --image "$GUEST_DIR/demo.bin" --daemonize
expect_rc "--daemonize without --jail" 2
"$JAILER" --version | head -1 | grep -qx "Jailer v1.16.0" && ok "jailer link --version" ||
	fail "jailer --version: $("$JAILER" --version 2>&1)"
"$KITE" jailer --id 'bad id' --exec-file /bin/true --uid 1 --gid 1 >/dev/null 2>"$TMP/j.err"
rc=$?
[ $rc -eq 1 ] && grep -q -- "--id bad id" "$TMP/j.err" && ok "jailer: bad --id, exit 1" ||
	fail "jailer bad --id: exit $rc, $(cat "$TMP/j.err")"

[ "$(id -u)" -eq 0 ] || skip "the jail needs root (running as $(id -un))"
need_kvm
unshare -m -n true 2>/dev/null || skip "mount and network namespaces are not permitted here"
command -v ip >/dev/null || skip "no ip(8) to make a network namespace"
ID=4242
while getent passwd "$ID" >/dev/null || getent group "$ID" >/dev/null; do ID=$((ID + 1)); done
NS=kitejail$$
ip netns add "$NS" || skip "ip netns add failed"
cgdirs=()
cleanup() {
	[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	for d in "${cgdirs[@]}"; do rmdir "$d" "${d%/*}" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
ip -n "$NS" tuntap add dev kj0 mode tap && ip -n "$NS" link set kj0 up ||
	fail "test set-up: tap kj0 in $NS"
# The cgroup value: pids.max where some hierarchy offers pids, else a v2 core file.
if grep -q ' - cgroup cgroup .*[,]pids' /proc/self/mountinfo ||
	grep -qw pids "$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)/cgroup.controllers" 2>/dev/null; then
	CGKEY=pids.max CGVAL=57
else
	CGKEY=cgroup.max.descendants CGVAL=3
fi

JAIL=$TMP/jail
mkdir -p "$JAIL"
echo "marker-$$-$RANDOM" >"$JAIL/marker"
mkdir "$JAIL/run" && chown $ID:$ID "$JAIL/run" # the vsock socket's directory
dd if=/dev/zero of="$TMP/disk.img" bs=1M count=1 status=none

# gone_soon PATH: PATH disappears within 2 s (kite's cleaner removes what
# kite made on the host once kite has ended, just after it).
gone_soon() {
	for _ in $(seq 40); do [ -e "$1" ] || return 0; sleep 0.05; done
	return 1
}

# status_is FIELD VALUE: the /proc/$pid/status line, whitespace squeezed.
status_is() {
	local line
	line=$(grep "^$1:" "/proc/$pid/status" | tr -s ' \t' ' ')
	[ "$line" = "$1: $2" ] && ok "$1: $2" || fail "$1: '$line', expected '$2'"
}

# 1. A CPL-3 guest that echoes COM1 until '.', jailed with everything; an
# inherited descriptor (9) must not survive.
mkfifo "$TMP/in"
exec 9</etc/hostname
"$KITE" run --debug-exit --image "$GUEST_DIR/echo_user.bin" --mode long-user --load 0x100000 \
	--jail "$JAIL" --uid $ID --gid $ID --netns "/var/run/netns/$NS" --net tap=kj0 \
	--disk "$TMP/disk.img" --cgroup "$CGKEY=$CGVAL" --rlimit nofile=300,fsize=1000000000 \
	--vsock cid=3,uds=/run/v.sock \
	<"$TMP/in" >"$TMP/1.out" 2>"$TMP/1.err" &
pid=$!
exec 9<&-
exec 7>"$TMP/in"
for _ in $(seq 100); do
	[ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = "$ID" ] && break
	sleep 0.05
done
status_is Uid "$ID $ID $ID $ID"
status_is Gid "$ID $ID $ID $ID"
status_is Groups ""
for c in CapInh CapPrm CapEff CapBnd CapAmb; do status_is $c 0000000000000000; done
status_is NoNewPrivs 1
[ "$(cat "/proc/$pid/root/marker" 2>&1)" = "$(cat "$JAIL/marker")" ] &&
	ok "/proc/PID/root is the jail (marker)" || fail "root: $(ls "/proc/$pid/root/" 2>&1)"
mounts=$(awk '{print $5}' "/proc/$pid/mountinfo" | tr '\n' ' ')
root_src=$(awk '$5 == "/" {print $4}' "/proc/$pid/mountinfo")
[ "$mounts" = "/ /dev " ] && ok "mounts: only the jail's / and /dev" || fail "mounts: $mounts"
[ "$root_src" = "$(realpath "$JAIL")" ] && ok "the root mount is $JAIL" || fail "root mount: $root_src"
[ "$(stat -Lc %i "/proc/$pid/ns/net")" = "$(stat -Lc %i "/var/run/netns/$NS")" ] &&
	ok "network namespace: $NS" || fail "netns differs from $NS"
[ "$(stat -Lc %i "/proc/$pid/ns/mnt")" != "$(stat -Lc %i /proc/self/ns/mnt)" ] &&
	ok "a mount namespace of its own" || fail "same mount namespace as the test"
cgline=$(grep -E "(^0::|[:,]${CGKEY%%.*}[:,])" "/proc/$pid/cgroup" | grep "/kite/kite-$pid" | head -1)
cgpath=${cgline##*:}
cgmnt=$(awk -v k="${CGKEY%%.*}" '($9 == "cgroup" && index($NF, k)) || ($9 == "cgroup2" && k == "cgroup") {print $5; exit}' /proc/self/mountinfo)
[ -z "$cgmnt" ] && cgmnt=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
cgdirs+=("$cgmnt$cgpath")
if [ -n "$cgpath" ] && [ "$(cat "$cgmnt$cgpath/$CGKEY" 2>&1)" = "$CGVAL" ]; then
	ok "cgroup $cgpath: $CGKEY = $CGVAL"
else
	fail "cgroup: $(cat "/proc/$pid/cgroup" | tr '\n' ' '); $cgmnt$cgpath/$CGKEY: $(cat "$cgmnt$cgpath/$CGKEY" 2>&1)"
fi
grep -Eq '^Max open files +300 +300 ' "/proc/$pid/limits" && ok "rlimit nofile 300" ||
	fail "nofile: $(grep 'open files' "/proc/$pid/limits")"
grep -Eq '^Max file size +1000000000 +1000000000 ' "/proc/$pid/limits" && ok "rlimit fsize" ||
	fail "fsize: $(grep 'file size' "/proc/$pid/limits")"
[ "$(tr -d '\0' <"/proc/$pid/environ" | wc -c)" -eq 0 ] && ok "environment cleared" ||
	fail "environment: $(tr '\0' ' ' <"/proc/$pid/environ" | head -c 200)"
# Every descriptor is one kite opened for this machine.
bad=""
for f in /proc/$pid/fd/*; do
	t=$(readlink "$f")
	case "$t" in
	"$TMP/in" | "$TMP/1.out" | "$TMP/1.err" | "$TMP/disk.img" | /dev/kvm | /dev/net/tun) ;;
	anon_inode:* | "/memfd:kite-guest-ram (deleted)" | socket:*) ;;
	# The write end of the pipe to kite's cleaner (its records; kept
	# until kite ends, so that the cleaner knows when).
	pipe:*) grep -q '^flags:.*1$' "/proc/$pid/fdinfo/${f##*/}" || bad="$bad ${f##*/}->$t (read end)" ;;
	*) bad="$bad ${f##*/}->$t" ;;
	esac
done
[ -z "$bad" ] && ok "descriptors: only kite's ($(ls /proc/$pid/fd | wc -l))" || fail "unexpected descriptors:$bad"
[ -S "$JAIL/run/v.sock" ] && [ "$(stat -c %u "$JAIL/run/v.sock")" = "$ID" ] &&
	ok "--vsock uds=/run/v.sock made inside the jail, by $ID" || fail "vsock socket: $(ls -la "$JAIL/run")"
printf 'jail.' >&7
exec 7>&-
wait $pid
rc=$?
pid=
[ $rc -eq 0 ] && [ "$(cat "$TMP/1.out")" = "jail." ] && ok "the jailed guest echoed its input, exit 0" ||
	fail "jailed guest: exit $rc, out '$(cat "$TMP/1.out")', err $(cat "$TMP/1.err")"
[ ! -e "$JAIL/run/v.sock" ] && ok "the vsock socket removed at exit" || fail "vsock socket left behind"
[ -n "$cgpath" ] && gone_soon "$cgmnt$cgpath" && ok "kite's cgroup $cgpath removed after its exit" ||
	fail "cgroup $cgmnt$cgpath left behind: $(ls -d "$cgmnt$cgpath" 2>&1)"

# 2. A virtio-blk/rng driver at CPL 3 against a jailed kite.
# virtio.sh's image: sector 100 holds "KITE-PRE" then the bytes 0x10, 0x11, ...
img=$TMP/vdisk.img
dd if=/dev/zero of="$img" bs=1M count=1 status=none
{
	printf 'KITE-PRE'
	for i in $(seq 0 503); do printf "\\$(printf '%03o' $(((0x10 + i) & 0xff)))"; done
} >"$TMP/sector100"
dd if="$TMP/sector100" of="$img" bs=512 seek=100 conv=notrunc status=none
run_kite virtio run --debug-exit --image "$GUEST_DIR/virtio_guest.bin" --mode long-user \
	--load 0x100000 --disk "$img,serial=kite-test-01" --reg rdi=1 --jail "$JAIL" --uid $ID --gid $ID
expect_rc "jailed virtio-blk guest" 0
# At once on the same image: the jailed ring (no /proc to reopen the image
# by) shared the locked description, which the kernel freed late.
run_kite virtio2 run --debug-exit --image "$GUEST_DIR/virtio_guest.bin" --mode long-user \
	--load 0x100000 --disk "$img,serial=kite-test-01" --reg rdi=1 --jail "$JAIL" --uid $ID --gid $ID
expect_rc "jailed virtio-blk guest again at once (the image's lock is gone)" 0
# kill -9 of a jailed kite with a disk, then at once another on the image:
# the ring registered a description without the lock (opened before the
# jail), so however late the kernel frees it, the image is not locked.
mkfifo "$TMP/in9"
exec 6<>"$TMP/in9"
"$KITE" run --debug-exit --image "$GUEST_DIR/echo_user.bin" --mode long-user --load 0x100000 \
	--disk "$img" --jail "$JAIL" --uid $ID --gid $ID <"$TMP/in9" >/dev/null 2>"$TMP/k9.err" &
pid=$!
for _ in $(seq 100); do
	[ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = "$ID" ] && break
	sleep 0.05
done
sleep 0.2
kill -KILL $pid
wait $pid 2>/dev/null
pid=
exec 6>&-
run_kite virtio9 run --debug-exit --image "$GUEST_DIR/virtio_guest.bin" --mode long-user \
	--load 0x100000 --disk "$img,serial=kite-test-01" --reg rdi=1 --jail "$JAIL" --uid $ID --gid $ID
expect_rc "a disk guest at once after kill -9 of a jailed kite on the image" 0

# 3. Set-ups that cannot work end before the guest, with one line.
run_kite nofile run --debug-exit --image "$GUEST_DIR/demo.bin" --jail "$JAIL" --uid $ID --gid $ID \
	--rlimit nofile=3
expect_rc "--rlimit nofile=3" 2
expect_err_line "--rlimit nofile=3" "nofile=3 is too small"
[ ! -s "$out" ] && ok "nofile=3: no guest output" || fail "nofile=3: the guest ran: $(cat "$out")"
# Guest RAM is a memfd, so fsize bounds it too: below --memory, one line, exit 2.
run_kite fsize run --debug-exit --image "$GUEST_DIR/demo.bin" --memory 16M --jail "$JAIL" \
	--uid $ID --gid $ID --rlimit fsize=1048576
expect_rc "--rlimit fsize below --memory" 2
expect_err_line "--rlimit fsize below --memory" "the file size limit (--rlimit fsize) is below it"
run_kite nodir run --image "$GUEST_DIR/demo.bin" --jail "$TMP/none" --uid $ID --gid $ID
expect_rc "--jail missing directory" 2
expect_err_line "--jail missing directory" "--jail $TMP/none"
run_kite nons run --image "$GUEST_DIR/demo.bin" --jail "$JAIL" --uid $ID --gid $ID --netns "$TMP"
expect_rc "--netns not a namespace" 2
expect_err_line "--netns not a namespace" "--netns $TMP"
run_kite nocg run --image "$GUEST_DIR/demo.bin" --jail "$JAIL" --uid $ID --gid $ID --cgroup nosuch.x=1
expect_rc "--cgroup unknown controller" 2
expect_err_line "--cgroup unknown controller" "controller 'nosuch'"
# A v1 cpuset (Firecracker's own example, cpuset.cpus=0): a new cpuset has
# no cpus or mems, so kite fills them from its parent before it joins.
if grep -q ' - cgroup cgroup .*[,]cpuset' /proc/self/mountinfo; then
	run_kite cpuset run --debug-exit --image "$GUEST_DIR/demo.bin" --reg rax=2 --reg rbx=2 \
		--jail "$JAIL" --uid $ID --gid $ID --cgroup cpuset.cpus=0
	expect_rc "--cgroup cpuset.cpus=0 (v1)" 0
	expect_out "--cgroup cpuset.cpus=0 (v1)" '4\n'
	cgdirs+=(/sys/fs/cgroup/cpuset/kite/kite-*)
fi

# 4. --new-pid-ns: the seed demo as pid 1 of its namespace.
run_kite pidns run --debug-exit --image "$GUEST_DIR/demo.bin" --reg rax=2 --reg rbx=2 \
	--jail "$JAIL" --uid $ID --gid $ID --new-pid-ns
expect_rc "--new-pid-ns demo" 0
expect_out "--new-pid-ns demo" '4\n'
mkfifo "$TMP/in4"
"$KITE" run --debug-exit --image "$GUEST_DIR/echo_user.bin" --mode long-user --load 0x100000 \
	--jail "$JAIL" --uid $ID --gid $ID --new-pid-ns --api-sock "$TMP/api4.sock" --id jail-4 \
	--cgroup "$CGKEY=$CGVAL" <"$TMP/in4" >"$TMP/4.out" 2>"$TMP/4.err" &
pid=$!
exec 7>"$TMP/in4"
inner=
for _ in $(seq 100); do
	inner=$(pgrep -P $pid | head -1)
	[ -n "$inner" ] && [ "$(stat -c %u "/proc/$inner" 2>/dev/null)" = "$ID" ] && break
	sleep 0.05
done
nspid=$(grep '^NSpid:' "/proc/$inner/status" 2>/dev/null | awk '{print $NF}')
[ "$nspid" = 1 ] && ok "--new-pid-ns: kite is pid 1 of its namespace" || fail "NSpid: '$nspid'"
kill -TERM $pid
exec 7>&-
wait $pid
rc=$?
pid=
[ $rc -eq 143 ] && ok "--new-pid-ns: SIGTERM passed on, exit 143" || fail "--new-pid-ns SIGTERM: exit $rc"
# The waiting process removes them before it ends: no delay.
[ ! -e "$TMP/api4.sock" ] && ok "--new-pid-ns: the API socket removed when kite returns" ||
	fail "--new-pid-ns: $TMP/api4.sock left behind"
cg4=$(ls -d /sys/fs/cgroup/*/kite/jail-4 /sys/fs/cgroup/kite/jail-4 2>/dev/null)
[ -z "$cg4" ] && ok "--new-pid-ns: the cgroup kite/jail-4 removed when kite returns" ||
	fail "--new-pid-ns: cgroup left behind: $cg4"
cgdirs+=(/sys/fs/cgroup/*/kite/kite-* /sys/fs/cgroup/*/kite/jail-4)

# 5. --daemonize: back at once with 0, the guest's output in --serial-out.
run_kite daemon run --debug-exit --image "$GUEST_DIR/demo.bin" --reg rax=3 --reg rbx=4 \
	--jail "$JAIL" --uid $ID --gid $ID --daemonize --serial-out "$TMP/serial5"
expect_rc "--daemonize" 0
for _ in $(seq 100); do [ -s "$TMP/serial5" ] && break; sleep 0.05; done
[ "$(cat "$TMP/serial5")" = 7 ] && ok "--daemonize: the guest ran (serial 7)" ||
	fail "--daemonize serial: '$(cat "$TMP/serial5")'"
run_kite daemon-bad run --image "$GUEST_DIR/demo.bin" --jail "$JAIL" --uid $ID --gid $ID \
	--daemonize --rlimit nofile=3
expect_rc "--daemonize failing set-up" 2
expect_err_line "--daemonize failing set-up" "nofile=3 is too small"

# 6. API mode: the boot source is a path inside the jail, KVM opened there.
JAIL6=$TMP/jail6
mkdir -p "$JAIL6"
cp "$GUEST_DIR/hello_user.bin" "$JAIL6/"
# A file at the socket's host path inside the jail, which kite may remove:
# the socket's path means nothing in there, and this file must stay.
mkdir -p "$JAIL6$TMP" && chown $ID:$ID "$JAIL6$TMP" && echo decoy >"$JAIL6$TMP/api6.sock" &&
	chown $ID:$ID "$JAIL6$TMP/api6.sock"
"$KITE" run --api-sock "$TMP/api6.sock" --jail "$JAIL6" --uid $ID --gid $ID >"$TMP/6.out" 2>"$TMP/6.err" &
pid=$!
for _ in $(seq 100); do [ -S "$TMP/api6.sock" ] && break; sleep 0.05; done
r1=$(api "$TMP/api6.sock" PUT /boot-source \
	'{"kernel_image_path": "/hello_user.bin", "kite": {"mode": "long-user", "load_addr": "0x100000"}}' 2>&1)
r2=$(api "$TMP/api6.sock" PUT /actions '{"action_type": "InstanceStart"}' 2>&1)
for _ in $(seq 100); do grep -q "hello from ring 3" "$TMP/6.out" && break; sleep 0.05; done
grep -q "hello from ring 3" "$TMP/6.out" && ok "API-configured guest ran in the jail" ||
	fail "API guest: $r1 / $r2; out $(cat "$TMP/6.out"); err $(cat "$TMP/6.err")"
kill -TERM $pid
wait $pid
pid=
cgdirs+=(/sys/fs/cgroup/*/kite/kite-*)
gone_soon "$TMP/api6.sock" && ok "the jailed kite's API socket removed after its exit" ||
	fail "$TMP/api6.sock left behind"
[ "$(cat "$JAIL6$TMP/api6.sock" 2>&1)" = decoy ] && ok "nothing removed at the socket's path inside the jail" ||
	fail "the jail's $TMP/api6.sock: $(cat "$JAIL6$TMP/api6.sock" 2>&1)"

# 7. kite jailer: Firecracker's layout, then the copied kite in Firecracker
# mode, driven through <root>/api.sock. The copy runs in a root without the
# host's libraries: like Firecracker, it must be linked statically.
if [ -n "${KITE_STATIC:-}" ] && [ -x "$KITE_STATIC" ]; then
	mkdir -p "$TMP/bin"
	ln -s "$KITE_STATIC" "$TMP/bin/firecracker"
	FIRECRACKER=$TMP/bin/firecracker
	static=1
else
	echo "skip: no static kite (KITE_STATIC): the jailer's exec'd VMM is not checked"
	static=0
fi
BASE=$TMP/srv
ROOT=$BASE/firecracker/jt-1/root
mkdir -p "$ROOT"
cp "$GUEST_DIR/hello_user.bin" "$ROOT/"
"$KITE" jailer --id jt-1 --exec-file "$FIRECRACKER" --uid $ID --gid $ID --chroot-base-dir "$BASE" \
	--cgroup-version 2 --cgroup cgroup.max.descendants=1 --resource-limit no-file=1024 \
	--netns "/var/run/netns/$NS" -- --api-sock /api.sock >"$TMP/7.out" 2>"$TMP/7.err" &
pid=$!
v2=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
cgdirs+=("$v2/firecracker/jt-1")
for _ in $(seq 100); do [ -S "$ROOT/api.sock" ] || [ -e "$ROOT/dev/net/tun" ] && [ $static -eq 0 ] && break; [ -S "$ROOT/api.sock" ] && break; sleep 0.05; done
cmp -s "$ROOT/firecracker" "$(readlink -f "$FIRECRACKER")" && [ ! -L "$ROOT/firecracker" ] &&
	ok "jailer: <root>/firecracker is a copy of the exec file" || fail "jailer: exec file copy"
for n in kvm net/tun; do
	want=$(stat -Lc '%t:%T' /dev/$n)
	got=$(stat -c '%F %t:%T %u:%g %a' "$ROOT/dev/$n" 2>&1)
	[ "$got" = "character special file $want $ID:$ID 600" ] && ok "jailer: /dev/$n $got" ||
		fail "jailer: /dev/$n is '$got', want $want $ID:$ID 600"
done
[ "$(stat -c %u:%g "$ROOT")" = "$ID:$ID" ] && ok "jailer: root owned by $ID" || fail "root owner $(stat -c %u:%g "$ROOT")"
[ "$(stat -c '%F %u:%g' "$ROOT/run" 2>&1)" = "directory $ID:$ID" ] && ok "jailer: <root>/run for the default API socket" ||
	fail "jailer: <root>/run: $(stat -c '%F %u:%g' "$ROOT/run" 2>&1)"
if [ $static -eq 0 ]; then
	wait $pid
	grep -q "exec /firecracker in the jail: .*statically" "$TMP/7.err" &&
		ok "jailer: a dynamic exec file fails with a clear line" || fail "jailer dynamic: $(cat "$TMP/7.err")"
	pid=
	cgdirs+=("$v2/firecracker/jt-1")
	finish
fi
[ -S "$ROOT/api.sock" ] && ok "jailer: the VMM made <root>/api.sock" || fail "no $ROOT/api.sock: $(cat "$TMP/7.err")"
status_is Uid "$ID $ID $ID $ID"
status_is CapEff 0000000000000000
[ "$(readlink "/proc/$pid/exe" | sed 's/ (deleted)//')" = "/firecracker" ] && ok "jailer: exec'd /firecracker" ||
	fail "jailer exe: $(readlink "/proc/$pid/exe")"
grep -Eq '^Max open files +1024 ' "/proc/$pid/limits" && ok "jailer: no-file 1024" ||
	fail "jailer nofile: $(grep 'open files' "/proc/$pid/limits")"
[ "$(cat "$v2/firecracker/jt-1/cgroup.max.descendants" 2>&1)" = 1 ] && grep -q '^0::/firecracker/jt-1$' "/proc/$pid/cgroup" &&
	ok "jailer: v2 cgroup firecracker/jt-1" || fail "jailer cgroup: $(cat "/proc/$pid/cgroup" | tr '\n' ' ')"
[ "$(stat -Lc %i "/proc/$pid/ns/net")" = "$(stat -Lc %i "/var/run/netns/$NS")" ] &&
	ok "jailer: network namespace" || fail "jailer: netns differs"
grep -q -- "--id jt-1" <(tr '\0' ' ' <"/proc/$pid/cmdline") && ok "jailer: --id passed on" ||
	fail "jailer cmdline: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
r1=$(api "$ROOT/api.sock" PUT /boot-source \
	'{"kernel_image_path": "/hello_user.bin", "kite": {"mode": "long-user", "load_addr": "0x100000"}}' 2>&1)
r2=$(api "$ROOT/api.sock" PUT /actions '{"action_type": "InstanceStart"}' 2>&1)
for _ in $(seq 100); do grep -q "hello from ring 3" "$TMP/7.out" && break; sleep 0.05; done
grep -q "hello from ring 3" "$TMP/7.out" && ok "jailer: the guest ran through <root>/api.sock" ||
	fail "jailer guest: $r1 / $r2; out $(cat "$TMP/7.out"); err $(cat "$TMP/7.err")"
kill -TERM $pid
wait $pid
pid=
[ ! -e "$ROOT/api.sock" ] && ok "jailer: the VMM removed <root>/api.sock at exit" || fail "jailer: $ROOT/api.sock left behind"

# 7b. The root belonged to the jailed VMM, which may have left links where
# the jailer makes things (run/, dev/kvm, the exec file's copy): a second
# jailer run with the same --id must not follow them into the host's tree.
victim=$TMP/victim
mkdir -p "$victim" && echo keep >"$victim/secret" && chmod 640 "$victim/secret"
before=$(stat -c '%u:%g %a' "$victim" "$victim/secret" | tr '\n' ' ')
rmdir "$ROOT/run" && ln -s "$victim" "$ROOT/run"
mv "$ROOT/dev" "$ROOT/olddev" && mkdir -p "$ROOT/dev/net" && ln -s "$victim/secret" "$ROOT/dev/kvm"
rm -f "$ROOT/firecracker" && ln -s "$victim/secret" "$ROOT/firecracker"
chown -h $ID:$ID "$ROOT/run" "$ROOT/dev" "$ROOT/dev/kvm" "$ROOT/firecracker"
"$KITE" jailer --id jt-1 --exec-file "$FIRECRACKER" --uid $ID --gid $ID --chroot-base-dir "$BASE" \
	-- --version >"$TMP/7b.out" 2>"$TMP/7b.err"
rc1=$?
rm "$ROOT/run" && mkdir "$ROOT/run"
"$KITE" jailer --id jt-1 --exec-file "$FIRECRACKER" --uid $ID --gid $ID --chroot-base-dir "$BASE" \
	-- --version >>"$TMP/7b.out" 2>>"$TMP/7b.err"
after=$(stat -c '%u:%g %a' "$victim" "$victim/secret" | tr '\n' ' ')
[ "$after" = "$before" ] && [ "$(cat "$victim/secret")" = keep ] &&
	ok "jailer re-run: links left in the root are not followed ($after)" ||
	fail "jailer re-run: $before became $after; $(cat "$TMP/7b.err")"
[ $rc1 -ne 0 ] && grep -q "run: Not a directory" "$TMP/7b.err" &&
	ok "jailer re-run: a link at run/ is refused" || fail "jailer re-run: exit $rc1, $(cat "$TMP/7b.err")"
[ "$(stat -c %F "$ROOT/dev/kvm")" = "character special file" ] && [ ! -L "$ROOT/firecracker" ] &&
	ok "jailer re-run: dev/kvm and the exec file made anew" ||
	fail "jailer re-run: dev/kvm $(stat -c %F "$ROOT/dev/kvm"), exec $(stat -c %F "$ROOT/firecracker")"

# 8. The jailer under --new-pid-ns writes the pid file and returns once the
# VMM is exec'd (0), or with the child's status if it failed before: here
# a dynamically linked exec file, which cannot run in the root.
"$KITE" jailer --id jt-3 --exec-file /bin/true --uid $ID --gid $ID --chroot-base-dir "$BASE" \
	--new-pid-ns >"$TMP/8f.out" 2>"$TMP/8f.err"
rc=$?
[ $rc -eq 1 ] && grep -q "exec /true in the jail" "$TMP/8f.err" && [ -s "$BASE/true/jt-3/root/true.pid" ] &&
	ok "jailer --new-pid-ns: a failure before the exec reaches the caller (exit 1, pid file written)" ||
	fail "jailer --new-pid-ns failing child: exit $rc, $(cat "$TMP/8f.err"), pid file $(cat "$BASE/true/jt-3/root/true.pid" 2>&1)"
# The jailer under --new-pid-ns writes the pid file and returns; --daemonize.
"$JAILER" --id jt-2 --exec-file "$FIRECRACKER" --uid $ID --gid $ID --chroot-base-dir "$BASE" \
	--new-pid-ns --daemonize -- --api-sock /api.sock >"$TMP/8.out" 2>"$TMP/8.err"
rc=$?
ROOT2=$BASE/firecracker/jt-2/root
for _ in $(seq 100); do [ -S "$ROOT2/api.sock" ] && break; sleep 0.05; done
inner=$(cat "$ROOT2/firecracker.pid" 2>/dev/null)
[ $rc -eq 0 ] && [ -n "$inner" ] && [ -S "$ROOT2/api.sock" ] && ok "jailer --new-pid-ns: pid file, API up" ||
	fail "jailer --new-pid-ns: exit $rc, pid '$inner', $(cat "$TMP/8.err")"
if [ -n "$inner" ]; then
	[ "$(awk '/^NSpid:/ {print $NF}' "/proc/$inner/status")" = 1 ] && ok "jailer: pid 1 of a new namespace" ||
		fail "jailer NSpid: $(grep NSpid "/proc/$inner/status")"
	kill -TERM "$inner" 2>/dev/null
fi
cgdirs+=(/sys/fs/cgroup/*/firecracker/jt-2)

# 9. Kata's invocation: uid 0, --daemonize, --netns, a config file inside the
# root and Firecracker's default API socket, <root>/run/firecracker.socket.
ROOT3=$BASE/firecracker/kata-1/root
mkdir -p "$ROOT3"
cp "$GUEST_DIR/hello_user.bin" "$ROOT3/"
cat >"$ROOT3/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "/hello_user.bin",
                 "kite": {"mode": "long-user", "load_addr": "0x100000"}},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 64}}
JSON
"$JAILER" --id kata-1 --exec-file "$FIRECRACKER" --uid 0 --gid 0 --chroot-base-dir "$BASE" \
	--daemonize --netns "/var/run/netns/$NS" -- --config-file /vm.json >"$TMP/9.out" 2>"$TMP/9.err" &
jpid=$!
for _ in $(seq 100); do [ -S "$ROOT3/run/firecracker.socket" ] && break; sleep 0.05; done
reply=$(api "$ROOT3/run/firecracker.socket" GET / 2>&1)
case "$reply" in
200\ *'"id":"kata-1"'*'"state":"Running"'*) ok "Kata's jailer call: the VM runs, API at <root>/run/firecracker.socket" ;;
*) fail "Kata's jailer call: $reply; $(cat "$TMP/9.err")" ;;
esac
pid=$jpid
status_is Uid "0 0 0 0"
status_is CapEff 0000000000000000
status_is CapBnd 0000000000000000
[ ! -s "$TMP/9.out" ] && [ ! -s "$TMP/9.err" ] && ok "--daemonize: nothing on the caller's stdout/stderr" ||
	fail "--daemonize output: $(cat "$TMP/9.out" "$TMP/9.err")"
kill -TERM $pid
wait $pid
pid=
cgdirs+=(/sys/fs/cgroup/*/firecracker/kata-1)
finish
