/* tapctl: the lab's tap helper where kite runs (L1, or this host in direct mode).
 * Busybox `ip` has no `tuntap`, and kite never creates a tap (README, --net), so the
 * virtio-net lab tests make theirs with this static program:
 *   tapctl add NAME              create a persistent tap NAME (TUNSETIFF+TUNSETPERSIST)
 *   tapctl del NAME              remove it (TUNSETPERSIST 0)
 *   tapctl exec NAME FD PROG...  open NAME as kite's --net fd= expects (IFF_TAP|IFF_NO_PI|
 *                                IFF_VNET_HDR), put it on descriptor FD, exec PROG
 * Built with `cc -static` by tests/lab/lib/artifacts.sh; exit 0 or 1 with a message. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int tap_open(const char *name, short flags)
{
	struct ifreq ifr;
	int fd;

	if (strlen(name) >= IFNAMSIZ) {
		fprintf(stderr, "tapctl: name '%s' too long\n", name);
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tapctl: /dev/net/tun: %s\n", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, name);
	ifr.ifr_flags = flags;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "tapctl: TUNSETIFF %s: %s\n", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int persist(const char *name, int on)
{
	int fd = tap_open(name, IFF_TAP | IFF_NO_PI);

	if (fd < 0)
		return 1;
	if (ioctl(fd, TUNSETPERSIST, on) < 0) {
		fprintf(stderr, "tapctl: TUNSETPERSIST %s: %s\n", name, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "add") == 0)
		return persist(argv[2], 1);
	if (argc == 3 && strcmp(argv[1], "del") == 0)
		return persist(argv[2], 0);
	if (argc >= 5 && strcmp(argv[1], "exec") == 0) {
		int want = atoi(argv[3]);
		int fd = tap_open(argv[2], IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);

		if (fd < 0 || want < 3)
			return 1;
		if (dup2(fd, want) < 0) { /* dup2 leaves FD_CLOEXEC off on the copy */
			fprintf(stderr, "tapctl: dup2: %s\n", strerror(errno));
			return 1;
		}
		if (fd != want)
			close(fd);
		execvp(argv[4], &argv[4]);
		fprintf(stderr, "tapctl: exec %s: %s\n", argv[4], strerror(errno));
		return 1;
	}
	fprintf(stderr, "usage: tapctl add|del NAME | tapctl exec NAME FD PROG [ARG]...\n");
	return 1;
}
