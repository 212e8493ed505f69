#!/bin/bash
# The network and vsock control plane end to end, on this host's KVM with
# CPL-3 guests (tests/guest/net_guest.c, vsock_guest.c, echo_user.s):
#  1. API: PUT /network-interfaces/{id} before boot (with its refusals: one
#     tap or one MAC twice, unknown fields, ids that differ, PATCH before
#     boot), InstanceStart, frames both ways through the tap the test
#     creates; then PATCH of the running interface's rx limiter to one
#     frame a day holds the guest's receive queue (the host's frame gets no
#     echo, the device counts rate-limited events), a refused PATCH
#     changes nothing, and a PATCH lifting the limit lets the queue go; a
#     snapshot taken after a PATCH restores with the PATCHed limiters.
#  2. A config file with network-interfaces (limiters in it) and vsock:
#     GET /vm/config reports them in Firecracker's spelling, a PATCH while
#     running shows in it, a host client talks to the guest over vsock;
#     a file with two interfaces on one tap is refused with exit status 2.
#  3. API: PUT /vsock (refusals: CID 2, unknown field; PATCH /vsock), the
#     socket is there once the VM runs, a host client round-trips.
#  4. kite's PATCH /entropy on a running entropy device.
# The tap gets no address; it is deleted at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
need_kvm
[ -c /dev/net/tun ] || skip "/dev/net/tun is absent"
command -v python3 >/dev/null || skip "python3 is needed for the host side"
command -v curl >/dev/null || skip "curl is not installed"
tap=ktapi$$
ip tuntap add dev "$tap" mode tap 2>/dev/null || skip "cannot create a tap (CAP_NET_ADMIN missing?)"
trap 'api_cleanup; ip link del "$tap" 2>/dev/null' EXIT
sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" 2>/dev/null
ip link set "$tap" mtu 9000 up || fail "ip link set $tap mtu 9000 up"
HERE=$(dirname "$0")
MAC=02:00:00:00:00:01

expect_code() { # expect_code WHAT CODE [TEXT in the body]
	if [ "$code" != "$2" ]; then
		fail "$1: HTTP $code, expected $2: $body"
	elif [ -n "${3:-}" ] && ! grep -qF -- "$3" <<<"$body"; then
		fail "$1: body lacks '$3': $body"
	else
		ok "$1: $code"
	fi
}
expect_body() { # expect_body WHAT TEXT: the last body has TEXT
	if grep -qF -- "$2" <<<"$body"; then ok "$1"; else fail "$1: no '$2' in $body"; fi
}
host() { # host NAME [echo TAG]: net_host.py in the background, once bound
	rm -f "$TMP/ready"
	python3 "$HERE/net_host.py" "$tap" "$TMP/ready" "${@:2}" >"$TMP/$1.host" 2>&1 &
	hpid=$!
	for _ in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
}
start_kite() { # start_kite NAME ARGS...: in the background, API socket $S
	"$KITE" run "${@:2}" </dev/null >"$TMP/$1.out" 2>"$TMP/$1.err" &
	kpid=$!
	pids+=("$kpid")
	wait_sock "$S" || fail "$1: no API socket: $(head -c 300 "$TMP/$1.err")"
}

# --- 1. network interface through the API ---
S=$TMP/a.sock
start_kite a --api-sock "$S" --debug-exit
api "$S" PATCH /network-interfaces/eth0 '{"iface_id": "eth0"}'
expect_code "PATCH before boot" 400 "not supported before starting"
api "$S" PUT /boot-source "{\"kernel_image_path\": \"$GUEST_DIR/net_guest.bin\",
	\"kite\": {\"mode\": \"long-user\", \"load_addr\": \"0x100000\", \"regs\": {\"rdi\": 1}}}"
expect_code "PUT /boot-source" 204
api "$S" PUT /network-interfaces/eth0 "{\"iface_id\": \"eth0\", \"host_dev_name\": \"$tap\",
	\"guest_mac\": \"$MAC\", \"mtu\": 9000,
	\"rx_rate_limiter\": {\"bandwidth\": {\"size\": 10485760, \"refill_time\": 1000}},
	\"tx_rate_limiter\": {\"ops\": {\"size\": 1000, \"refill_time\": 1000}}}"
