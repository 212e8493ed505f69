# shellcheck shell=sh
# /lib/kite-test.sh: helpers for the L2 test scripts in /tests (sourced by each test).
#   pass [msg] / fail reason / skip reason: print the result line and exit the test.
#   kite_arg NAME: value of kite.NAME=... on the kernel command line (exit 1 if absent).
#   net_up ADDR/LEN: lo and eth0 up, ADDR on eth0, waits up to 10 s for eth0's carrier.
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
net_up() {
	ip link set lo up
	ip link set eth0 up || fail "ip link set eth0 up failed"
	ip addr add "$1" dev eth0 || fail "ip addr add $1 dev eth0 failed"
	nu_n=0
	until [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ]; do
		nu_n=$((nu_n + 1))
		[ $nu_n -le 50 ] || fail "eth0 has no carrier after 10 s (virtio-net link status?)"
		sleep 0.2
	done
}
