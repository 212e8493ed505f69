/* Tap devices for virtio-net: open or check, vnet header size, offloads. */
#include "backends/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

static int by_name(const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, e;

	/* TUNSETIFF would create a missing tap: kite only uses existing ones. */
	if (!if_nametoindex(name)) {
		snprintf(err, errlen,
			 "--net tap=%s: no such network interface (create the tap "
			 "first: ip tuntap add dev %s mode tap)",
			 name, name);
		return -ENODEV;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "--net tap=%s: /dev/net/tun: %s", name, strerror(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = TAP_FLAGS;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		snprintf(err, errlen, "--net tap=%s: TUNSETIFF: %s%s", name, strerror(e),
			 e == EINVAL  ? " (is it a tap, not a tun, or another kind of device?)"
			 : e == EPERM ? " (the tap belongs to another user, or CAP_NET_ADMIN is "
					"missing)"
				      : "");
		close(fd);
		return -e;
	}
	return fd;
}

/* A jailer's fd: it must already be the tap it claims to be. */
static int by_fd(const char *name, int given, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, e;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(given, TUNGETIFF, &ifr) < 0) {
		e = errno;
		snprintf(err, errlen, "--net tap=%s,fd=%d: not a tap file descriptor (%s)", name,
			 given, strerror(e));
		return -(e == ENOTTY || e == EBADFD ? EINVAL : e);
	}
	if ((ifr.ifr_flags & TAP_FLAGS) != TAP_FLAGS || strncmp(ifr.ifr_name, name, IFNAMSIZ)) {
		snprintf(err, errlen,
			 "--net tap=%s,fd=%d: the fd is %.16s with flags 0x%x; "
			 "kite needs tap %s opened with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR",
			 name, given, ifr.ifr_name, (unsigned)ifr.ifr_flags & 0xffff, name);
		return -EINVAL;
	}
	fd = fcntl(given, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 || fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "--net tap=%s,fd=%d: %s", name, given, strerror(e));
		return -e;
	}
	return fd;
}

int tap_open(const char *name, int given, int *out, char *err, size_t errlen)
{
	int hdr = TAP_VNET_HDR_LEN, fd, e;

	fd = given >= 0 ? by_fd(name, given, err, errlen) : by_name(name, err, errlen);
	if (fd < 0)
		return fd;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		e = errno;
		snprintf(err, errlen, "--net tap=%s: vnet header set-up: %s", name, strerror(e));
		close(fd);
		return -e;
	}
	*out = fd;
	return 0;
}

int tap_set_offload(int fd, unsigned offloads)
{
	unsigned long f = 0;

	if (offloads & TAP_OFF_CSUM)
		f |= TUN_F_CSUM;
	/* The kernel refuses TSO without checksum offload; so does virtio
	 * (GUEST_TSO4 requires GUEST_CSUM), so this only guards bad callers. */
	if ((offloads & TAP_OFF_TSO4) && (offloads & TAP_OFF_CSUM))
		f |= TUN_F_TSO4;
	if ((offloads & TAP_OFF_TSO6) && (offloads & TAP_OFF_CSUM))
		f |= TUN_F_TSO6;
	return ioctl(fd, TUNSETOFFLOAD, f) < 0 ? -errno : 0;
}