expect_code "PUT /network-interfaces/eth0" 204
api "$S" PUT /network-interfaces/eth1 "{\"iface_id\": \"eth1\", \"host_dev_name\": \"$tap\"}"
expect_code "a second interface on the same tap" 400 "given twice"
api "$S" PUT /network-interfaces/eth1 "{\"iface_id\": \"eth1\", \"host_dev_name\": \"other0\",
	\"guest_mac\": \"$MAC\"}"
expect_code "a second interface with the same MAC" 400 "cannot share a MAC"
api "$S" PUT /network-interfaces/eth1 '{"iface_id": "eth1", "host_dev_name": "t", "queues": 2}'
expect_code "an unknown field" 400 "unknown field \`queues\`"
api "$S" PUT /network-interfaces/eth1 '{"iface_id": "eth2", "host_dev_name": "t"}'
expect_code "path and body ids differ" 400 "does not match"
api "$S" GET /vm/config
expect_body "GET /vm/config: the interface" "{\"iface_id\":\"eth0\",\"host_dev_name\":\"$tap\",\"guest_mac\":\"$MAC\""
expect_body "GET /vm/config: only one" '"network-interfaces":[{'
host a
api "$S" PUT /actions '{"action_type": "InstanceStart"}'
expect_code "InstanceStart" 204
wait $hpid && ok "frames both ways through the API's interface" ||
	fail "first exchange: $(cat "$TMP/a.host"); $(head -c 300 "$TMP/a.err")"
api "$S" PUT /network-interfaces/eth1 "{\"iface_id\": \"eth1\", \"host_dev_name\": \"x$tap\"}"
expect_code "PUT after boot" 400 "not supported after starting"
api "$S" PATCH /entropy '{"rate_limiter": {"ops": {"size": 1, "refill_time": 1}}}'
expect_code "PATCH /entropy without an entropy device" 400 "there is none"
# One frame a day: the bucket starts full (one frame), then holds.
api "$S" PATCH /network-interfaces/eth0 '{"iface_id": "eth0",
	"rx_rate_limiter": {"ops": {"size": 1, "refill_time": 86400000}}}'
expect_code "PATCH rx to one frame a day" 204
api "$S" GET /vm/config
expect_body "GET /vm/config: the new ops bucket" '"ops":{"size":1,"one_time_burst":0,"refill_time":86400000}'
expect_body "GET /vm/config: the bandwidth bucket kept" '"bandwidth":{"size":10485760,"one_time_burst":0,"refill_time":1000}'
host b echo 5
wait $hpid && ok "the first frame passes" || fail "no echo 5: $(cat "$TMP/b.host")"
host c echo 6
wait $hpid && fail "a second frame passed the one-a-day limit" || ok "the limit holds the receive queue"
api "$S" GET /kite/metrics
if grep -E "^kite_device_rx_rate_limited\{device=\"net0\"" <<<"$body" | grep -qvE ' 0$'; then
	ok "net0 counted rate-limited receives"
else
	fail "no rate-limited receives counted: $(grep rate_limited <<<"$body")"
fi
api "$S" PATCH /network-interfaces/eth0 '{"iface_id": "eth0",
	"rx_rate_limiter": {"ops": {"size": 1, "refill_time": 86400001}}}'
expect_code "PATCH with a refill time over a day" 400 "refill_time"
api "$S" PATCH /network-interfaces/eth9 '{"iface_id": "eth9"}'
expect_code "PATCH of an unknown interface" 400 "Invalid network interface ID: eth9"
api "$S" PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "guest_mac": "02:00:00:00:00:02"}'
expect_code "PATCH of a field it cannot change" 400 "unknown field \`guest_mac\`"
api "$S" GET /vm/config
expect_body "refused PATCHes changed nothing" '"ops":{"size":1,"one_time_burst":0,"refill_time":86400000}'
api "$S" PATCH /network-interfaces/eth0 '{"iface_id": "eth0",
	"rx_rate_limiter": {"ops": {"size": 0, "refill_time": 0}}}'
expect_code "PATCH lifting the limit" 204
host d echo 7
wait $hpid && ok "the held queue goes again" || fail "no echo 7 after the limit was lifted: $(cat "$TMP/d.host")"
# A snapshot after a PATCH: the restored machine has the PATCHed limiters
# and the interface's id, and can be PATCHed again.
RX='"rx_rate_limiter":{"bandwidth":{"size":1048576,"one_time_burst":0,"refill_time":1000}}'
api "$S" PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "rx_rate_limiter":
	{"bandwidth": {"size": 1048576, "refill_time": 1000}, "ops": {"size": 0, "refill_time": 0}}}'
