# shellcheck shell=sh
# /lib/kite-test.sh: helpers for the L2 test scripts in /tests (sourced by each test).
#   pass [msg] / fail reason / skip reason: print the result line and exit the test.
#   kite_arg NAME: value of kite.NAME=... on the kernel command line (exit 1 if absent).
# A test that exits without calling these is judged by its exit status (0 PASS, 77 SKIP).
kite_result() {
	r=$1
	shift
	echo "$r" >/tmp/kite-result
	echo "KITE-RESULT ${KITE_TEST_NAME:-unknown} $r $*"
}
pass() { kite_result PASS "$@"; exit 0; }
fail() { kite_result FAIL "$@"; exit 1; }
skip() { kite_result SKIP "$@"; exit 77; }
kite_arg() {
	for w in $(cat /proc/cmdline); do
		case $w in "kite.$1"=*) echo "${w#*=}"; return 0 ;; esac
	done
	return 1
}
