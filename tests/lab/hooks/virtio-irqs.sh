# virtio-irqs hook: four 8 MiB images a.img..d.img for vda..vdd, each with its own tag in
# sector 0 (KITE-IRQ-TAG-A..D, checked by the guest) and 1 MiB of its own random bytes at
# 1 MiB; after the run, the sha256 the guest printed for each disk's second MiB
# (KITE-IRQ-SHA <disk> <sha>) must be that image's.
# shellcheck source=tests/lab/hooks/lib.sh
. "$LAB/hooks/lib.sh"
case $1 in
pre)
	for x in a b c d; do
		rm -f $x.img
		truncate -s 8388608 $x.img || fail "truncate $x.img failed"
		X=$(echo $x | tr a-d A-D)
		printf 'KITE-IRQ-TAG-%s' "$X" | dd of=$x.img conv=notrunc 2>/dev/null || fail "tagging $x.img failed"
		dd if=/dev/urandom of=$x.img bs=65536 count=16 seek=16 conv=notrunc 2>/dev/null ||
			fail "random bytes into $x.img failed"
	done
	[ "$(sha a.img b.img c.img d.img | sort -u | wc -l)" = 4 ] || fail "the four images are not all different"
	ok "a.img..d.img: 8 MiB each, tags KITE-IRQ-TAG-A..D, random second MiB"
	;;
post)
	bad=""
	for x in a b c d; do
		want=$(dd if=$x.img bs=65536 skip=16 count=16 2>/dev/null | sha)
		got=$(grep -o "KITE-IRQ-SHA vd$x [0-9a-f]*" "$KITE_LAB_LOG" | tail -n 1 | cut -d' ' -f3)
		if [ -z "$got" ]; then
			bad="$bad vd$x: no KITE-IRQ-SHA line;"
		elif [ "$got" != "$want" ]; then
			bad="$bad vd$x: guest read sha256 $got, $x.img has $want;"
		fi
	done
	[ -z "$bad" ] || fail "second MiB of each disk:$bad"
	ok "the guest read each disk's own second MiB (sha256 of a.img..d.img match)"
	;;
esac
