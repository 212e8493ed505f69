#!/bin/bash
# A triple fault and an instruction KVM cannot emulate both stop kite cleanly
# with their documented status and a register dump.
. "$(dirname "$0")/lib.sh"
need_kvm
run_kite triple run --debug-exit --image "$GUEST_DIR/triple_fault.bin" --mode long-user --load 0x100000
expect_rc "triple fault" 4
grep -q "triple fault" "$err" && grep -q "rip=0000000000100000" "$err" && grep -q "code at rip: 0f 0b" "$err" &&
	ok "triple fault: dump" || fail "triple fault: stderr $(cat "$err")"
if kvm_is_emulated; then
	run_kite emul run --debug-exit --image "$GUEST_DIR/emul_fail.bin" --mode long --load 0x100000
	expect_rc "emulation failure" 5
	grep -q "emulation failure" "$err" && grep -q "f0 48 0f c7 0f" "$err" &&
		ok "emulation failure: instruction bytes" || fail "emulation failure: stderr $(cat "$err")"
else
	echo "note: hardware virtualization here runs cmpxchg16b natively; emulation-failure case skipped"
	[ "$failures" -eq 0 ] && skip "needs a host whose KVM emulates CPL-0 code (HOST-NOTES.md)"
fi
finish
