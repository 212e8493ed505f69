// SPDX-License-Identifier: MIT
/*
 * bench/guest/netbench.c: the TCP jobs of the nested lab's virtio-net benchmark
 * (bench/lab-net.sh). The same static program runs in L1 as the server and in
 * the Linux guest as the client (through bench/guest/net_bench.sh), under kite
 * and under QEMU, so both VMMs carry exactly the same traffic.
 *
 *   netbench server PORT                 serve jobs one connection at a time, forever
 *   netbench tx HOST PORT BYTES          send BYTES to the server; done when the
 *                                        server has acknowledged the last one
 *   netbench rx HOST PORT BYTES          receive BYTES from the server
 *   netbench rr HOST PORT COUNT          COUNT 1-byte request/1-byte response round
 *                                        trips (TCP_RR style, TCP_NODELAY)
 *
 * A client sends a 16-byte request (job letter, 64-bit count) first. Each client
 * prints one line and exits 0:
 *   KITE-NETBENCH job=tx|rx|rr bytes=<n>|count=<n> ns=<n> mbps=<10^6 bytes/s>|us=<per trip>
 * ns is CLOCK_MONOTONIC in the client from the request to the last byte (tx: to
 * the server's acknowledgement). Errors: a message on stderr, exit 1 (2: usage).
 * Built with `cc -static -O2` by tests/lab/run --bench-net.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 16];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int full_write(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int full_read(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* One job on an accepted connection. */
static void serve(int fd)
{
	char req[16];
	uint64_t n, done = 0;

	if (full_read(fd, req, sizeof(req)) < 0)
		return;
	memcpy(&n, req + 8, sizeof(n));
	switch (req[0]) {
	case 't': /* the client sends n bytes; acknowledge the total */
		while (done < n) {
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r <= 0)
				return;
			done += (uint64_t)r;
		}
		full_write(fd, &done, sizeof(done));
		break;
	case 'r':
		while (done < n) {
			size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
			if (full_write(fd, buf, k) < 0)
				return;
			done += k;
		}
		break;
	case 'p':
		nodelay(fd);
		for (; done < n; done++) {
			if (full_read(fd, buf, 1) < 0 || full_write(fd, buf, 1) < 0)
				return;
		}
		break;
	}
}

static int server(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0) {
		fprintf(stderr, "netbench: listen on %d: %s\n", port, strerror(errno));
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
}

static int client(const char *job, const char *host, int port, uint64_t n)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[16] = {0};
	uint64_t t0, t, done = 0, ack = 0;
	int fd;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "netbench: bad address %s\n", host);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "netbench: connect %s:%d: %s\n", host, port, strerror(errno));
		return 1;
	}
	req[0] = job[1] == 'r' ? 'p' : job[0]; /* rr -> 'p'ing-pong */
	memcpy(req + 8, &n, sizeof(n));
	if (req[0] == 'p')
		nodelay(fd);
	t0 = now_ns();
	if (full_write(fd, req, sizeof(req)) < 0)
		goto err;
	if (req[0] == 't') {
		while (done < n) {
			size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
			if (full_write(fd, buf, k) < 0)
				goto err;
			done += k;
		}
		if (full_read(fd, &ack, sizeof(ack)) < 0 || ack != n)
			goto err;
	} else if (req[0] == 'r') {
		while (done < n) {
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r <= 0)
				goto err;
			done += (uint64_t)r;
		}
	} else {
		for (; done < n; done++)
			if (full_write(fd, buf, 1) < 0 || full_read(fd, buf, 1) < 0)
				goto err;
	}
	t = now_ns() - t0;
	if (req[0] == 'p')
		printf("KITE-NETBENCH job=rr count=%" PRIu64 " ns=%" PRIu64 " us=%.1f\n", n, t,
		       (double)t / 1e3 / (double)n);
	else
		printf("KITE-NETBENCH job=%s bytes=%" PRIu64 " ns=%" PRIu64 " mbps=%.2f\n", job, n,
		       t, (double)n * 1e3 / (double)t);
	close(fd);
	return 0;
err:
	fprintf(stderr, "netbench: %s job failed after %" PRIu64 " of %" PRIu64 ": %s\n", job, done,
		n, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return server(atoi(argv[2]));
	if (argc == 5 &&
	    (!strcmp(argv[1], "tx") || !strcmp(argv[1], "rx") || !strcmp(argv[1], "rr")))
		return client(argv[1], argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 0));
	fprintf(stderr, "usage: netbench server PORT | netbench tx|rx|rr HOST PORT N\n");
	return 2;
}
