#!/bin/sh
# virtio_console: booted with console=hvc0 and kite --console virtio, the kernel's console
# is hvc0 (virtio-console); the table row then types into a shell on it.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
act=$(cat /sys/class/tty/console/active 2>/dev/null)
echo "KITE-CONSOLE active=$act"
[ -c /dev/hvc0 ] || fail "no /dev/hvc0"
case " $act " in *" hvc0 "*) ;; *) fail "console is '$act', not hvc0" ;; esac
pass "console on hvc0"
