/* config: option parsing and validation, including every bad-input case. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "sandbox/seccomp.h"

static char err[512];

#define PARSE(cfg, cmd, ...)                                                   \
	({                                                                     \
		char *argv_[] = {"kite", __VA_ARGS__, NULL};                   \
		config_parse((int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_, \
			     cfg, cmd, err, sizeof(err));                      \
	})

static void seed_demo(void **state)
{
	struct vm_config c;
	enum config_cmd cmd;

	(void)state;
	assert_int_equal(PARSE(&c, &cmd, "run", "--image", "demo.bin", "--mode", "real",
			       "--load", "0x1000", "--reg", "rax=2", "--reg", "rbx=2"), 0);
	assert_int_equal(cmd, CMD_RUN);
	assert_string_equal(c.image, "demo.bin");
	assert_int_equal(c.mode, MODE_REAL);
	assert_int_equal(c.load_addr, 0x1000);
	assert_int_equal(c.entry, 0x1000);
	assert_int_equal(c.regs[GPR_RAX], 2);
	assert_int_equal(c.regs[GPR_RBX], 2);
	assert_int_equal(c.regs_set, (1u << GPR_RAX) | (1u << GPR_RBX));
	assert_int_equal(c.memory, 256ull << 20);
	assert_int_equal(c.cpus, 1);
	assert_string_equal(c.kvm_device, "/dev/kvm");
}

static void all_options(void **state)
{
	struct vm_config c;
	enum config_cmd cmd;

	(void)state;
	assert_int_equal(PARSE(&c, &cmd, "run", "--image", "x", "--mode", "long-user", "--load",
			       "1048576", "--entry", "0x100010", "--memory", "1G", "--cpus", "4",
			       "--serial-out", "out.txt", "--kvm-device", "/dev/null",
			       "--irqchip", "on", "--reg", "r15=0xffffffffffffffff", "--reg",
			       "rflags=0x202", "--reg", "rsp=0x8000", "--timestamps",
			       "--log-level", "debug"), 0);
	assert_int_equal(c.mode, MODE_LONG_USER);
	assert_int_equal(c.load_addr, 0x100000);
	assert_int_equal(c.entry, 0x100010);
	assert_int_equal(c.memory, 1ull << 30);
	assert_int_equal(c.cpus, 4);
	assert_string_equal(c.serial_out, "out.txt");
	assert_string_equal(c.kvm_device, "/dev/null");
	assert_int_equal(c.irqchip, IRQCHIP_ON);
	assert_true(c.regs[GPR_R15] == UINT64_MAX);
	assert_int_equal(c.regs[GPR_RFLAGS], 0x202);
	assert_int_equal(c.regs[GPR_RSP], 0x8000);
	assert_int_equal(c.timestamps, 1);
}

static void help_version(void **state)
{
	struct vm_config c;
	enum config_cmd cmd;

	(void)state;
	assert_int_equal(PARSE(&c, &cmd, "--help"), 0);
	assert_int_equal(cmd, CMD_HELP);
	assert_int_equal(PARSE(&c, &cmd, "--version"), 0);
	assert_int_equal(cmd, CMD_VERSION);
	assert_int_equal(PARSE(&c, &cmd, "run", "--help"), 0);
	assert_int_equal(cmd, CMD_HELP);
	assert_non_null(strstr(config_help_text, "--image FILE"));
}

static void sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(config_parse_size("256M", &v), 0);
	assert_int_equal(v, 256ull << 20);
	assert_int_equal(config_parse_size("4096K", &v), 0);
	assert_int_equal(v, 4096ull << 10);
	assert_int_equal(config_parse_size("2g", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(config_parse_size("512", &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(config_parse_size("0x10M", &v), 0);
	assert_int_equal(v, 16ull << 20);
	assert_int_not_equal(config_parse_size("", &v), 0);
	assert_int_not_equal(config_parse_size("M", &v), 0);
	assert_int_not_equal(config_parse_size("-1M", &v), 0);
	assert_int_not_equal(config_parse_size(" 1M", &v), 0);
	assert_int_not_equal(config_parse_size("1.5G", &v), 0);
	assert_int_not_equal(config_parse_size("12X", &v), 0);
	assert_int_not_equal(config_parse_size("99999999999999999999", &v), 0);
	assert_int_not_equal(config_parse_size("17179869184G", &v), 0); /* 2^34 G overflows */
}

