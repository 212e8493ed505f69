#!/bin/sh
# snap_beat: the guest of the lab's snapshot-restore benchmark (bench/lab-snapshot.sh):
# prints KITE-SNAP-BEAT lines on the console as fast as the shell can, forever. The host
# snapshots the VM (kite: PUT /snapshot/create; QEMU: migrate to a file) while it loops
# and times each restore from exec to the first beat line that reaches its console.
# kite-test: manual
# Kernel messages off the console: a message could cut a beat line in two.
dmesg -n 1
while :; do echo KITE-SNAP-BEAT; done
