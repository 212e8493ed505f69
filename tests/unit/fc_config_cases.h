/* The body table of test_fc_config.c: every Firecracker body kite reads,
 * valid and invalid, with the error text each must give. */
#ifndef TEST_FC_CONFIG_CASES_H
#define TEST_FC_CONFIG_CASES_H

#include <errno.h>

enum res { MC, MC_PATCH, BOOT, DRIVE, ENTROPY, LOGGER, METRICS, FILE_ };

struct body_case {
	enum res res;
	const char *path_id; /* drives */
	const char *body;
	int rc;		  /* 0, -EINVAL, -ENOTSUP */
	const char *want; /* substring of err when rc != 0 */
};

#define DESER "An error occurred when deserializing the json body of a request: "
#define BOOT_OK "\"boot-source\": {\"kernel_image_path\": \"vmlinux\"}"

static const struct body_case cases[] = {
    /* machine-config */
    {MC, NULL, "{\"vcpu_count\": 2, \"mem_size_mib\": 1024}", 0, NULL},
    {MC, NULL,
     "{\"vcpu_count\": 32, \"mem_size_mib\": 1024, \"smt\": false, \"track_dirty_pages\": true,"
     " \"huge_pages\": \"2M\", \"cpu_template\": \"None\"}",
     0, NULL},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"huge_pages\": \"Transparent\"}", 0,
     NULL},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"cpu_template\": null}", 0, NULL},
    {MC, NULL, "{\"mem_size_mib\": 1024}", -EINVAL, DESER "missing field `vcpu_count`."},
    {MC, NULL, "{\"vcpu_count\": 2}", -EINVAL, DESER "missing field `mem_size_mib`."},
    {MC, NULL, "{\"vcpu_count\": 2, \"mem_size_mib\": 64, \"foo\": 1}", -EINVAL,
     DESER "unknown field `foo`, expected one of `vcpu_count`, `mem_size_mib`"},
    {MC, NULL, "{\"vcpu_count\": \"2\", \"mem_size_mib\": 64}", -EINVAL,
     DESER "invalid type: string \"2\", expected u8."},
    {MC, NULL, "{\"vcpu_count\": 2.5, \"mem_size_mib\": 64}", -EINVAL,
     "invalid type: floating point"},
    {MC, NULL, "{\"vcpu_count\": null, \"mem_size_mib\": 64}", -EINVAL,
     "missing field `vcpu_count`"},
    {MC, NULL, "{\"vcpu_count\": 0, \"mem_size_mib\": 64}", -EINVAL,
     "The number of vCPUs must be greater than 0, less than 32"},
    {MC, NULL, "{\"vcpu_count\": 33, \"mem_size_mib\": 64}", -EINVAL,
     "The number of vCPUs must be greater than 0"},
    {MC, NULL, "{\"vcpu_count\": 256, \"mem_size_mib\": 64}", -EINVAL,
     "invalid value: integer `256`, expected u8"},
    {MC, NULL, "{\"vcpu_count\": -1, \"mem_size_mib\": 64}", -EINVAL,
     "invalid value: integer `-1`, expected u8"},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 0}", -EINVAL,
     "The memory size (MiB) is either 0, or not a multiple of the configured page size."},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 129, \"huge_pages\": \"2M\"}", -EINVAL,
     "not a multiple of the configured page size"},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 2000000}", -EINVAL,
     "more than kite's limit of 1048576 MiB"},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 9223372036854775807}", -EINVAL,
     "more than kite's limit"},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"smt\": true}", -ENOTSUP,
     "Enabling simultaneous multithreading is not supported by this kite."},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"smt\": 1}", -EINVAL,
     "invalid type: integer `1`, expected a boolean"},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"huge_pages\": \"1G\"}", -EINVAL,
     DESER "unknown variant `1G`, expected one of `None`, `2M`, `Transparent`."},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"cpu_template\": \"T2\"}", -ENOTSUP,
     "The CPU template T2 is not supported by this kite."},
    {MC, NULL, "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"cpu_template\": \"X\"}", -EINVAL,
     "unknown variant `X`"},
    {MC, NULL, "[1]", -EINVAL, DESER "invalid type: sequence, expected struct MachineConfig."},
    {MC_PATCH, NULL, "{}", -EINVAL, "Empty PATCH request."},
    {MC_PATCH, NULL, "{\"track_dirty_pages\": true}", 0, NULL},
    {MC_PATCH, NULL, "{\"vcpu_count\": 4}", 0, NULL},
    {MC_PATCH, NULL, "{\"bogus\": true}", -EINVAL,
     "unknown field `bogus`, expected one of `vcpu_count`"},
    /* boot-source */
    {BOOT, NULL, "{\"kernel_image_path\": \"vmlinux\"}", 0, NULL},
    {BOOT, NULL,
     "{\"kernel_image_path\": \"vmlinux\", \"initrd_path\": \"initrd\", \"boot_args\": "
     "\"console=ttyS0 reboot=k\"}",
     0, NULL},
    {BOOT, NULL, "{\"kernel_image_path\": \"vmlinux\", \"initrd_path\": null}", 0, NULL},
    {BOOT, NULL, "{\"boot_args\": \"x\"}", -EINVAL, DESER "missing field `kernel_image_path`."},
    {BOOT, NULL, "{\"kernel_image_path\": 7}", -EINVAL,
     "invalid type: integer `7`, expected a string"},
    {BOOT, NULL, "{\"kernel_image_path\": \"k\", \"extra\": 1}", -EINVAL,
     "unknown field `extra`, expected one of `kernel_image_path`, `initrd_path`, "
     "`boot_args`, `kite`."},
    {BOOT, NULL, "{\"kernel_image_path\": \"k\", \"boot_args\": \"a\\u0001b\"}", -EINVAL,
     "The kernel command line is invalid"},
    {BOOT, NULL, "{\"kernel_image_path\": \"k\\u0000x\"}", -EINVAL, "NUL character"},
    {BOOT, NULL,
     "{\"kernel_image_path\": \"demo.bin\", \"kite\": {\"mode\": \"long-user\", \"load_addr\": "
     "\"0x100000\", \"entry\": 1048592, \"regs\": {\"rax\": 2, \"rdi\": \"0x10\"}}}",
     0, NULL},
    {BOOT, NULL, "{\"kernel_image_path\": \"d\", \"kite\": {\"mode\": \"virtual\"}}", -EINVAL,
     "unknown variant `virtual`, expected one of `real`, `protected`, `long`, `long-user`"},
    {BOOT, NULL, "{\"kernel_image_path\": \"d\", \"kite\": {\"regs\": {\"xmm0\": 1}}}", -EINVAL,
     "unknown register `xmm0`"},
    {BOOT, NULL, "{\"kernel_image_path\": \"d\", \"kite\": {\"load_addr\": \"12z\"}}", -EINVAL,
     "`load_addr` is not a number"},
    {BOOT, NULL, "{\"kernel_image_path\": \"d\", \"kite\": {\"load_addr\": -5}}", -EINVAL,
     "invalid value: integer `-5`"},
    {BOOT, NULL, "{\"kernel_image_path\": \"d\", \"kite\": {\"entry\": \"0x100000\"}}", -EINVAL,
     "real mode can only start below 1 MiB"},
    {BOOT, NULL, "{\"kernel_image_path\": \"d\", \"kite\": {\"x\": 1}}", -EINVAL,
     "unknown field `x`"},
    {BOOT, NULL, "{\"kernel_image_path\": \"d\", \"boot_args\": \"a\", \"kite\": {}}", -EINVAL,
     "a raw image takes no initrd_path or boot_args"},
    /* drives */
    {DRIVE, "rootfs",
     "{\"drive_id\": \"rootfs\", \"path_on_host\": \"r.ext4\", \"is_root_device\": true, "
     "\"is_read_only\": false}",
     0, NULL},
    {DRIVE, "d_1",
     "{\"drive_id\": \"d_1\", \"path_on_host\": \"x\", \"is_root_device\": true, \"partuuid\": "
     "\"0eaa91a0-01\", \"is_read_only\": true, \"cache_type\": \"Writeback\", \"io_engine\": "
     "\"Async\", \"rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"one_time_burst\": 10, "
     "\"refill_time\": 100}, \"ops\": {\"size\": 10, \"refill_time\": 1000}}, \"socket\": null}",
     0, NULL},
    {DRIVE, "a", "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": false}", 0,
     NULL},
    {DRIVE, "a", "{\"drive_id\": \"b\", \"path_on_host\": \"x\", \"is_root_device\": false}",
     -EINVAL, "The id from the path does not match the id from the body!"},
    {DRIVE, "a-b", "{\"drive_id\": \"a-b\", \"path_on_host\": \"x\", \"is_root_device\": false}",
     -EINVAL, "API Resource IDs can only contain alphanumeric characters and underscores."},
    {DRIVE, "", "{\"drive_id\": \"\", \"path_on_host\": \"x\", \"is_root_device\": false}", -EINVAL,
     "The ID cannot be empty."},
    {DRIVE, "abcdefghijklmnop",
     "{\"drive_id\": \"abcdefghijklmnop\", \"path_on_host\": \"x\", \"is_root_device\": false}",
     -EINVAL, "at most 15 characters"},
    {DRIVE, "a", "{\"path_on_host\": \"x\", \"is_root_device\": false}", -EINVAL,
     "missing field `drive_id`"},
    {DRIVE, "a", "{\"drive_id\": \"a\", \"path_on_host\": \"x\"}", -EINVAL,
     "missing field `is_root_device`"},
    {DRIVE, "a", "{\"drive_id\": \"a\", \"is_root_device\": false}", -EINVAL,
     "missing field `path_on_host`"},
    {DRIVE, "a",
     "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": false, \"x\": 1}", -EINVAL,
     "unknown field `x`"},
    {DRIVE, "a", "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": \"yes\"}",
     -EINVAL, "invalid type: string \"yes\", expected a boolean"},
    {DRIVE, "a",
     "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": false, "
     "\"cache_type\": \"None\"}",
     -EINVAL, "unknown variant `None`, expected `Unsafe` or `Writeback`"},
    {DRIVE, "a",
     "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": false, "
     "\"io_engine\": \"Uring\"}",
     -EINVAL, "unknown variant `Uring`, expected `Sync` or `Async`"},
    {DRIVE, "a",
     "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": true, "
     "\"partuuid\": \"a b\"}",
     -EINVAL, "The partuuid may only contain"},
    {DRIVE, "a",
     "{\"drive_id\": \"a\", \"is_root_device\": false, \"socket\": \"/run/vhost.sock\"}", -ENOTSUP,
     "not supported by this kite"},
    {DRIVE, "a",
     "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": false, "
     "\"rate_limiter\": {\"ops\": {\"size\": 100}}}",
     -EINVAL, "missing field `refill_time`"},
    {DRIVE, "a",
     "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": false, "
     "\"rate_limiter\": {\"ops\": {\"refill_time\": 100}}}",
     -EINVAL, "missing field `size`"},
    {DRIVE, "a",
     "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": false, "
     "\"rate_limiter\": {\"ops\": {\"size\": -1, \"refill_time\": 100}}}",
     -EINVAL, "invalid value: integer `-1`, expected u64"},
    {DRIVE, "a",
     "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": false, "
     "\"rate_limiter\": {\"ops\": {\"size\": 1, \"refill_time\": 86400001}}}",
     -EINVAL, "Cannot create RateLimiter"},
    {DRIVE, "a",
     "{\"drive_id\": \"a\", \"path_on_host\": \"x\", \"is_root_device\": false, "
     "\"rate_limiter\": {\"iops\": {}}}",
     -EINVAL, "unknown field `iops`, expected `bandwidth` or `ops`"},
    /* entropy */
    {ENTROPY, NULL, "{}", 0, NULL},
    {ENTROPY, NULL, "{\"rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"refill_time\": 100}}}",
     0, NULL},
    {ENTROPY, NULL, "{\"rate_limiter\": 5}", -EINVAL,
     "invalid type: integer `5`, expected struct RateLimiterConfig"},
    {ENTROPY, NULL, "{\"x\": 1}", -EINVAL, "unknown field `x`, expected `rate_limiter`"},
    /* logger */
    {LOGGER, NULL,
     "{\"log_path\": \"/tmp/log\", \"level\": \"debug\", \"show_level\": true, "
     "\"show_log_origin\": true, \"module\": \"api_server\"}",
     0, NULL},
    {LOGGER, NULL, "{\"level\": \"WARNING\"}", 0, NULL},
    {LOGGER, NULL, "{\"level\": \"loud\"}", -EINVAL, "unknown variant `loud`"},
    {LOGGER, NULL, "{\"log_path\": 1}", -EINVAL, "expected a string"},
    {LOGGER, NULL, "{\"log_file\": \"x\"}", -EINVAL, "unknown field `log_file`"},
    /* metrics */
    {METRICS, NULL, "{\"metrics_path\": \"/tmp/m\"}", 0, NULL},
    {METRICS, NULL,
     "{\"metrics_path\": \"/tmp/m\", \"emit_id\": true, \"properties\": {\"a\": \"b\"}}", 0, NULL},
    {METRICS, NULL, "{}", -EINVAL, "missing field `metrics_path`"},
    {METRICS, NULL, "{\"metrics_path\": \"m\", \"properties\": {\"a\": 1}}", -EINVAL,
     "expected a string"},
    {METRICS, NULL, "{\"metrics_path\": \"m\", \"x\": 1}", -EINVAL, "unknown field `x`"},
    /* config file */
    {FILE_, NULL, "{" BOOT_OK "}", 0, NULL},
    {FILE_, NULL, "{\"drives\": []}", -EINVAL, "missing field `boot-source`"},
    /* network-interfaces and vsock: test_fc_net.c has their bodies. */
    {FILE_, NULL, "{" BOOT_OK ", \"network-interfaces\": [{\"iface_id\": \"eth0\"}]}", -EINVAL,
     "network-interfaces: " DESER "missing field `host_dev_name`."},
    {FILE_, NULL, "{" BOOT_OK ", \"vsock\": {\"guest_cid\": 3}}", -EINVAL,
     "vsock: " DESER "missing field `uds_path`."},
    {FILE_, NULL, "{" BOOT_OK ", \"balloon\": {}}", -ENOTSUP, "balloon is not supported"},
    {FILE_, NULL, "{" BOOT_OK ", \"mmds-config\": {}}", -ENOTSUP, "mmds-config is not"},
    {FILE_, NULL, "{" BOOT_OK ", \"cpu-config\": {}}", -ENOTSUP, "cpu-config is not"},
    {FILE_, NULL, "{" BOOT_OK ", \"vsock\": null, \"network-interfaces\": [], \"pmem\": []}", 0,
     NULL},
    {FILE_, NULL, "{" BOOT_OK ", \"serial\": {}}", -EINVAL, "unknown field `serial`"},
    {FILE_, NULL, "{" BOOT_OK ", \"machine-config\": {\"vcpu_count\": 2}}", -EINVAL,
     "machine-config: " DESER "missing field `mem_size_mib`."},
    {FILE_, NULL, "{" BOOT_OK ", \"drives\": {}}", -EINVAL, "drives: invalid type"},
    {FILE_, NULL, "{" BOOT_OK ", \"drives\": [5]}", -EINVAL,
     "drives: " DESER "invalid type: integer `5`, expected struct BlockDeviceConfig."},
    {FILE_, NULL, "{" BOOT_OK ", \"drives\": [{\"is_root_device\": true}]}", -EINVAL,
     "drives: " DESER "missing field `drive_id`."},
    {FILE_, NULL, "{" BOOT_OK ", \"drives\": [{\"drive_id\": 3}]}", -EINVAL,
     "invalid type: integer `3`, expected a string"},
    {FILE_, NULL, "{" BOOT_OK ", \"logger\": {\"level\": 1}}", -EINVAL, "logger: "},
    {FILE_, NULL, "{" BOOT_OK ", \"metrics\": {}}", -EINVAL, "metrics: "},
    {FILE_, NULL, "{" BOOT_OK ", \"entropy\": []}", -EINVAL, "entropy: "},
    {FILE_, NULL, "{\"boot-source\": {}}", -EINVAL, "boot-source: "},
    {FILE_, NULL, "{" BOOT_OK ", " BOOT_OK "}", -EINVAL, "Invalid JSON: duplicate object key"},
    {FILE_, NULL, "{" BOOT_OK, -EINVAL, "Invalid JSON"},
    {FILE_, NULL, "[]", -EINVAL, "expected struct VmmConfig"},
};

#endif
