# shellcheck shell=bash
# lib/l1image.sh: the L1 lab VM's initramfs ($out/l1-initramfs.cpio, rebuilt every run):
# busybox, l1-init.sh as /init, the kvm modules of the Debian kernel L1 runs, the staged
# $lab tree as /lab, and the dynamically linked programs batch.sh and the hooks run there
# (kite, e2fsprogs, curl, socat; QEMU for --bench-boot), each with its shared libraries,
# and tun (the net tests' taps).
# Needs: $stage, $lab, $here, $out, $dver, $bench; say, apt_install, copy_with_libs
# (lib/common.sh). Sets: l1 (the image tree), lab (now $l1/lab), l1cpio.

# add_mod NAME: a kvm module with its dependencies (dependencies first), decompressed,
# into $lab/modules, named in $lab/modules/load.order (l1-init.sh loads them in that order).
declare -A seen=()
add_mod() {
	local name=$1 dep deps path
	[[ -n ${seen[$name]:-} ]] && return 0
	seen[$name]=1
	deps=$(modinfo -k "$dver" -F depends "$name" 2>/dev/null) || { say "module $name not found for $dver"; return 0; }
	for dep in ${deps//,/ }; do add_mod "$dep"; done
	path=$(modinfo -k "$dver" -n "$name")
	[[ $path == /* ]] || return 0
	case $path in
	*.ko) cp "$path" "$lab/modules/" ;;
	*.ko.xz) xz -dc "$path" >"$lab/modules/$(basename "$path" .xz)" ;;
	*.ko.zst) zstd -qdc "$path" >"$lab/modules/$(basename "$path" .zst)" ;;
	*.ko.gz) gzip -dc "$path" >"$lab/modules/$(basename "$path" .gz)" ;;
	esac
	basename "$path" | sed 's/\.\(xz\|zst\|gz\)$//' >>"$lab/modules/load.order"
}

build_l1_image() {
	local a m t p f qbin
	l1="$stage/l1"
	mkdir -p "$l1"/{bin,dev,proc,sys,tmp,run,etc,lab/modules}
	mknod -m 0600 "$l1/dev/console" c 5 1
	mknod -m 0666 "$l1/dev/null" c 1 3
	if ! [[ -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then apt_install busybox-static; fi
	cp /bin/busybox "$l1/bin/busybox"
	for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$l1/bin/$a"; done
	install -m 0755 "$here/l1-init.sh" "$l1/init"
	mv "$lab"/* "$l1/lab/"
	rmdir "$lab"
	lab="$l1/lab"
	for m in irqbypass ccp kvm kvm-amd tun; do add_mod "$m"; done
	# kite (staged as /lab/kite) with its shared libraries.
	[[ -x $lab/kite ]] && copy_with_libs "$l1" "$lab/kite"
	# e2fsprogs for the virtio-blk hooks (mkfs.ext4 before a run, debugfs/e2fsck after it).
	for t in mke2fs debugfs e2fsck; do
		p=$(PATH=$PATH:/usr/sbin:/sbin command -v $t) || { apt_install e2fsprogs; p=$(PATH=$PATH:/usr/sbin:/sbin command -v $t); } || continue
		copy_with_libs "$l1" "$p" "/bin/$t"
	done
	[[ -x $l1/bin/mke2fs ]] && ln -sf mke2fs "$l1/bin/mkfs.ext4"
	# curl: the control-API tests' client (hooks/api-lib.sh; --unix-socket).
	p=$(command -v curl) || { apt_install curl; p=$(command -v curl); }
	[[ -n $p ]] && copy_with_libs "$l1" "$p" /bin/curl
	# socat: the host peer of the vsock test (hooks/vsock.sh), as Firecracker users use it.
	p=$(command -v socat) || { apt_install socat; p=$(command -v socat); }
	[[ -n $p ]] && copy_with_libs "$l1" "$p" /bin/socat
	# --bench-boot: QEMU (the baseline, on L1's KVM) with its libraries and the microvm
	# firmware (bios-microvm.bin -> qboot.rom; linuxboot_dma.bin for -kernel).
	if [[ -n $bench ]]; then
		qbin=$(command -v qemu-system-x86_64)
		copy_with_libs "$l1" "$qbin" /usr/bin/qemu-system-x86_64
		mkdir -p "$l1/usr/share/qemu"
		for f in bios-microvm.bin qboot.rom linuxboot_dma.bin; do
			[[ -e /usr/share/qemu/$f ]] && cp -L "/usr/share/qemu/$f" "$l1/usr/share/qemu/"
		done
	fi
	[[ -f /etc/mke2fs.conf ]] && cp /etc/mke2fs.conf "$l1/etc/"
	ln -sf /proc/mounts "$l1/etc/mtab" # e2fsprogs check for mounted file systems
	l1cpio="$out/l1-initramfs.cpio"
	(cd "$l1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) >"$l1cpio"
	say "L1 initramfs $l1cpio ($(du -h "$l1cpio" | cut -f1)); L1 kernel /boot/vmlinuz-$dver"
}