expect_code "PATCH before the snapshot" 204
api "$S" PATCH /vm '{"state": "Paused"}'
expect_code "pause" 204
api "$S" PUT /snapshot/create "{\"snapshot_path\": \"$TMP/n.snap\", \"mem_file_path\": \"$TMP/n.mem\"}"
expect_code "snapshot" 204
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null
S=$TMP/r.sock
host r echo 8
start_kite r --restore "$TMP/n.snap" --mem-file "$TMP/n.mem" --api-sock "$S"
wait $hpid && ok "the restored guest echoes" || fail "no echo after the restore: $(cat "$TMP/r.host"); $(head -c 300 "$TMP/r.err")"
api "$S" GET /vm/config
expect_body "restored: the PATCHed limiter and the id" "{\"iface_id\":\"eth0\",\"host_dev_name\":\"$tap\",\"guest_mac\":\"$MAC\",$RX"
api "$S" PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "rx_rate_limiter": null,
	"tx_rate_limiter": {"ops": {"size": 50, "refill_time": 1000}}}'
expect_code "PATCH the restored interface" 204
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null

# --- 2. the config file: network-interfaces and vsock ---
S=$TMP/f.sock
V=$TMP/f.vsock
cat >"$TMP/vm.json" <<EOF
{"boot-source": {"kernel_image_path": "$GUEST_DIR/vsock_guest.bin",
  "kite": {"mode": "long-user", "load_addr": "0x100000", "regs": {"rdi": 7, "rsi": 1}}},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 64},
 "network-interfaces": [{"iface_id": "eth0", "host_dev_name": "$tap", "guest_mac": "$MAC",
   "rx_rate_limiter": {"bandwidth": {"size": 1048576, "one_time_burst": 4096, "refill_time": 1000}},
   "tx_rate_limiter": {"ops": {"size": 100, "refill_time": 1000}}}],
 "vsock": {"guest_cid": 7, "uds_path": "$V", "vsock_id": "vsock0"}}
EOF
start_kite f --config-file "$TMP/vm.json" --api-sock "$S" --debug-exit
api "$S" GET /vm/config
expect_body "config file: the interface" "\"host_dev_name\":\"$tap\""
expect_body "config file: its rx limiter" '"rx_rate_limiter":{"bandwidth":{"size":1048576,"one_time_burst":4096,"refill_time":1000}}'
expect_body "config file: its tx limiter" '"tx_rate_limiter":{"ops":{"size":100,"one_time_burst":0,"refill_time":1000}}'
expect_body "config file: the vsock" "\"vsock\":{\"guest_cid\":7,\"uds_path\":\"$V\"}"
api "$S" PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "tx_rate_limiter": null,
	"rx_rate_limiter": {"bandwidth": {"size": 2097152, "refill_time": 500}}}'
expect_code "PATCH the file's interface" 204
api "$S" GET /vm/config
expect_body "GET shows the PATCH" '"rx_rate_limiter":{"bandwidth":{"size":2097152,"one_time_burst":0,"refill_time":500}}'
expect_body "GET keeps the limiter not given" '"tx_rate_limiter":{"ops":{"size":100,"one_time_burst":0,"refill_time":1000}}'
python3 "$HERE/vsock_echo.py" "$V" "hello over the file's vsock" >"$TMP/f.echo" 2>&1 &&
	ok "vsock from the config file: a host client round-trips" ||
	fail "vsock client: $(cat "$TMP/f.echo"); $(head -c 300 "$TMP/f.err")"
for _ in $(seq 100); do kill -0 "$kpid" 2>/dev/null || break; sleep 0.1; done
wait "$kpid"
rc=$?
[ $rc -eq 0 ] && ok "the vsock guest ended with 0" || fail "vsock guest: exit $rc: $(head -c 300 "$TMP/f.out")"
cat >"$TMP/bad.json" <<EOF
{"boot-source": {"kernel_image_path": "$GUEST_DIR/vsock_guest.bin"},
 "network-interfaces": [{"iface_id": "a", "host_dev_name": "$tap"},
   {"iface_id": "b", "host_dev_name": "$tap"}]}
EOF
run_kite bad run --config-file "$TMP/bad.json" --no-api
expect_rc "a config file with two interfaces on one tap" 2
expect_err_line "its message" "network-interfaces: Could not add network interface b"

