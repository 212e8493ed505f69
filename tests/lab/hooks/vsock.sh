# vsock hook: the L1 side of the vsock test (guest side: tests/lab/guest/vsock.sh), with
# socat as the host peer, as Firecracker users do. kite runs with --vsock cid=3,uds=v.sock
# in the scratch directory. Drive phase (hooks/api-run.sh, while kite runs):
# - socat echo servers at v.sock_6000 (guest-initiated connections to CID 2 port 6000) and
#   a sink at v.sock_6001 (the stream whose peer is killed);
# - once the guest listens on port 5000: 10 socat clients at once, each sends
#   `CONNECT 5000\n` and 256 KiB of its own text, and must get `OK <port>\n` and its text back;
# - once the guest prints KITE-VSOCK-STREAMING: kill -9 of the sink socat, mid-transfer;
#   the guest's stream must then fail and a new connection work (checked in the guest);
#   kite must be alive when the guest reports.
# VSOCK_UDS (drive phase; default $WORK/v.sock): kite's socket as L1 sees it (jail-linux
# runs this drive phase against a jailed kite's socket, <jail>/run/v.sock).
# shellcheck source=tests/lab/hooks/api-lib.sh
. "$LAB/hooks/api-lib.sh"
N=10
UDS=${VSOCK_UDS:-$WORK/v.sock}
case $1 in
pre)
	command -v socat >/dev/null || skip "needs socat where kite runs"
	rm -f v.sock v.sock_6000 v.sock_6001
	ok "socat $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/\1/p' | head -n 1)"
	;;
drive)
	# backlog: the guest opens 10 connections at once, and kite's connect to a Unix
	# listener whose backlog is full fails at once (EAGAIN, a reset for the guest);
	# socat's default backlog is 5.
	socat -t 30 UNIX-LISTEN:"${UDS}_6000",fork,backlog=64 EXEC:cat 2>echo.err &
	epid=$!
	socat -u UNIX-LISTEN:"${UDS}_6001" GOPEN:/dev/null 2>sink.err &
	kpid=$!
	# A failing drive phase must not leave them behind: they hold the test's output
	# pipe, and batch.sh would wait for it 15 s and then count the test as timed out.
	trap 'kill $epid $kpid 2>/dev/null' EXIT
	wait_line '^KITE-VSOCK-LISTENING 5000' 180
	i=0
	while [ $i -lt $N ]; do
		i=$((i + 1))
		awk -v c=$i 'BEGIN { for (n = 0; n < 6722; n++) printf "conn %02d line %05d the quick brown fox\n", c, n }' >in.$i
		{ printf 'CONNECT 5000\n'; cat in.$i; } | timeout 120 socat -t 60 - UNIX-CONNECT:"$UDS" >out.$i 2>err.$i &
	done
	wait_line '^vsock_helper: served' 150
	# The clients end when kite closes their connections after the guest's close.
	i=0 bad=""
	while [ $i -lt $N ]; do
		i=$((i + 1))
		n=0
		while [ ! -s out.$i ] || [ "$(tail -c 37 out.$i)" != "$(tail -c 37 in.$i)" ]; do
			n=$((n + 1))
			[ $n -le 60 ] && nap && continue
			break
		done
		first=$(head -n 1 out.$i)
		case $first in
		"OK "[0-9]*) ;;
		*) bad="$bad conn $i: first line '$first' ($(tr '\n' ' ' <err.$i))"; continue ;;
		esac
		tail -n +2 out.$i | cmp -s - in.$i || bad="$bad conn $i: echo differs ($(wc -c <out.$i) bytes back for $(wc -c <in.$i))"
	done
	[ -z "$bad" ] || dfail "host-initiated:$bad"
	echo "KITE-VSOCK-HOST $N host-initiated connections: OK line and $(wc -c <in.1) bytes echoed each"
	wait_line '^KITE-VSOCK-STREAMING' 150
	sleep 1
	kite_alive || dfail "kite is gone before the kill"
	kill -s KILL $kpid
	echo "KITE-VSOCK-KILLED the host peer of the guest's stream (socat pid $kpid) with SIGKILL"
	wait_line '^KITE-RESULT vsock ' 150
	kill $epid 2>/dev/null
	grep -q '^KITE-RESULT vsock PASS' "$KITE_OUT" || grep -q 'KITE-RESULT vsock PASS' "$KITE_OUT" || dfail "the guest's vsock test did not pass"
	;;
post) ok "done" ;;
esac
