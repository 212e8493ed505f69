# Helpers for whole-VM tests that drive kite through its API socket with curl
# (sourced after lib.sh): background kites whose PIDs go in pids[] are killed
# at exit, api() makes one request, wait_sock() waits for a socket.
pids=()
api_cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap api_cleanup EXIT

# api SOCK METHOD PATH [BODY]: sets $code and $body.
api() {
	local s=$1 m=$2 p=$3
	shift 3
	code=$(curl -sS --max-time 30 --unix-socket "$s" -o "$TMP/body" -w '%{http_code}' \
		-X "$m" "http://localhost$p" ${1:+-H 'Content-Type: application/json' -d "$1"})
	body=$(cat "$TMP/body" 2>/dev/null)
}

# wait_sock PATH: up to 5 s for the socket to appear.
wait_sock() {
	for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
	return 1
}
