#!/bin/bash
# The seed demo: 16-bit code adds rax and rbx, prints the digit, halts.
. "$(dirname "$0")/lib.sh"
need_kvm
demo=$GUEST_DIR/demo.bin
[ "$(od -An -tx1 "$demo" | tr -d ' \n')" = "baf80300d80430eeb00aeef4" ] && ok "demo bytes" || fail "demo bytes differ from the contract"
run_kite demo run --debug-exit --image "$demo" --mode real --load 0x1000 --reg rax=2 --reg rbx=2
expect_rc demo 0
expect_out demo '4\n'
[ -s "$err" ] && fail "demo: kite wrote to stderr: $(cat "$err")"
for pair in "3 4 7" "0 0 0" "5 4 9" "0x1 0x2 3"; do
	set -- $pair
	run_kite "demo-$1-$2" run --debug-exit --image "$demo" --mode real --load 0x1000 --reg rax=$1 --reg rbx=$2
	expect_rc "demo $1+$2" 0
	expect_out "demo $1+$2" "$3\\n"
done
# The same bytes loaded elsewhere in the first MiB.
run_kite demo-high run --debug-exit --image "$demo" --mode real --load 0x7c00 --reg rax=1 --reg rbx=1
expect_rc demo-high 0
expect_out demo-high '2\n'
run_kite demo-file run --debug-exit --image "$demo" --load 0x1000 --reg rax=4 --reg rbx=4 --serial-out "$TMP/serial.txt"
expect_rc demo-file 0
[ "$(cat "$TMP/serial.txt")" = "8" ] && [ ! -s "$out" ] && ok "--serial-out" || fail "--serial-out: file '$(cat "$TMP/serial.txt")', stdout '$(cat "$out")'"
finish
