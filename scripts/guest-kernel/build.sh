#!/usr/bin/env bash
# build.sh: builds the small guest kernel for kite's real-Linux tests (tests/lab) from
# Debian's linux-source-6.1 with tinyconfig + kite-guest.config, checks that every option
# of the fragment is in the final .config, and caches the result under
#   ${KITE_CACHE:-/var/cache/kite}/guest-kernel/<key>/{bzImage,vmlinux,config}
# where <key> = sha256(fragment + linux-source version). Prints that directory on stdout
# (everything else goes to stderr), so: KDIR=$(scripts/guest-kernel/build.sh)
# Idempotent: a cached result is reused; concurrent runs serialise on a lock.
# Env: KITE_CACHE (cache root), KITE_JOBS (make -j, default nproc), KITE_NICE (default 10).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
frag="$here/kite-guest.config"
cache_root=${KITE_CACHE:-/var/cache/kite}
top="$cache_root/guest-kernel"
pkg=linux-source-6.1
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=${KITE_JOBS:-$(nproc)}
nice_lvl=${KITE_NICE:-10}

msg() { printf 'guest-kernel: %s\n' "$*" >&2; }
die() { printf 'guest-kernel: ERROR: %s\n' "$*" >&2; exit 1; }

apt_install() {
	# Installs Debian packages; runs `apt-get update` only if the first try fails.
	msg "installing $*"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; then
		DEBIAN_FRONTEND=noninteractive apt-get update >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2
	fi
}

need_tools() {
	local missing=() t
	for t in make gcc bc bison flex xz cpio perl; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	[[ -e /usr/include/libelf.h ]] || missing+=(libelf-dev)
	[[ -e /usr/include/openssl/ssl.h ]] || missing+=(libssl-dev)
	((${#missing[@]} == 0)) && return 0
	local pkgs=() m
	for m in "${missing[@]}"; do
		case $m in
		xz) pkgs+=(xz-utils) ;;
		*) pkgs+=("$m") ;;
		esac
	done
	apt_install "${pkgs[@]}"
}

[[ -r $frag ]] || die "fragment $frag missing"
if [[ ! -r $tarball ]]; then
	apt_install "$pkg"
fi
[[ -r $tarball ]] || die "$tarball still missing after installing $pkg"
srcver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
[[ -n $srcver ]] || srcver=$(stat -c %s-%Y "$tarball")
key=$( { cat "$frag"; printf '%s\n' "$pkg $srcver"; } | sha256sum | cut -c1-16)
out="$top/$key"

if [[ -s $out/bzImage && -s $out/vmlinux && -s $out/config ]]; then
	msg "cached: $out"
	echo "$out"
	exit 0
fi

mkdir -p "$top"
exec 9>"$top/.lock"
if ! flock -n 9; then
	msg "another build holds $top/.lock; waiting"
	flock 9
fi
# Re-check: the other holder may just have built the same thing.
if [[ -s $out/bzImage && -s $out/vmlinux && -s $out/config ]]; then
	msg "cached: $out"
	echo "$out"
	exit 0
fi

need_tools
src="$top/src-$srcver"
if [[ ! -e $src/.extracted ]]; then
	msg "extracting $tarball to $src"
	rm -rf "$src"
	mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	touch "$src/.extracted"
fi

# One object directory per source version; reused across fragment changes so that a
# fragment edit is an incremental build.
obj="$top/obj-$srcver"
mkdir -p "$obj"
kmake() { nice -n "$nice_lvl" make -C "$src" O="$obj" ARCH=x86_64 "$@"; }

msg "configuring: tinyconfig + $(basename "$frag")"
kmake -s tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$frag" >/dev/null
kmake -s olddefconfig >&2

# Every option the fragment asks for must be in the final .config.
bad=0
while IFS= read -r line; do
	if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
		opt=${BASH_REMATCH[1]}
		want=${BASH_REMATCH[2]}
		got=$(grep -E "^$opt=" "$obj/.config" | head -n1 | cut -d= -f2- || true)
		if [[ $got != "$want" ]]; then
			msg "MISSING: $opt=$want (final .config has: ${got:-not set})"
			bad=1
		fi
	elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set ]]; then
		opt=${BASH_REMATCH[1]}
		if grep -qE "^$opt=" "$obj/.config"; then
			msg "UNWANTED: $opt is set: $(grep -E "^$opt=" "$obj/.config")"
			bad=1
		fi
	fi
done <"$frag"
((bad == 0)) || die "final .config lacks options from $frag (a dependency is missing; see above)"
msg "all $(grep -cE '^(CONFIG_|# CONFIG_)' "$frag") fragment options present"

msg "building bzImage + vmlinux with make -j$jobs (nice $nice_lvl); takes ~8 min on 2 cores"
start=$(date +%s)
kmake -j"$jobs" bzImage >"$obj/build.log" 2>&1 || {
	tail -n 40 "$obj/build.log" >&2
	die "kernel build failed; full log: $obj/build.log"
}
msg "built in $(( $(date +%s) - start )) s"

tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$obj/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$obj/vmlinux" "$tmp/vmlinux"
cp "$obj/.config" "$tmp/config"
printf '%s %s\n' "$pkg" "$srcver" >"$tmp/source-version"
rm -rf "$out"
mv "$tmp" "$out"
msg "done: $(du -h "$out/bzImage" | cut -f1) bzImage, $(du -h "$out/vmlinux" | cut -f1) vmlinux"
echo "$out"
