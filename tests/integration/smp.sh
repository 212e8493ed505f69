#!/bin/bash
# Four vCPUs each print their APIC ID; kite ends when all have halted.
. "$(dirname "$0")/lib.sh"
need_kvm
for n in 1 2 4; do
	run_kite smp$n run --debug-exit --image "$GUEST_DIR/smp_id.bin" --cpus $n
	expect_rc "smp $n" 0
	got=$(fold -w1 "$out" | sort | tr -d '\n')
	want=$(seq 0 $((n - 1)) | tr -d '\n')
	[ "$got" = "$want" ] && ok "smp $n: ids $got" || fail "smp $n: ids '$got', expected '$want'"
done
finish
