#!/bin/bash
# virtio-blk and virtio-rng end to end: a polling C driver (virtio_guest.bin,
# CPL 3) negotiates, writes and reads a raw image, and the data is checked on
# the host side too; a read-only disk refuses writes and stays byte-for-byte
# unchanged; the rng returns fresh bytes; broken chains from a malicious
# driver leave kite running and the device usable after a reset.
. "$(dirname "$0")/lib.sh"
need_kvm
guest=(run --debug-exit --image "$GUEST_DIR/virtio_guest.bin" --mode long-user --load 0x100000)

# 1 MiB image; sector 100 holds "KITE-PRE" then the bytes 0x10, 0x11, ...
img=$TMP/disk.img
dd if=/dev/zero of="$img" bs=1M count=1 status=none
{
	printf 'KITE-PRE'
	for i in $(seq 0 503); do printf "\\$(printf '%03o' $(((0x10 + i) & 0xff)))"; done
} >"$TMP/sector100"
[ "$(wc -c <"$TMP/sector100")" -eq 512 ] || fail "test set-up: sector 100 pattern is not 512 bytes"
dd if="$TMP/sector100" of="$img" bs=512 seek=100 conv=notrunc status=none
cp "$img" "$TMP/ro.img"

# The guest exits 0 on success, 16+N on its failure N (printed on COM1);
# anything else (1, 5, 124, >128) means kite itself failed or crashed.
expect_guest_ok() {
	if [ "$rc" -eq 0 ]; then ok "$1: exit 0"; else
		fail "$1: exit $rc; guest said: $(grep FAIL "$out" | head -3); stderr: $(head -c 600 "$err")"
	fi
}
expect_line() {
	if grep -qx -- "$2" "$out"; then ok "$1: '$2'"; else fail "$1: no line '$2' in: $(head -c 800 "$out")"; fi
}

# --- blk-rw ---
t0=$(date +%s%N)
run_kite blk-rw "${guest[@]}" --disk "$img,serial=kite-test-01" --reg rdi=1
t1=$(date +%s%N)
expect_guest_ok blk-rw
echo "blk-rw run took $(((t1 - t0) / 1000000)) ms"
expect_line blk-rw 'capacity 2048'
expect_line blk-rw 'OK read back sectors 0-7'
expect_line blk-rw 'sector100 4b4954452d5052451011121314151617'
expect_line blk-rw 'serial kite-test-01'
expect_line blk-rw 'OK flush'
expect_line blk-rw 'OK blk-rw'
# Host side: sector s holds "KITE-WR<s>" then 504 x ('A' + s).
: >"$TMP/want"
for s in 0 1 2 3 4 5 6 7; do
	letter=$(printf "\\$(printf '%03o' $((65 + s)))")
	printf 'KITE-WR%d' "$s" >>"$TMP/want"
	head -c 504 /dev/zero | tr '\0' "$letter" >>"$TMP/want"
done
if head -c 4096 "$img" | cmp -s - "$TMP/want"; then ok "blk-rw: sectors 0-7 reached the image"
else fail "blk-rw: image sectors 0-7: $(od -A d -c "$img" | head -4)"; fi
if dd if="$img" bs=512 skip=100 count=1 status=none | cmp -s - "$TMP/sector100"; then
	ok "blk-rw: sector 100 untouched"
else fail "blk-rw: sector 100 changed"; fi
if cmp -s <(tail -c +4097 "$img" | head -c $((100 * 512 - 4096))) <(head -c $((100 * 512 - 4096)) /dev/zero); then
	ok "blk-rw: sectors 8-99 still zero"
else fail "blk-rw: sectors 8-99 were written"; fi
[ "$(stat -c %s "$img")" -eq 1048576 ] && ok "blk-rw: image size unchanged" || fail "blk-rw: image size $(stat -c %s "$img")"

# --- blk-ro ---
before=$(sha256sum <"$TMP/ro.img")
run_kite blk-ro "${guest[@]}" --disk "$TMP/ro.img,ro" --reg rdi=2
expect_guest_ok blk-ro
expect_line blk-ro 'OK RO offered'
expect_line blk-ro 'OK write refused'
expect_line blk-ro 'OK blk-ro'
[ "$(sha256sum <"$TMP/ro.img")" = "$before" ] && ok "blk-ro: image unchanged" || fail "blk-ro: image changed"

# --- rng ---
run_kite rng "${guest[@]}" --rng --reg rdi=3
expect_guest_ok rng
n=$(grep -cE '^rng [0-9a-f]{128}$' "$out")
[ "$n" -eq 2 ] && ok "rng: two 64-byte hex lines" || fail "rng: $n hex lines in: $(head -c 400 "$out")"
[ "$(grep '^rng ' "$out" | sort -u | wc -l)" -eq 2 ] && ok "rng: lines differ" || fail "rng: same bytes twice"
expect_line rng 'OK rng'

# --- malicious driver ---
cp "$TMP/ro.img" "$TMP/mal.img"
run_kite malicious "${guest[@]}" --disk "$TMP/mal.img" --reg rdi=4
expect_guest_ok malicious
for what in 'self loop' 'two-step loop' 'head out of range' 'buffer outside RAM' \
	'buffer in the MMIO hole' 'buffer wrapping the address space' 'avail idx far ahead' \
	'readable after writable' 'rings outside RAM'; do
	expect_line malicious "$what: NEEDS_RESET"
done
[ "$(grep -cx 'OK recovered' "$out")" -eq 9 ] && ok "malicious: recovered 9 times" ||
	fail "malicious: $(grep -cx 'OK recovered' "$out") recoveries, expected 9"
expect_line malicious 'OK reset with a request in flight'
expect_line malicious 'OK malicious'
# The guest's complaints are rate-limited warnings, not a flood.
lines=$(wc -l <"$err")
[ "$lines" -le 40 ] && ok "malicious: $lines stderr lines" || fail "malicious: $lines stderr lines"

# --- virtio-console (--console virtio): stdin to hvc0 and back ---
con=(run --debug-exit --image "$GUEST_DIR/console_guest.bin" --mode long-user --load 0x100000 --console virtio)
STDIN_FILE=<(printf 'hello hvc.') run_kite console "${con[@]}"
expect_rc console 0
expect_out console 'hvc ready\nhello hvc.echoed 10 bytes\n'
# 3000 bytes against 4 guest buffers of 64: kite must hold input back, not drop it.
{ head -c 3000 /dev/zero | tr '\0' 'k'; printf '.'; } >"$TMP/con-in"
STDIN_FILE="$TMP/con-in" run_kite console-long "${con[@]}"
expect_rc console-long 0
[ "$(sed -n 2p "$out" | head -c 3001)" = "$(cat "$TMP/con-in")" ] && grep -q 'echoed 3001 bytes' "$out" &&
	ok "console-long: all 3001 bytes, in order" || fail "console-long: $(wc -c <"$out") bytes out"
finish
