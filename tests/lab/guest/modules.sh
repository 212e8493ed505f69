#!/bin/sh
# modules: with the Debian-kernel initrd, the bundled virtio modules loaded (a virtio bus exists).
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
[ -f "/lib/modules/$(uname -r)/load.order" ] || skip "no modules for $(uname -r) in this initrd"
[ -d /sys/bus/virtio ] || fail "virtio modules did not load (no /sys/bus/virtio)"
pass "$(wc -l <"/lib/modules/$(uname -r)/load.order") modules, virtio bus present"
