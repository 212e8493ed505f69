# virtio-fstrim hook: before, a 64 MiB ext4 image and its allocated bytes; the guest writes
# an 8 MiB file it keeps and a 32 MiB one it deletes, then runs fstrim. After: the image
# grew by about the kept file only (DISCARD punched the deleted file's blocks out), and by
# at least the kept file (its data did reach the image).
# shellcheck source=tests/lab/hooks/lib.sh
. "$LAB/hooks/lib.sh"
need mkfs.ext4 e2fsck
mib=1048576
case $1 in
pre)
	mk_ext4 disk.img $((64 * mib))
	alloc_bytes disk.img >alloc.pre
	ok "disk.img: 64 MiB ext4, $(cat alloc.pre) bytes allocated"
	;;
post)
	a0=$(cat alloc.pre)
	a1=$(alloc_bytes disk.img)
	grow=$((a1 - a0))
	echo "allocated: $a0 -> $a1 bytes (+$((grow / 1024)) KiB)"
	[ $grow -ge $((7 * mib)) ] || fail "image grew by $grow bytes: the kept 8 MiB file is not in it"
	# Kept 8 MiB + journal (4 MiB), inode tables (4 MiB), metadata; without the hole punching it would be +40 MiB.
	[ $grow -le $((20 * mib)) ] || fail "image grew by $((grow / mib)) MiB: the deleted 32 MiB were not punched out by fstrim/DISCARD"
	out=$(e2fsck -fn disk.img 2>&1) || fail "e2fsck -fn: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
	ok "image grew by $((grow / 1024)) KiB (kept 8 MiB file; 32 MiB trimmed); e2fsck clean"
	;;
esac