static void numbers(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(config_parse_u64("0", &v), 0);
	assert_int_equal(config_parse_u64("0xffffffffffffffff", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_not_equal(config_parse_u64("0x", &v), 0);
	assert_int_not_equal(config_parse_u64("0x1g", &v), 0);
	assert_int_not_equal(config_parse_u64("+5", &v), 0);
	assert_int_not_equal(config_parse_u64("18446744073709551616", &v), 0);
	assert_int_not_equal(config_parse_u64("0x10000000000000000", &v), 0);
}

struct bad {
	const char *args[8];
	const char *needle; /* expected in the message */
};

/* Each case must fail with -EINVAL and a message naming the problem. */
static void expect_all_rejected(const struct bad *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *argv[10] = {"kite"};
		int argc = 1;
		struct vm_config c;
		enum config_cmd cmd;

		for (int j = 0; cases[i].args[j]; j++)
			argv[argc++] = (char *)cases[i].args[j];
		assert_int_equal(config_parse(argc, argv, &c, &cmd, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].needle))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err, cases[i].needle);
	}
}

static void bad_input(void **state)
{
	static const struct bad cases[] = {
		{{"run", "--image", "x", "--memory", "0"}, "more than 0"},
		{{"run", "--image", "x", "--memory", "lots"}, "not a size"},
		{{"run", "--image", "x", "--memory", "5K"}, "multiple of 4 KiB"},
		{{"run", "--image", "x", "--memory", "2T"}, "1 TiB"},
		{{"run", "--image", "x", "--cpus", "0"}, "--cpus"},
		{{"run", "--image", "x", "--cpus", "1025"}, "--cpus"},
		{{"run", "--image", "x", "--cpus", "two"}, "--cpus"},
		{{"run", "--image", "x", "--bogus"}, "unknown option --bogus"},
		{{"run", "--image"}, "needs a value"},
		{{"run", "--image", "x", "--mode", "virtual"}, "--mode"},
		{{"run", "--image", "x", "--reg", "rip=1"}, "unknown register"},
		{{"run", "--image", "x", "--reg", "rax"}, "NAME=VALUE"},
		{{"run", "--image", "x", "--reg", "rax=zz"}, "not a number"},
		{{"run", "--image", "x", "--load", "-5"}, "--load"},
		{{"run", "--image", "x", "--entry", "0x100000"}, "below 1 MiB"},
		{{"run", "--image", "x", "--mode", "protected", "--entry", "0x100000000"}, "4 GiB"},
		{{"run", "--image", "x", "--irqchip", "maybe"}, "--irqchip"},
		{{"run", "--image", "x", "stray"}, "unexpected argument"},
		{{"run"}, "nothing to run"},
		{{"fly"}, "unknown command"},
	};

	(void)state;
	expect_all_rejected(cases, sizeof(cases) / sizeof(cases[0]));
	{
		char *argv[] = {"kite", NULL};
		struct vm_config c;
		enum config_cmd cmd;
		assert_int_equal(config_parse(1, argv, &c, &cmd, err, sizeof(err)), -EINVAL);
	}
}

