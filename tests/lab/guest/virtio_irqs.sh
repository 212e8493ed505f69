#!/bin/sh
# virtio_irqs: with five virtio devices (--disk x4 then --rng: vda..vdd and virtio-rng) every
# device gets working interrupts. For each device it prints its /proc/interrupts line (IRQ,
# IOAPIC pin and trigger, names) and its platform device, then does I/O that needs the
# device's interrupt to complete, with a 20 s limit per device:
#   disks: O_DIRECT reads of sector 0 (the tag KITE-IRQ-TAG-A..D the hook wrote: checked
#          here) and of the second MiB (its sha256 printed as KITE-IRQ-SHA, checked by the
#          hook against the image);
#   rng:   2 x 64 bytes from /dev/hwrng (rng_current must be virtio), different.
# Each device's interrupt count must grow across its I/O. Also prints the kernel's lines
# about IRQ 9, the SCI, IOAPIC overrides and virtio (KITE-IRQ-DMESG): kite's board puts the
# fourth virtio device on GSI 9, which is also the ACPI SCI (level, active high).
# kite.devs=N: devices expected (default 5). kite.io=fg: no time limit, see wait_done.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
want=$(kite_arg devs) || want=5
dmesg | grep -iE 'irq ?9[^0-9]|irq ?9$|sci|int_src_ovr|override|ioapic|virtio|LNRO|hwrng|hw_random|vd[a-d]|attr mismatch|IRQ' |
	head -n 60 | sed 's/^/KITE-IRQ-DMESG /'
sed 's/^/KITE-IRQ-PROC before /' /proc/interrupts

# The /proc/interrupts line of handler NAME: "IRQ: count... chip pin-trigger names".
line() { grep -E "[ ,]$1(,|\$)" /proc/interrupts | head -n 1; }
count() { line "$1" | awk '{ n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n }'; }
irq() { line "$1" | awk '{ sub(":", "", $1); print $1 }'; }
# The IOAPIC pin (= GSI) and trigger: "9-edge", "9-fasteoi" (level).
pin() { line "$1" | awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++); print $(i + 1) }'; }
gsi() { pin "$1" | cut -d- -f1; }
# wait_done FILE: up to 20 s for FILE to appear (the background I/O finished). With
# kite.io=fg the I/O runs in the foreground instead and FILE is there already: for guests
# whose timers do not tick (sleep would never return), a hang then stops the test at the
# KITE-IRQ-IO line that names the device.
fg=""
[ "$(kite_arg io)" = fg ] && fg=1
wait_done() {
	w=0
	while [ ! -e "$1" ] && [ $w -lt 40 ]; do
		sleep 0.5
		w=$((w + 1))
	done
	[ -e "$1" ]
}
# bg: runs "$@" in the background, or in the foreground with kite.io=fg.
bg() {
	if [ -n "$fg" ]; then "$@"; else "$@" & fi
}
blk_io() { # disk file-prefix
	dd if=/dev/"$1" bs=4096 count=1 iflag=direct 2>/dev/null | head -c 15 >"$2.tag"
	dd if=/dev/"$1" bs=4096 skip=256 count=256 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1 >"$2.sha"
	touch "$2.done"
}
rng_io() { # file-prefix
	head -c 64 /dev/hwrng | od -An -tx1 | tr -d ' \n' >"$1.a"
	head -c 64 /dev/hwrng | od -An -tx1 | tr -d ' \n' >"$1.b"
	touch "$1.done"
}

problems="" n=0 ndisk=0 nrng=0
for d in /sys/bus/virtio/devices/virtio*; do
	[ -e "$d" ] || continue
	v=${d##*/}
	n=$((n + 1))
	plat=$(basename "$(readlink -f "$d/..")")
	case $(cat "$d/device") in
	0x0002) kind=blk disk=$(ls "$d/block" 2>/dev/null | head -n 1) ;;
	0x0004) kind=rng disk=- ;;
	*) kind=other-$(cat "$d/device") disk=- ;;
	esac
	before=$(count "$v")
	f=/tmp/irq.$v
	rm -f "$f".*
	info=""
	echo "KITE-IRQ-IO $v kind=$kind disk=$disk platform=$plat irq=$(irq "$v") pin=$(pin "$v") count=${before:-none}: starting I/O"
	case $kind in
	blk)
		ndisk=$((ndisk + 1))
		if [ -z "$disk" ]; then
			io=none
			problems="$problems $v ($plat): virtio-blk without a disk (its probe failed);"
		else
			bg blk_io "$disk" "$f"
			if wait_done "$f.done"; then
				io=ok
				tag=$(cat "$f.tag")
				sha=$(cat "$f.sha")
				echo "KITE-IRQ-SHA $disk $sha"
				X=$(echo "${disk#vd}" | tr a-d A-D)
				[ "$tag" = "KITE-IRQ-TAG-$X" ] || problems="$problems $disk: sector 0 starts with '$tag', expected KITE-IRQ-TAG-$X;"
				info="tag=$tag"
			else
				io=timeout
				problems="$problems $disk ($v, GSI $(gsi "$v")): reads did not complete in 20 s;"
			fi
		fi
		;;
	rng)
		nrng=$((nrng + 1))
		cur=$(cat /sys/devices/virtual/misc/hw_random/rng_current 2>/dev/null)
		case $cur in *virtio*) ;; *) problems="$problems rng_current is '$cur', not virtio;" ;; esac
		bg rng_io "$f"
		if wait_done "$f.done"; then
			io=ok
			a=$(cat "$f.a") b=$(cat "$f.b")
			[ ${#a} = 128 ] && [ ${#b} = 128 ] && [ "$a" != "$b" ] ||
				problems="$problems /dev/hwrng: reads gave '$a' and '$b';"
			info="hwrng=$(echo "$a" | cut -c1-16)..."
		else
			io=timeout
			problems="$problems /dev/hwrng ($v, GSI $(gsi "$v")): 2 x 64 bytes not read in 20 s;"
		fi
		;;
	*) io=none ;;
	esac
	after=$(count "$v")
	echo "KITE-IRQ-DEV $v kind=$kind disk=$disk irq=$(irq "$v") pin=$(pin "$v") platform=$plat before=${before:-none} after=${after:-none} io=$io $info"
	if [ -z "$after" ]; then
		problems="$problems $v ($kind${disk:+ $disk}, $plat): no line in /proc/interrupts;"
	elif [ "$io" != none ] && [ "$after" -le "${before:-0}" ]; then
		problems="$problems $v ($kind $disk, GSI $(gsi "$v")): interrupt count stayed at $after;"
	fi
done
sed 's/^/KITE-IRQ-PROC after /' /proc/interrupts
[ "$n" = "$want" ] || problems="$problems $n virtio devices, expected $want;"
[ -z "$problems" ] || fail "$problems"
pass "$n virtio devices ($ndisk disks, $nrng rng): each completed I/O and its interrupt count grew"
