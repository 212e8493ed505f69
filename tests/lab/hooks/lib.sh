# shellcheck shell=sh
# hooks/lib.sh: helpers for the per-test hooks in this directory. batch.sh runs
# hooks/<test>.sh as `sh HOOK pre` before kite and `sh HOOK post` after it, in the test's
# scratch directory (@WORK@ in the command line) where kite runs (L1, or this host in
# direct mode). Env: KITE (kite binary), LAB (artifacts: blob.sha256, ...), KITE_LAB_WORK,
# KITE_LAB_LOG (the test's output so far), KITE_LAB_RC (kite's exit status, in post).
# Verdict: exit 0 fine, 77 SKIP, anything else FAIL; the last line printed is the reason.
ok() { echo "$*"; exit 0; }
fail() { echo "$*"; exit 1; }
skip() { echo "$*"; exit 77; }
need() { # tools...: SKIP unless each is on PATH
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "needs $t where kite runs (e2fsprogs)"
	done
}
alloc_bytes() { # file -> bytes allocated on the host file system
	echo $(($(stat -c %b "$1") * $(stat -c %B "$1")))
}
sha() { sha256sum "$@" | cut -d' ' -f1; }
mk_ext4() { # image bytes: sparse raw image with a fresh ext4 file system
	rm -f "$1"
	truncate -s "$2" "$1" || fail "truncate -s $2 $1 failed"
	out=$(mkfs.ext4 -F -q -L kite "$1" 2>&1) || fail "mkfs.ext4 $1 failed: $out"
}
# The sha256 of /data/blob in the L2 initrd (@INITRD@), recorded when it was built.
blob_sha() {
	[ -s "$LAB/blob.sha256" ] || fail "no $LAB/blob.sha256"
	cat "$LAB/blob.sha256"
}