static void snapshot_options(void **state)
{
	static const struct bad cases[] = {
		{{"run", "--restore", "s"}, "go together"},
		{{"run", "--mem-file", "m"}, "go together"},
		{{"run", "--restore", "s", "--mem-file", "m", "--kernel", "k"}, "describes the guest"},
		{{"run", "--restore", "s", "--mem-file", "m", "--memory", "1G"}, "describes the guest"},
		{{"run", "--restore", "s", "--mem-file", "m", "--config-file", "c"},
		 "describes the guest"},
		{{"run", "--restore", "s", "--mem-file", "m", "--record-working-set=0"},
		 "1 to 600000"},
		{{"run", "--restore", "s", "--mem-file", "m", "--record-working-set=x"},
		 "milliseconds"},
		{{"run", "--image", "x", "--no-prefetch"}, "need --restore"},
		{{"run", "--image", "x", "--clock-realtime"}, "need --restore"},
		{{"run", "--image", "x", "--record-working-set"}, "need --restore"},
	};
	char *argv[] = {"kite", "run", "--restore", "s", "--mem-file", "m", "--clock-realtime",
			"--record-working-set=250", "--api-sock", "/tmp/a", NULL};
	struct vm_config c;
	enum config_cmd cmd;

	(void)state;
	expect_all_rejected(cases, sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(config_parse(10, argv, &c, &cmd, err, sizeof(err)), 0);
	assert_string_equal(c.restore_path, "s");
	assert_string_equal(c.restore_mem, "m");
	assert_int_equal(c.restore_clock_realtime, 1);
	assert_int_equal(c.record_ws_ms, 250);
	assert_string_equal(c.api_socket, "/tmp/a");
	assert_null(c.kernel);
	assert_null(c.image);
}

static void linux_and_devices(void **state)
{
	struct vm_config c;
	enum config_cmd cmd;

	(void)state;
	assert_int_equal(PARSE(&c, &cmd, "run", "--kernel", "bzImage", "--initrd", "i.cpio",
			       "--cmdline", "console=ttyS0 quiet", "--disk", "a.img",
			       "--disk", "b.img,ro,serial=DATA1", "--rng=4096"), 0);
	assert_string_equal(c.kernel, "bzImage");
	assert_string_equal(c.initrd, "i.cpio");
	assert_string_equal(c.cmdline, "console=ttyS0 quiet");
	assert_int_equal(c.irqchip, IRQCHIP_ON); /* forced for Linux */
	assert_int_equal(c.nr_disks, 2);
	assert_string_equal(c.disks[0].path, "a.img");
	assert_int_equal(c.disks[0].read_only, 0);
	assert_null(c.disks[0].serial);
	assert_string_equal(c.disks[1].path, "b.img");
	assert_int_equal(c.disks[1].read_only, 1);
	assert_string_equal(c.disks[1].serial, "DATA1");
	assert_int_equal(c.disks[0].poll_us, CONFIG_DISK_POLL_US_DEFAULT);
	assert_int_equal(PARSE(&c, &cmd, "run", "--image", "x", "--disk", "a.img,poll=0",
			       "--disk", "b.img,poll=1000,ro"), 0);
	assert_int_equal(c.disks[0].poll_us, 0);
	assert_int_equal(c.disks[1].poll_us, 1000);
	assert_int_equal(c.disks[1].read_only, 1);
	assert_int_equal(c.disks[0].bps, 0);
	assert_int_equal(c.disks[0].iops, 0);
	assert_int_equal(PARSE(&c, &cmd, "run", "--image", "x", "--disk",
			       "a.img,bps=10M,iops=500,burst=64K", "--disk", "b.img,iops=0x10",
			       "--disk", "c.img,bps=1000"), 0);
	assert_int_equal(c.disks[0].bps, 10ull << 20);
	assert_int_equal(c.disks[0].iops, 500);
	assert_int_equal(c.disks[0].burst, 64ull << 10);
	assert_int_equal(c.disks[1].bps, 0);
	assert_int_equal(c.disks[1].iops, 16);
	assert_int_equal(c.disks[2].bps, 1000);
	assert_int_equal(c.disks[2].burst, 0);
	assert_int_equal(PARSE(&c, &cmd, "run", "--kernel", "bzImage", "--initrd", "i.cpio",
			       "--cmdline", "console=ttyS0 quiet", "--disk", "a.img",
			       "--disk", "b.img,ro,serial=DATA1", "--rng=4096"), 0);
	assert_int_equal(c.rng, 1);
	assert_int_equal(c.rng_rate, 4096);
	assert_int_equal(c.console, CONSOLE_SERIAL);
	assert_int_equal(PARSE(&c, &cmd, "run", "--kernel", "k", "--console", "virtio"), 0);
	assert_int_equal(c.console, CONSOLE_VIRTIO);
	assert_int_equal(PARSE(&c, &cmd, "run", "--image", "x", "--rng"), 0);
	assert_int_equal(c.rng, 1);
	assert_int_equal(c.rng_rate, 0);
	assert_int_equal(c.on_reboot, REBOOT_EXIT);
	assert_int_equal(PARSE(&c, &cmd, "run", "--kernel", "k", "--on-reboot", "restart"), 0);
	assert_int_equal(c.on_reboot, REBOOT_RESTART);
	assert_int_equal(c.boot, 0);
	assert_int_equal(PARSE(&c, &cmd, "run", "--kernel", "k", "--on-reboot", "exit"), 0);
	assert_int_equal(c.on_reboot, REBOOT_EXIT);
	/* --seccomp: on unless told otherwise */
	assert_int_equal(c.seccomp, KITE_SECCOMP_ON);
	assert_int_equal(PARSE(&c, &cmd, "run", "--kernel", "k", "--seccomp", "log"), 0);
	assert_int_equal(c.seccomp, KITE_SECCOMP_LOG);
	assert_int_equal(PARSE(&c, &cmd, "run", "--kernel", "k", "--seccomp", "off"), 0);
	assert_int_equal(c.seccomp, KITE_SECCOMP_OFF);
	assert_int_equal(PARSE(&c, &cmd, "run", "--kernel", "k", "--seccomp", "on"), 0);
	assert_int_equal(c.seccomp, KITE_SECCOMP_ON);
}

static void linux_bad_input(void **state)
{
	static const struct bad cases[] = {
		{{"run", "--kernel", "k", "--image", "x"}, "cannot be used together"},
		{{"run", "--image", "x", "--initrd", "i"}, "need --kernel"},
		{{"run", "--image", "x", "--cmdline", "quiet"}, "need --kernel"},
		{{"run", "--kernel", "k", "--irqchip", "off"}, "irqchip"},
		{{"run", "--image", "x", "--disk", ",ro"}, "--disk"},
		{{"run", "--image", "x", "--disk", "a.img,rw,bogus"}, "unknown option 'bogus'"},
		{{"run", "--image", "x", "--disk", "a.img,poll=1001"}, "0 to 1000"},
		{{"run", "--image", "x", "--disk", "a.img,poll=fast"}, "poll=fast"},
		{{"run", "--image", "x", "--disk", "a.img,poll="}, "microseconds"},
		{{"run", "--image", "x", "--disk", "a.img,poll=-1"}, "microseconds"},
		{{"run", "--image", "x", "--disk", "a.img,serial=123456789012345678901"}, "20"},
		{{"run", "--image", "x", "--disk", "a.img,bps=0"}, "bps=0: expected a positive"},
		{{"run", "--image", "x", "--disk", "a.img,bps="}, "bytes per second"},
		{{"run", "--image", "x", "--disk", "a.img,bps=fast"}, "bps=fast"},
		{{"run", "--image", "x", "--disk", "a.img,bps=-5"}, "bytes per second"},
		{{"run", "--image", "x", "--disk", "a.img,bps=1T"}, "bps=1T"},
		{{"run", "--image", "x", "--disk", "a.img,bps=99999999999999999999"}, "bps="},
		{{"run", "--image", "x", "--disk", "a.img,bps=17179869184G"}, "bps="},
		{{"run", "--image", "x", "--disk", "a.img,iops=0"}, "requests per second"},
		{{"run", "--image", "x", "--disk", "a.img,iops=1k"}, "iops=1k"},
		{{"run", "--image", "x", "--disk", "a.img,iops= 5"}, "requests per second"},
		{{"run", "--image", "x", "--disk", "a.img,burst=lots,bps=1"}, "burst=lots"},
		{{"run", "--image", "x", "--disk", "a.img,burst=1M"}, "needs bps="},
		{{"run", "--image", "x", "--disk", "a.img,iops=5,burst=1M"}, "needs bps="},
		{{"run", "--image", "x", "--disk", "a.img,bsp=5"}, "unknown option 'bsp=5'"},
		{{"run", "--image", "x", "--rng=fast"}, "--rng"},
		{{"run", "--image", "x", "--rng=0"}, "--rng"},
		{{"run", "--kernel", "k", "--console", "tty"}, "serial or virtio"},
		{{"run", "--kernel", "k", "--on-reboot", "reboot"}, "exit or restart"},
		{{"run", "--kernel", "k", "--on-reboot", ""}, "exit or restart"},
		{{"run", "--kernel", "k", "--seccomp", "ON"}, "on, log or off"},
		{{"run", "--kernel", "k", "--seccomp", "strict"}, "on, log or off"},
	};

	(void)state;
	expect_all_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}

static void vsock(void **state)
{
	static const struct bad cases[] = {
		{{"run", "--image", "x", "--vsock", "cid=2,uds=/tmp/v.sock"}, "3 to 4294967294"},
		{{"run", "--image", "x", "--vsock", "cid=0,uds=/tmp/v.sock"}, "cid=0"},
		{{"run", "--image", "x", "--vsock", "cid=4294967295,uds=/tmp/v"}, "3 to 4294967294"},
		{{"run", "--image", "x", "--vsock", "cid=-3,uds=/tmp/v"}, "cid=-3"},
		{{"run", "--image", "x", "--vsock", "cid=three,uds=/tmp/v"}, "cid=three"},
		{{"run", "--image", "x", "--vsock", "cid=3"}, "expected cid=N,uds=PATH"},
		{{"run", "--image", "x", "--vsock", "uds=/tmp/v"}, "expected cid=N,uds=PATH"},
		{{"run", "--image", "x", "--vsock", "cid=3,uds="}, "expected cid=N,uds=PATH"},
		{{"run", "--image", "x", "--vsock", "cid=3,uds=/v,port=5"}, "unknown option 'port=5'"},
		{{"run", "--image", "x", "--vsock", "cid=3,uds=/a", "--vsock", "cid=4,uds=/b"},
		 "given twice"},
	};
	char longp[120] = "cid=3,uds=/";
	struct vm_config c;
	enum config_cmd cmd;

	(void)state;
	expect_all_rejected(cases, sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(PARSE(&c, &cmd, "run", "--image", "x", "--vsock", "uds=/tmp/v.sock,cid=52"),
			 0);
	assert_int_equal(c.vsock_cid, 52);
	assert_string_equal(c.vsock_uds, "/tmp/v.sock");
	assert_true(c.guest_opts);
	config_free(&c);
	/* PATH_4294967295 must fit a socket address. */
	memset(longp + 11, 'a', 100);
	longp[111] = 0;
	assert_int_equal(PARSE(&c, &cmd, "run", "--image", "x", "--vsock", longp), -EINVAL);
	assert_non_null(strstr(err, "longer than"));
}

static void too_many_disks(void **state)
{
	char *argv[2 + 2 * (CONFIG_MAX_DISKS + 1) + 2] = {"kite", "run"};
	int argc = 2;
	struct vm_config c;
	enum config_cmd cmd;

	(void)state;
	for (int i = 0; i <= CONFIG_MAX_DISKS; i++) {
		argv[argc++] = "--disk";
		argv[argc++] = "d.img";
	}
	argv[argc++] = "--image";
	argv[argc++] = "x";
	assert_int_equal(config_parse(argc, argv, &c, &cmd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at most"));
}

static void reg_names(void **state)
{
	(void)state;
	assert_int_equal(config_reg_from_name("rax"), GPR_RAX);
	assert_int_equal(config_reg_from_name("r15"), GPR_R15);
	assert_int_equal(config_reg_from_name("rflags"), GPR_RFLAGS);
	assert_int_equal(config_reg_from_name("eax"), -1);
	assert_string_equal(config_reg_name(GPR_RSP), "rsp");
}

static void net_options(void **state)
{
	struct vm_config c;
	enum config_cmd cmd;
	static const uint8_t mac[6] = {0x02, 0xab, 0xcd, 0xef, 0x01, 0x23};

	(void)state;
	assert_int_equal(PARSE(&c, &cmd, "run", "--image", "x", "--net",
			       "tap=tap0,mac=02:AB:cd:ef:01:23,mtu=9000,fd=7,rx-bps=10M,tx-bps=4096",
			       "--net", "tap=tap1"), 0);
	assert_int_equal(c.nr_nets, 2);
	assert_true(c.guest_opts);
	assert_string_equal(c.nets[0].tap, "tap0");
	assert_int_equal(c.nets[0].has_mac, 1);
	assert_memory_equal(c.nets[0].mac, mac, 6);
	assert_int_equal(c.nets[0].mtu, 9000);
	assert_int_equal(c.nets[0].fd, 7);
	assert_int_equal(c.nets[0].rx_rl.bandwidth.size, 10ull << 20);
	assert_int_equal(c.nets[0].rx_rl.bandwidth.refill_time_ms, 1000);
	assert_int_equal(c.nets[0].tx_rl.bandwidth.size, 4096);
	assert_string_equal(c.nets[1].tap, "tap1");
	assert_int_equal(c.nets[1].fd, -1);
	assert_int_equal(c.nets[1].has_mac, 0);
	assert_int_equal(c.nets[1].mtu, 0);
	assert_int_equal(c.nets[1].rx_rl.bandwidth.size, 0);
	/* The ops buckets and bursts, as --disk's iops= and burst=. */
	assert_int_equal(PARSE(&c, &cmd, "run", "--image", "x", "--net",
			       "tap=t,rx-ops=1K,tx-ops=50,rx-bps=1M,rx-burst=64K,tx-bps=8K,tx-burst=1"),
			 0);
	assert_int_equal(c.nets[0].rx_rl.ops.size, 1024);
	assert_int_equal(c.nets[0].rx_rl.ops.refill_time_ms, 1000);
	assert_int_equal(c.nets[0].tx_rl.ops.size, 50);
	assert_int_equal(c.nets[0].rx_rl.bandwidth.one_time_burst, 64 << 10);
	assert_int_equal(c.nets[0].tx_rl.bandwidth.one_time_burst, 1);
	assert_int_equal(c.nets[0].tx_rl.bandwidth.size, 8192);
}

static void net_bad_input(void **state)
{
	static const struct bad cases[] = {
		{{"run", "--image", "x", "--net", "mac=02:00:00:00:00:01"}, "expected tap=NAME"},
		{{"run", "--image", "x", "--net", ""}, "expected tap=NAME"},
		{{"run", "--image", "x", "--net", "tap="}, "interface name"},
		{{"run", "--image", "x", "--net", "tap=a234567890123456"}, "1 to 15"},
		{{"run", "--image", "x", "--net", "tap=a/b"}, "interface name"},
		{{"run", "--image", "x", "--net", "tap=t,tap=u"}, "twice"},
		{{"run", "--image", "x", "--net", "tap=t", "--net", "tap=t"}, "given twice"},
		{{"run", "--image", "x", "--net", "tap=t,mac=02:00:00:00:00"}, "six hex octets"},
		{{"run", "--image", "x", "--net", "tap=t,mac=02:00:00:00:00:0g"}, "six hex octets"},
		{{"run", "--image", "x", "--net", "tap=t,mac=02-00-00-00-00-01"}, "six hex octets"},
		{{"run", "--image", "x", "--net", "tap=t,mac=03:00:00:00:00:01"}, "multicast"},
		{{"run", "--image", "x", "--net", "tap=t,mtu=67"}, "68 to 65535"},
		{{"run", "--image", "x", "--net", "tap=t,mtu=65536"}, "68 to 65535"},
		{{"run", "--image", "x", "--net", "tap=t,mtu=big"}, "68 to 65535"},
		{{"run", "--image", "x", "--net", "tap=t,fd=-1"}, "file descriptor"},
		{{"run", "--image", "x", "--net", "tap=t,fd=4294967296"}, "file descriptor"},
		{{"run", "--image", "x", "--net", "tap=t,rx-bps=0"}, "positive number"},
		{{"run", "--image", "x", "--net", "tap=t,tx-bps=fast"}, "positive number"},
		{{"run", "--image", "x", "--net", "tap=t,speed=1"}, "unknown option 'speed'"},
		{{"run", "--image", "x", "--net", "tap=t,rx-ops=0"}, "positive number of frames"},
		{{"run", "--image", "x", "--net", "tap=t,tx-burst=0,tx-bps=1M"}, "positive number"},
		{{"run", "--image", "x", "--net", "tap=t,rx-burst=4K"}, "rx-burst= needs rx-bps="},
		{{"run", "--image", "x", "--net", "tap=t,mac=02:00:00:00:00:01", "--net",
		  "tap=u,mac=02:00:00:00:00:01"},
		 "cannot share a MAC"},
		{{"run", "--image", "x", "--net", "tap=t,ro"}, "KEY=VALUE"},
	};

	(void)state;
	expect_all_rejected(cases, sizeof(cases) / sizeof(cases[0]));
}

static void too_many_nets(void **state)
{
	struct vm_config c;
	enum config_cmd cmd;

	(void)state;
	assert_int_equal(PARSE(&c, &cmd, "run", "--image", "x", "--net", "tap=a", "--net", "tap=b",
			       "--net", "tap=c", "--net", "tap=d", "--net", "tap=e", "--net",
			       "tap=f", "--net", "tap=g", "--net", "tap=h", "--net", "tap=i"),
			 -EINVAL);
	assert_non_null(strstr(err, "at most 8"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_demo),   cmocka_unit_test(all_options),
		cmocka_unit_test(help_version), cmocka_unit_test(sizes),
		cmocka_unit_test(numbers),     cmocka_unit_test(bad_input),
		cmocka_unit_test(reg_names),   cmocka_unit_test(linux_and_devices),
		cmocka_unit_test(linux_bad_input), cmocka_unit_test(too_many_disks),
		cmocka_unit_test(snapshot_options), cmocka_unit_test(vsock),
		cmocka_unit_test(net_options), cmocka_unit_test(net_bad_input),
		cmocka_unit_test(too_many_nets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
