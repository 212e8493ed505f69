#!/bin/bash
# Every bad host input gets one clear line on stderr and its documented exit
# status (2 for bad input), with no crash and no hang.
. "$(dirname "$0")/lib.sh"
demo=$GUEST_DIR/demo.bin
base=(run --debug-exit --mode real --load 0x1000)

check() { # name expected-rc needle args...
	local name=$1 want=$2 needle=$3
	shift 3
	run_kite "$name" "$@"
	expect_rc "$name" "$want"
	expect_err_line "$name" "$needle"
	[ -s "$out" ] && fail "$name: wrote to stdout"
}

# Options: no KVM needed, parsing fails first.
check unknown-option 2 "unknown option --frobnicate" run --debug-exit --image "$demo" --frobnicate
check missing-value 2 "needs a value" run --debug-exit --image
check memory-zero 2 "more than 0" "${base[@]}" --image "$demo" --memory 0
check memory-nan 2 "not a size" "${base[@]}" --image "$demo" --memory lots
check cpus-zero 2 "--cpus" "${base[@]}" --image "$demo" --cpus 0
check cpus-nan 2 "--cpus" "${base[@]}" --image "$demo" --cpus x
check no-command 2 "no command" 
check bad-mode 2 "--mode" run --debug-exit --image "$demo" --mode virtual86
check bad-reg 2 "unknown register" run --debug-exit --image "$demo" --reg rip=5
check no-image 2 "nothing to run" run

# KVM device problems: absent, not a KVM device, not permitted.
check kvm-absent 2 "cannot open /nonexistent/kvm" "${base[@]}" --image "$demo" --kvm-device /nonexistent/kvm
check kvm-not-kvm 2 "KVM API version" "${base[@]}" --image "$demo" --kvm-device /dev/null
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	KITE_WRAP="setpriv --reuid=65534 --regid=65534 --clear-groups" run_kite kvm-eacces "${base[@]}" --image "$demo"
	expect_rc kvm-eacces 2
	expect_err_line kvm-eacces "Permission denied"
fi

need_kvm
check image-missing 2 "cannot open image /nonexistent.bin" "${base[@]}" --image /nonexistent.bin
: >"$TMP/empty.bin"
check image-empty 2 "empty" "${base[@]}" --image "$TMP/empty.bin"
check image-dir 2 "not a regular file" "${base[@]}" --image "$TMP"
# Unreadable image: as root, drop the capabilities that bypass file modes.
cp "$demo" "$TMP/secret.bin"; chmod 000 "$TMP/secret.bin"
if [ "$(id -u)" -eq 0 ]; then
	KITE_WRAP="setpriv --bounding-set=-dac_override,-dac_read_search --inh-caps=-dac_override,-dac_read_search" \
		run_kite image-eacces "${base[@]}" --image "$TMP/secret.bin"
else
	run_kite image-eacces "${base[@]}" --image "$TMP/secret.bin"
fi
expect_rc image-eacces 2
expect_err_line image-eacces "Permission denied"
head -c $((2 << 20)) /dev/zero >"$TMP/big.bin"
check image-oversized 2 "does not fit" run --mode long --load 0x100000 --memory 2M --image "$TMP/big.bin"
check image-past-ram 2 "does not fit" run --mode long --image "$demo" --load 0xfffffff0 --memory 16M
check image-in-hole 2 "does not fit" run --mode long --image "$demo" --load 0xc0000000 --memory 4G
check image-past-1m 2 "below 1 MiB" run --mode real --load 0xffff8 --image "$demo" --entry 0xffff8
check image-on-tables 2 "page tables" run --mode long --load 0x9000 --image "$demo"
# Linux kernels and disks that cannot be used.
check kernel-missing 2 "cannot open kernel /nonexistent/bzImage" run --kernel /nonexistent/bzImage
check kernel-empty 2 "empty" run --kernel "$TMP/empty.bin"
check kernel-garbage 2 "kernel" run --kernel "$demo"
head -c 4096 /dev/urandom >"$TMP/initrd.bin"
check initrd-missing 2 "cannot open initrd" run --kernel "$demo" --initrd /nonexistent/initrd
check disk-missing 2 "--disk /nonexistent/disk.img" "${base[@]}" --image "$demo" --disk /nonexistent/disk.img
check disk-dir 2 "--disk $TMP" "${base[@]}" --image "$demo" --disk "$TMP"
# A FIFO in place of a file must be refused, not block kite in open().
mkfifo "$TMP/fifo"
check image-fifo 2 "not a regular file" "${base[@]}" --image "$TMP/fifo"
check kernel-fifo 2 "kernel $TMP/fifo" run --kernel "$TMP/fifo"
check initrd-fifo 2 "initrd $TMP/fifo" run --kernel "$demo" --initrd "$TMP/fifo"
check disk-fifo 2 "--disk $TMP/fifo" "${base[@]}" --image "$demo" --disk "$TMP/fifo,ro"
# Closed stdout: the guest's output must not go into whatever kite opens first
# (that file would get fd 1); kite puts /dev/null there.
head -c 65536 /dev/zero >"$TMP/disk.img"
timeout 20 "$KITE" run --debug-exit --mode real --load 0x1000 --image "$demo" --reg rax=2 --reg rbx=2 \
	--disk "$TMP/disk.img" >&- 2>"$TMP/closed.err"
rc=$?
[ $rc -eq 0 ] && ok "stdout closed: exit 0" || fail "stdout closed: exit $rc: $(head -3 "$TMP/closed.err")"
[ "$(tr -d '\0' <"$TMP/disk.img" | wc -c)" -eq 0 ] && ok "stdout closed: disk image untouched" ||
	fail "stdout closed: the disk image was written: $(tr -d '\0' <"$TMP/disk.img" | head -c 40 | od -c | head -2)"
check memory-huge 2 "this host has" "${base[@]}" --image "$demo" --memory 1000G
check cpus-too-many 2 "--cpus" "${base[@]}" --image "$demo" --cpus 1025
finish
