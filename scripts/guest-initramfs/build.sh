#!/usr/bin/env bash
# build.sh: builds the busybox-static initramfs (gzip'd newc cpio) that kite's real-Linux
# tests boot as the L2 guest's initrd. Contents: /bin/busybox + applet links, /init (this
# directory's `init`), /lib/kite-test.sh, the test scripts /tests/*.sh (default: tests/lab/guest),
# /data/blob (random, for the initrd-integrity test; its sha256 in /data/blob.sha256), and
# with --modules KVER the virtio modules of that installed Debian kernel (+ dependencies),
# and with --extra FILE (repeatable) FILE as /bin/<its name> (e.g. the static bench/guest/blkjob
# of the lab's virtio-blk benchmark; part of the cache key).
# Result (cached by content hash), printed on stdout:
#   ${KITE_CACHE:-/var/cache/kite}/guest-initramfs/<key>/{initramfs.cpio.gz,blob.sha256}
# Usage: build.sh [--tests DIR] [--modules KVER] [--blob-kib N] [--extra FILE]...
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
tests_dir="$repo/tests/lab/guest"
kver=""
blob_kib=4096
extras=()
cache_root=${KITE_CACHE:-/var/cache/kite}

msg() { printf 'guest-initramfs: %s\n' "$*" >&2; }
die() { printf 'guest-initramfs: ERROR: %s\n' "$*" >&2; exit 1; }

while (($#)); do
	case $1 in
	--tests) tests_dir=$2; shift 2 ;;
	--modules) kver=$2; shift 2 ;;
	--blob-kib) blob_kib=$2; shift 2 ;;
	--extra) extras+=("$2"); shift 2 ;;
	-h | --help) sed -n '2,14p' "$0" >&2; exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
done

apt_install() {
	msg "installing $*"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; then
		DEBIAN_FRONTEND=noninteractive apt-get update >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2
	fi
}

busybox=/bin/busybox
if ! { [[ -x $busybox ]] && ! ldd "$busybox" >/dev/null 2>&1; }; then
	apt_install busybox-static
fi
[[ -x $busybox ]] && ! ldd "$busybox" >/dev/null 2>&1 || die "$busybox is not a static busybox (install busybox-static)"
command -v cpio >/dev/null || apt_install cpio
[[ -d $tests_dir ]] || die "tests directory $tests_dir missing"
for f in "${extras[@]}"; do [[ -f $f ]] || die "--extra $f: no such file"; done

# Modules for a Debian guest kernel: virtio transports and devices, with dependencies,
# in load order (dependencies first).
mods=()
if [[ -n $kver ]]; then
	[[ -d /lib/modules/$kver ]] || die "no /lib/modules/$kver (install linux-image-$kver)"
	declare -A seen=()
	add_mod() {
		local name=$1 dep
		[[ -n ${seen[$name]:-} ]] && return 0
		seen[$name]=1
		local deps
		deps=$(modinfo -k "$kver" -F depends "$name" 2>/dev/null) || return 0
		for dep in ${deps//,/ }; do add_mod "$dep"; done
		local path
		path=$(modinfo -k "$kver" -n "$name" 2>/dev/null) || return 0
		[[ $path == /* ]] && mods+=("$path")
	}
	for m in virtio_mmio virtio_pci virtio_blk virtio_net virtio_console virtio_rng \
		virtio_balloon vmw_vsock_virtio_transport ext4; do
		add_mod "$m"
	done
	msg "${#mods[@]} modules for $kver"
fi

key=$( {
	cat "$here/build.sh" "$here/init" "$here/kite-test.sh"
	"$busybox" | head -n1
	echo "blob=$blob_kib kver=$kver"
	for m in "${mods[@]}"; do echo "$m"; sha256sum <"$m"; done
	for f in "${extras[@]}"; do echo "extra ${f##*/}"; sha256sum <"$f"; done
	(cd "$tests_dir" && find . -type f | LC_ALL=C sort | while read -r f; do echo "$f"; cat "$f"; done)
} | sha256sum | cut -c1-16)
out="$cache_root/guest-initramfs/$key"
if [[ -s $out/initramfs.cpio.gz ]]; then
	msg "cached: $out"
	echo "$out"
	exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,run,lib,tests,data,root,etc}
mknod -m 0600 "$stage/dev/console" c 5 1
mknod -m 0666 "$stage/dev/null" c 1 3
cp "$busybox" "$stage/bin/busybox"
for a in $("$busybox" --list); do
	[[ $a == busybox ]] || ln -s busybox "$stage/bin/$a"
done
for f in "${extras[@]}"; do
	rm -f "$stage/bin/${f##*/}" # a busybox applet link of that name
	install -m 0755 "$f" "$stage/bin/${f##*/}"
done
install -m 0755 "$here/init" "$stage/init"
install -m 0644 "$here/kite-test.sh" "$stage/lib/kite-test.sh"
cp -r "$tests_dir/." "$stage/tests/"
chmod 0755 "$stage"/tests/*.sh 2>/dev/null || true
head -c $((blob_kib * 1024)) /dev/urandom >"$stage/data/blob"
sha256sum <"$stage/data/blob" | cut -d' ' -f1 >"$stage/data/blob.sha256"
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
if ((${#mods[@]})); then
	mkdir -p "$stage/lib/modules/$kver"
	for m in "${mods[@]}"; do
		cp "$m" "$stage/lib/modules/$kver/"
		basename "$m" >>"$stage/lib/modules/$kver/load.order"
	done
fi

mkdir -p "$out.tmp.$$"
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 >"$out.tmp.$$/initramfs.cpio.gz"
cp "$stage/data/blob.sha256" "$out.tmp.$$/blob.sha256"
rm -rf "$out"
mv "$out.tmp.$$" "$out"
msg "built $out ($(du -h "$out/initramfs.cpio.gz" | cut -f1))"
echo "$out"
