# shellcheck shell=bash
# lib/common.sh: helpers every part of tests/lab/run uses (sourced by run).
# Needs: $out (logs + staging), $t0 (start time, date +%s).

# Progress line with the time since the runner started.
say() { printf 'lab: [%4ds] %s\n' $(($(date +%s) - t0)) "$*"; }

# Installs Debian packages (output in setup.log); `apt-get update` only if the first
# install fails.
apt_install() {
	say "installing $*"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$out/setup.log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update >>"$out/setup.log" 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$out/setup.log" 2>&1
	fi
}

# Newest installed Debian kernel with its modules (the L1 kernel and the second L2 kernel).
find_debian_kernel() {
	local v
	for v in $(ls /boot/vmlinuz-* 2>/dev/null | sed 's#.*/vmlinuz-##' | sort -rV); do
		[[ -d /lib/modules/$v/kernel ]] && { echo "$v"; return 0; }
	done
	return 1
}

# copy_with_libs ROOT PROGRAM [DEST]: puts a dynamically linked program into the image
# tree ROOT: PROGRAM is copied to ROOT/DEST (DEST is a path inside the image; without it
# the program is taken to be in the image already), and every shared library it needs
# (ldd) goes to the same path under ROOT as on this host. Libraries already in the image
# are left alone. A static program brings no libraries.
copy_with_libs() {
	local root=$1 prog=$2 dest=${3:-} lib
	if [[ -n $dest ]]; then
		mkdir -p "$root$(dirname "$dest")"
		rm -f "$root$dest" # busybox may have an applet link of that name
		cp -L "$prog" "$root$dest"
	fi
	while read -r lib; do
		[[ -f $lib && ! -e $root$lib ]] || continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done < <(ldd "$prog" 2>/dev/null | grep -oE '/[^ ]+' | sort -u)
}
