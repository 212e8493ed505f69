#!/bin/bash
# Protected mode and 64-bit long mode at CPL 3: output, debug-exit status.
. "$(dirname "$0")/lib.sh"
need_kvm
run_kite prot run --debug-exit --image "$GUEST_DIR/prot_hello.bin" --mode protected --load 0x100000
expect_rc protected 0
expect_out protected 'P32\n'
run_kite user run --debug-exit --image "$GUEST_DIR/hello_user.bin" --mode long-user --load 0x100000
expect_rc long-user 0
expect_out long-user 'hello from ring 3\n'
run_kite user42 run --debug-exit --image "$GUEST_DIR/hello_user.bin" --mode long-user --load 0x100000 --reg rdi=42
expect_rc "debug-exit 42" 42
expect_out "debug-exit 42" 'hello from ring 3\n'
# Above 4 GiB of RAM the guest still runs (memory is split around the hole).
run_kite user-big run --debug-exit --image "$GUEST_DIR/hello_user.bin" --mode long-user --load 0x100000 --memory 5G
expect_rc "long-user 5G" 0
expect_out "long-user 5G" 'hello from ring 3\n'
finish