# --- 3. vsock through the API ---
S=$TMP/v.sock
V=$TMP/v.vsock
start_kite v --api-sock "$S" --debug-exit
api "$S" PUT /vsock "{\"guest_cid\": 2, \"uds_path\": \"$V\"}"
expect_code "PUT /vsock with the host's CID" 400 "Invalid guest_cid 2"
api "$S" PUT /vsock "{\"guest_cid\": 9, \"uds_path\": \"$V\", \"port\": 1}"
expect_code "PUT /vsock with an unknown field" 400 "unknown field \`port\`"
api "$S" PUT /vsock "{\"guest_cid\": 8, \"uds_path\": \"$TMP/old.vsock\"}"
expect_code "PUT /vsock" 204
api "$S" PUT /vsock "{\"guest_cid\": 9, \"uds_path\": \"$V\", \"vsock_id\": \"vsock0\"}"
expect_code "PUT /vsock again replaces it" 204
api "$S" PATCH /vsock "{\"guest_cid\": 9, \"uds_path\": \"$V\"}"
expect_code "PATCH /vsock" 400 "the path takes other methods"
api "$S" GET /vm/config
expect_body "GET /vm/config: the vsock" "\"vsock\":{\"guest_cid\":9,\"uds_path\":\"$V\"}"
api "$S" PUT /boot-source "{\"kernel_image_path\": \"$GUEST_DIR/vsock_guest.bin\",
	\"kite\": {\"mode\": \"long-user\", \"load_addr\": \"0x100000\", \"regs\": {\"rdi\": 9, \"rsi\": 1}}}"
expect_code "PUT /boot-source" 204
api "$S" PUT /actions '{"action_type": "InstanceStart"}'
expect_code "InstanceStart" 204
api "$S" GET /
expect_body "Running" '"state":"Running"'
[ -S "$V" ] && ok "the vsock socket exists once the VM runs" || fail "no socket at $V"
[ -e "$TMP/old.vsock" ] && fail "the replaced uds_path was bound" || ok "the replaced uds_path is unused"
api "$S" PUT /vsock "{\"guest_cid\": 10, \"uds_path\": \"$V\"}"
expect_code "PUT /vsock after boot" 400 "not supported after starting"
python3 "$HERE/vsock_echo.py" "$V" "hello over the API's vsock" >"$TMP/v.echo" 2>&1 &&
	ok "vsock from the API: a host client round-trips" ||
	fail "vsock client: $(cat "$TMP/v.echo"); $(head -c 300 "$TMP/v.err")"
for _ in $(seq 100); do kill -0 "$kpid" 2>/dev/null || break; sleep 0.1; done
wait "$kpid"
rc=$?
[ $rc -eq 0 ] && ok "the vsock guest ended with 0" || fail "vsock guest: exit $rc: $(head -c 300 "$TMP/v.out")"

# --- 4. PATCH /entropy (kite's extension) ---
S=$TMP/e.sock
start_kite e --api-sock "$S"
api "$S" PUT /boot-source "{\"kernel_image_path\": \"$GUEST_DIR/echo_user.bin\",
	\"kite\": {\"mode\": \"long-user\", \"load_addr\": \"0x100000\"}}"
expect_code "PUT /boot-source" 204
api "$S" PUT /entropy '{"rate_limiter": {"bandwidth": {"size": 4096, "refill_time": 1000}}}'
expect_code "PUT /entropy" 204
api "$S" PATCH /entropy '{"rate_limiter": {"ops": {"size": 5, "refill_time": 100}}}'
expect_code "PATCH /entropy before boot" 400 "not supported before starting"
api "$S" PUT /actions '{"action_type": "InstanceStart"}'
expect_code "InstanceStart" 204
api "$S" PATCH /entropy '{"rate_limiter": {"ops": {"size": 5, "refill_time": 100}}}'
expect_code "PATCH /entropy" 204
api "$S" GET /vm/config
expect_body "GET: the entropy limiter, bandwidth kept, ops added" '"entropy":{"rate_limiter":{"bandwidth":{"size":4096,"one_time_burst":0,"refill_time":1000},"ops":{"size":5,"one_time_burst":0,"refill_time":100}}}'
api "$S" PATCH /entropy '{"rate_limiter": {"ops": {"size": 5, "refill_time": 86400001}}}'
expect_code "PATCH /entropy refused" 400 "refill_time"
api "$S" GET /vm/config
expect_body "a refused PATCH /entropy changed nothing" '"ops":{"size":5,"one_time_burst":0,"refill_time":100}'
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null
finish
