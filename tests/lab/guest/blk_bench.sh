#!/bin/sh
# blk_bench: the virtio-blk jobs of the nested lab's benchmark (bench/lab-boot.sh, which
# boots this with kite.test=blk_bench under kite and under QEMU on the same image). Runs
# /bin/blkjob (bench/guest/blkjob.c, only in the benchmark's initramfs) on /dev/vda for
# each job in kite.blk_jobs= (comma list, default seqread,seqwrite,randread,randwrite),
# kite.blk_seq_ios= / kite.blk_rand_ios= requests each (default: blkjob's own), and
# prints its KITE-BLKJOB lines.
# kite-test: manual
# shellcheck source=scripts/guest-initramfs/kite-test.sh
. /lib/kite-test.sh
[ -x /bin/blkjob ] || skip "no /bin/blkjob (only the benchmark's initramfs has it)"
[ -b /dev/vda ] || fail "no /dev/vda"
jobs=$(kite_arg blk_jobs) || jobs=seqread,seqwrite,randread,randwrite
seq_ios=$(kite_arg blk_seq_ios) || seq_ios=""
rand_ios=$(kite_arg blk_rand_ios) || rand_ios=""
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
echo "KITE-BLKINFO vda_bytes=$(($(cat /sys/block/vda/size) * 512)) clocksource=$cs" \
	"max_sectors_kb=$(cat /sys/block/vda/queue/max_sectors_kb 2>/dev/null)" \
	"max_segments=$(cat /sys/block/vda/queue/max_segments 2>/dev/null)" \
	"nr_requests=$(cat /sys/block/vda/queue/nr_requests 2>/dev/null)" \
	"scheduler=$(tr ' ' _ </sys/block/vda/queue/scheduler 2>/dev/null)"
for j in $(echo "$jobs" | tr ',' ' '); do
	case $j in
	seq*) n=$seq_ios ;;
	*) n=$rand_ios ;;
	esac
	/bin/blkjob "$j" /dev/vda ${n:+-n "$n"} || fail "blkjob $j failed (status $?)"
done
pass "jobs $jobs on /dev/vda"
