#!/bin/sh
# hooks/api-run.sh NAME WORK KITE ARGS...: the command of a control-API test (the cmd of
# the api-* blocks in tests.txt, as `sh $LAB/hooks/api-run.sh NAME @WORK@ @KITE@ ...`).
# Starts `KITE ARGS...` in the background in WORK, its output (stdout+stderr) copied line
# by line to this script's stdout and to WORK/kite.out, then runs `sh $LAB/hooks/NAME.sh drive` (the
# test's API requests, see api-lib.sh) while kite runs, and exits with kite's status.
# A drive phase that fails (it prints `KITE-API-DRIVE FAIL <reason>`) gets kite SIGKILLed
# and this script exits 99. The test's timeout (batch.sh) kills the whole process group.
# The API socket, if any, is the argument after --api-sock.
name=$1 WORK=$2
shift 2
KITE=$1
export WORK LAB KITE
cd "$WORK" || exit 98
API_SOCK="" prev=""
for a in "$@"; do
	[ "$prev" = --api-sock ] && API_SOCK=$a
	prev=$a
done
KITE_OUT=$WORK/kite.out
: >"$KITE_OUT"
rm -f "$WORK/kite.fifo"
mkfifo "$WORK/kite.fifo" || exit 98
# Whole lines only (one write each), so that the drive phase's KITE-API lines, written to
# the same stdout, never land inside a line of kite's.
copy_lines() {
	while IFS= read -r l || [ -n "$l" ]; do
		printf '%s\n' "$l"
		printf '%s\n' "$l" >>"$KITE_OUT"
	done
}
copy_lines <"$WORK/kite.fifo" &
tpid=$!
# kite's stdin stays this script's (batch.sh's FIFO): an asynchronous command would
# otherwise get /dev/null.
exec 5<&0
"$@" <&5 >"$WORK/kite.fifo" 2>&1 &
KITE_PID=$!
exec 5<&-
export API_SOCK KITE_OUT KITE_PID
echo "KITE-API-RUN kite pid $KITE_PID${API_SOCK:+, API socket $API_SOCK}"
sh "$LAB/hooks/$name.sh" drive </dev/null
drc=$?
if [ $drc != 0 ]; then
	echo "KITE-API-RUN the drive phase failed (status $drc): SIGKILL to kite"
	kill -s KILL "$KITE_PID" 2>/dev/null
	wait "$KITE_PID"
	wait "$tpid"
	exit 99
fi
echo "KITE-API-DRIVE OK"
wait "$KITE_PID"
rc=$?
wait "$tpid"
echo "KITE-API-RUN kite exited with status $rc"
exit $rc
