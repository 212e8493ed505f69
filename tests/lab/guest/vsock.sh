#!/bin/sh
# vsock: virtio-vsock under a real Linux driver with kite's hybrid Unix-socket host side;
# the L1 side is socat (hooks/vsock.sh). /bin/vsock_helper (tests/lab/tools) does the
# AF_VSOCK part, which busybox lacks:
# 1. host-initiated: listens on port 5000 and echoes 10 connections that L1 opens at once
#    through kite's socket (CONNECT 5000); L1 checks the echoes;
# 2. guest-initiated: 10 concurrent connections to CID 2 port 6000 (L1's socat echo
#    server at <uds>_6000), 256 KiB each, echo checked here;
# 3. a stream to port 6001 whose host peer L1 kills with SIGKILL once the guest prints
#    KITE-VSOCK-STREAMING: the stream must end with an error, not hang;
# 4. then a new connection to port 6000 still works.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
command -v vsock_helper >/dev/null || skip "no /bin/vsock_helper in this initrd"
[ -e /dev/vsock ] || [ -d /sys/bus/virtio/drivers/vmw_vsock_virtio_transport ] || fail "no vsock transport (no /dev/vsock)"
vsock_helper serve 5000 10 &
spid=$!
wait $spid || fail "host-initiated: the 10 connections to port 5000 were not all served"
vsock_helper echo 2 6000 10 262144 || fail "guest-initiated: 10 x 256 KiB echo through CID 2 port 6000 failed"
vsock_helper stream 2 6001 90 || fail "stream to port 6001: no error after the host peer was killed"
vsock_helper echo 2 6000 1 65536 || fail "after the host peer's SIGKILL, a new connection to port 6000 failed"
pass "10 host-initiated and 10 guest-initiated connections echoed; a killed host peer ended its stream; a new connection after it worked"
