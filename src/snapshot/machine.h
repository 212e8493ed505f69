/* The machine section of a snapshot: what a fresh kite needs to build the
 * same machine before it restores state into it. That is the part of
 * struct vm_config which decides the guest-visible hardware (RAM size,
 * vCPUs, irqchip, which devices exist and how they are configured) and the
 * host files the devices reopen (disk paths). Host-side choices that are
 * not the guest's (the API socket, --serial-out, log level, --on-reboot)
 * come from the restoring process's own options.
 *
 * Payload, version 1 (little-endian; strings are u16 length + bytes, 0xffff
 * for none, at most PATH_MAX bytes):
 *   u64 memory, u32 cpus, u8 irqchip (0/1), u8 huge_pages, u8 console,
 *   u8 rng, u64 rng_rate, rng limiter (6 x u64), u8 debug_exit,
 *   u8 linux (a kernel was booted, so the guest has kite's ACPI tables),
 *   u8 track_dirty_pages, u8 fc (configured the Firecracker way),
 *   u32 number of disks (<= CONFIG_MAX_DISKS), per disk:
 *     str path, str serial, u8 read_only, u32 poll_us, limiter (6 x u64),
 *     str id, u8 root, str partuuid, u8 cache, u8 io_engine,
 *     u64 bps, u64 iops, u64 burst
 * Version 2 appends u8 vsock, and with it u64 cid, str uds; version 3
 * u32 number of nets (<= CONFIG_MAX_NETS), per net: str tap, u8 has_mac,
 * mac[6], u32 mtu, u64 rx_bps, u64 tx_bps; version 4 has per net instead
 * of the two rates the rx and tx limiters (6 x u64 each) and str id.
 * Every value is checked as the command line's would be (config_validate
 * runs on the result). */
#ifndef KITE_SNAPSHOT_MACHINE_H
#define KITE_SNAPSHOT_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"
#include "state.h"

/* 2 added the vsock device, 3 the network devices, 4 their whole rate
 * limiters (bytes and ops buckets each way, 3 had a bytes rate) and their
 * iface_id; versions 1 to 3 are still read. */
#define SNAP_MACHINE_VERSION 4u

void snap_machine_save(const struct vm_config *cfg, struct state_buf *out);
/* Fills the guest-describing fields of cfg (which keeps its host-side
 * options) from a machine section; strings are owned by cfg. -EINVAL
 * with one line in err for anything out of range. */
int snap_machine_parse(const void *p, size_t len, uint32_t version, struct vm_config *cfg,
		       char *err, size_t errlen) MUST_CHECK;

#endif
