# shellcheck shell=sh
# hooks/api-lib.sh: helpers for the control-API tests (api-* in tests.txt), sourced by
# their hooks. Such a test's cmd is hooks/api-run.sh, which starts kite in the background
# and runs `sh hooks/<test>.sh drive` while kite runs: the "drive" phase talks to kite's
# API socket with curl and watches kite's output; pre/post are batch.sh's usual hooks.
# Env in the drive phase (set by api-run.sh): WORK (the test's scratch directory),
# API_SOCK (kite's --api-sock, empty without one), KITE_OUT (kite's output so far, CRs
# included), KITE_PID; and LAB, KITE as for every hook.
# Every request is printed as `KITE-API <METHOD> <PATH> [<body>] -> <status> <answer>`, so
# the test's log shows the whole conversation.
# shellcheck source=tests/lab/hooks/lib.sh
. "$LAB/hooks/lib.sh"

# Drive phase: the reason a test failed; api-run.sh then kills kite (exit 99).
dfail() {
	echo "KITE-API-DRIVE FAIL $*"
	exit 1
}

nap() { sleep 0.5 2>/dev/null || sleep 1; }

# api METHOD PATH [BODY]: one request on $API_SOCK. Sets api_code (HTTP status, "000"
# when there was no answer) and api_body (the answer on one line); returns 0 on 2xx.
api() {
	a_m=$1 a_p=$2
	rm -f "$WORK/api.body"
	if [ $# -ge 3 ]; then
		api_code=$(curl -sS --max-time "${KITE_LAB_CURL_MAX:-60}" --unix-socket "$API_SOCK" \
			-X "$a_m" -H 'Content-Type: application/json' --data-binary "$3" \
			-o "$WORK/api.body" -w '%{http_code}' "http://localhost$a_p" 2>"$WORK/api.err")
	else
		api_code=$(curl -sS --max-time "${KITE_LAB_CURL_MAX:-60}" --unix-socket "$API_SOCK" \
			-X "$a_m" -o "$WORK/api.body" -w '%{http_code}' "http://localhost$a_p" \
			2>"$WORK/api.err")
	fi
	api_body=$(tr '\n' ' ' <"$WORK/api.body" 2>/dev/null)
	a_err=$(tr '\n' ' ' <"$WORK/api.err" 2>/dev/null)
	echo "KITE-API $a_m $a_p${3:+ $3} -> ${api_code:-000} $api_body${a_err:+ (curl: $a_err)}"
	case $api_code in 2??) return 0 ;; esac
	return 1
}

# api_ok METHOD PATH [BODY]: api, and a non-2xx answer fails the test.
api_ok() {
	api "$@" || dfail "$1 $2 answered ${api_code:-000}: $api_body"
}

# kite_alive: kite is running (not gone, not a zombie waiting for api-run.sh).
kite_alive() {
	[ -r "/proc/$KITE_PID/stat" ] || return 1
	[ "$(sed 's/.*) //' "/proc/$KITE_PID/stat" | cut -c1)" != Z ]
}

# wait_sock [SECS]: until kite's API socket exists.
wait_sock() {
	w_n=0
	while [ ! -S "$API_SOCK" ]; do
		kite_alive || dfail "kite exited before its API socket $API_SOCK appeared"
		w_n=$((w_n + 1))
		[ $w_n -le $((${1:-20} * 2)) ] || dfail "no API socket $API_SOCK after ${1:-20} s"
		nap
	done
}

# wait_line ERE [SECS]: until kite's output has a line matching ERE (no '$' anchors: the
# guest's lines end in CR here).
wait_line() {
	w_n=0
	while ! grep -Eq -e "$1" "$KITE_OUT"; do
		kite_alive || {
			grep -Eq -e "$1" "$KITE_OUT" && return 0
			w_g=$(grep -E 'KITE-RESULT [a-z_0-9]+ FAIL' "$KITE_OUT" | tail -n 1 | tr -d '\r')
			dfail "kite exited before a line matching '$1'${w_g:+ (guest: $w_g)}"
		}
		w_n=$((w_n + 1))
		[ $w_n -le $((${2:-120} * 2)) ] || dfail "no line matching '$1' within ${2:-120} s"
		nap
	done
}

# cpu_ticks: user+system clock ticks kite (all its threads) has used so far.
cpu_ticks() {
	sed 's/.*) //' "/proc/$KITE_PID/stat" | awk '{ print $12 + $13 }'
}

# disk FILE BYTES TAG: a sparse raw image of BYTES with TAG at the start of its first
# sector and TAG-END at the start of its last one (checked by guest/api_disks.sh and
# guest/api_swap.sh with O_DIRECT reads).
disk() {
	rm -f "$1"
	truncate -s "$2" "$1" || fail "truncate -s $2 $1 failed"
	printf '%s' "$3" | dd of="$1" bs=512 conv=notrunc 2>/dev/null || fail "dd to $1 failed"
	printf '%s' "$3-END" | dd of="$1" bs=512 seek=$(($2 / 512 - 1)) conv=notrunc 2>/dev/null ||
		fail "dd to $1 failed"
}

# need_artifacts FILE...: SKIP unless each staged artifact exists.
need_artifacts() {
	for f in "$@"; do
		[ -e "$f" ] || skip "artifact missing: $f"
	done
}

# need_curl: SKIP without curl (the API client) where kite runs.
need_curl() {
	command -v curl >/dev/null 2>&1 || skip "needs curl where kite runs (lib/l1image.sh puts it into L1)"
}

# drive_json ID FILE [ro]: a Firecracker drive object (not the root device).
drive_json() {
	printf '{"drive_id": "%s", "path_on_host": "%s", "is_root_device": false, "is_read_only": %s}' \
		"$1" "$2" "$([ "${3:-}" = ro ] && echo true || echo false)"
}

# config_json KERNEL INITRD BOOT_ARGS VCPUS MEM_MIB DRIVES_JSON: a Firecracker config file.
config_json() {
	cat <<EOF
{
  "boot-source": {
    "kernel_image_path": "$1",
    "initrd_path": "$2",
    "boot_args": "$3"
  },
  "drives": [$6],
  "machine-config": {"vcpu_count": $4, "mem_size_mib": $5, "smt": false}
}
EOF
}

# show FILE: prints a file (a config) into the test's log, one line at a time.
show() {
	while IFS= read -r s_l; do echo "${1##*/}: $s_l"; done <"$1"
}

# Firecracker's default boot_args (src/api/fc_config.h: FC_DEFAULT_BOOT_ARGS, what
# Firecracker's clients send), which the tests extend with their kite.* words.
FC_ARGS="console=ttyS0 reboot=k panic=1 pci=off nomodule i8042.noaux i8042.nomux i8042.dumbkbd"

# std_config FILE: the small guest kernel and initrd, 2 vCPUs, 256 MiB, one 4 MiB drive
# (rootfs.img, made here in the current directory); the guest checks all three and
# powers off (api-config-file, api-firecracker-mode).
std_config() {
	need_artifacts "$LAB/bzImage" "$LAB/initramfs.cpio.gz"
	disk rootfs.img 4194304 KITE-DRIVE-rootfs
	config_json "$LAB/bzImage" "$LAB/initramfs.cpio.gz" \
		"$FC_ARGS kite.test=boot,nproc,mem,api_disks kite.expect_cpus=2 kite.expect_mem_mib=256 kite.disks=vda:4194304:KITE-DRIVE-rootfs" \
		2 256 "$(drive_json rootfs "$PWD/rootfs.img")" >"$1"
	show "$1"
}
