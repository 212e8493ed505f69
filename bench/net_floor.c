/* bench/net_floor.c: the floor of bench/net-pps, and its frame injector.
 * The floor moves the same frames as the benchmark guest (bench_net.c) on
 * the same tap, opened as kite opens it (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, 12-byte vnet header), with nothing in between: no guest,
 * no virtqueue, one write or read per frame.
 *
 *   net_floor tx TAP COUNT LEN   write COUNT frames of LEN bytes (after a
 *                                zero vnet header); prints elapsed_ns= for
 *                                the loop
 *   net_floor rx TAP COUNT       read COUNT frames; prints elapsed_ns= from
 *                                the first frame to the last
 *   net_floor inject TAP LEN     send LEN-byte frames into the tap through an
 *                                AF_PACKET socket (they come out of the tap's
 *                                fd, to kite or to `rx`) until killed
 *
 * The frames: 02:00:00:00:00:01 <- 02:00:00:00:00:02 (inject) or the
 * other way (tx), EtherType 0x88b5. Exit status 0, or 1 with a message. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR 12
#define ETYPE 0x88b5

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int die(const char *what)
{
	fprintf(stderr, "net_floor: %s: %s\n", what, strerror(errno));
	return 1;
}

static int tap_open(const char *name)
{
	struct ifreq ifr = {0};
	int hdr = HDR;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void frame(uint8_t *f, size_t len, uint8_t dst_last, uint8_t src_last)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 0};

	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)i;
	memcpy(f, mac, 6);
	f[5] = dst_last;
	memcpy(f + 6, mac, 6);
	f[11] = src_last;
	f[12] = ETYPE >> 8;
	f[13] = ETYPE & 0xff;
}

static int tx(int fd, long count, size_t len)
{
	static uint8_t buf[HDR + 1514];
	uint64_t t0;

	memset(buf, 0, HDR);
	frame(buf + HDR, len, 2, 1);
	t0 = now_ns();
	for (long i = 0; i < count; i++)
		if (write(fd, buf, HDR + len) < 0)
			return die("write to the tap");
	printf("elapsed_ns=%llu frames=%ld\n", (unsigned long long)(now_ns() - t0), count);
	return 0;
}

static int rx(int fd, long count)
{
	static uint8_t buf[65536];
	uint64_t t0 = 0;

	for (long i = 0; i < count; i++) {
		if (read(fd, buf, sizeof(buf)) < 0)
			return die("read from the tap");
		if (i == 0)
			t0 = now_ns();
	}
	printf("elapsed_ns=%llu frames=%ld\n", (unsigned long long)(now_ns() - t0), count);
	return 0;
}

static int inject(const char *tap, size_t len)
{
	static uint8_t f[1514];
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETYPE)};
	struct ifreq ifr = {0};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETYPE));

	if (s < 0)
		return die("AF_PACKET socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap);
	if (ioctl(s, SIOCGIFINDEX, &ifr) < 0)
		return die("the tap's index");
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return die("bind to the tap");
	frame(f, len, 1, 2);
	for (;;)
		if (send(s, f, len, 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
			return die("send");
}

int main(int argc, char **argv)
{
	int fd;

	if (argc == 4 && !strcmp(argv[1], "inject"))
		return inject(argv[2], (size_t)atol(argv[3]));
	if (argc < 4 || (strcmp(argv[1], "tx") && strcmp(argv[1], "rx")) ||
	    (!strcmp(argv[1], "tx") && (argc != 5 || atol(argv[4]) < 60 || atol(argv[4]) > 1514))) {
		fprintf(stderr, "usage: net_floor tx TAP COUNT LEN | rx TAP COUNT | inject TAP LEN\n");
		return 1;
	}
	fd = tap_open(argv[2]);
	if (fd < 0)
		return die("open the tap");
	if (!strcmp(argv[1], "tx"))
		return tx(fd, atol(argv[3]), (size_t)atol(argv[4]));
	return rx(fd, atol(argv[3]));
}
