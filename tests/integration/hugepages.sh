#!/bin/bash
# Guest RAM on 2 MiB huge pages (--hugepages 2M), on this host's KVM (tier:
# fast, a raw CPL-3 guest). Too few huge pages: status 2 and a message that
# says how many are needed. Enough (reserved here for the test when kite's
# tests run as root, the old count restored after): the guest runs. Also
# --hugepages transparent, and the size check.
. "$(dirname "$0")/lib.sh"
need_kvm

GUEST=(--debug-exit --image "$GUEST_DIR/hello_user.bin" --mode long-user --load 0x100000)
NR=/proc/sys/vm/nr_hugepages

free_pages() {
	awk '/^HugePages_Free:/ {f=$2} /^HugePages_Rsvd:/ {r=$2} END {print f-r}' /proc/meminfo
}

run_kite odd run "${GUEST[@]}" --memory 15M --hugepages 2M
expect_rc "odd size" 2
expect_err_line "odd size" "multiple of 2M"

run_kite thp run "${GUEST[@]}" --memory 16M --hugepages transparent
expect_rc "transparent" 0
expect_out "transparent" "hello from ring 3\n"

# More than the host has free: the clear error.
want=$(( $(free_pages) + 8 ))
run_kite too-few run "${GUEST[@]}" --memory $((want * 2))M --hugepages 2M
expect_rc "too few huge pages" 2
expect_err_line "too few huge pages" "needs $want free 2 MiB huge pages"

old=$(cat $NR)
restore() { [ -n "${old:-}" ] && echo "$old" >$NR 2>/dev/null; rm -rf "$TMP"; }
trap restore EXIT
if [ "$(free_pages)" -lt 8 ] && [ -w $NR ]; then
	echo $((old + 8 - $(free_pages))) >$NR 2>/dev/null
fi
if [ "$(free_pages)" -lt 8 ]; then
	[ "$failures" -eq 0 ] || finish
	skip "the host has $(free_pages) free 2 MiB pages, 8 needed, and $NR is not" \
		"writable here: the guest on huge pages did not run (the checks above passed)"
fi
run_kite huge run "${GUEST[@]}" --memory 16M --hugepages 2M
expect_rc "2M huge pages" 0
expect_out "2M huge pages" "hello from ring 3\n"
finish
