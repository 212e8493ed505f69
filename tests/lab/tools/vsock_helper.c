/* vsock_helper: the guest side of the lab's vsock tests (busybox has no AF_VSOCK).
 * Static; put into the L2 initramfs as /bin/vsock_helper by tests/lab/lib/artifacts.sh.
 *   vsock_helper serve PORT N            listen on PORT, accept N connections, each served
 *                                        by a child that echoes everything until EOF;
 *                                        prints KITE-VSOCK-LISTENING PORT once listening
 *   vsock_helper echo CID PORT N BYTES   N concurrent connections to CID:PORT, each writes
 *                                        BYTES of its own pattern and checks the echo
 *   vsock_helper stream CID PORT SECS    writes to CID:PORT until the peer goes away (an
 *                                        error or EOF: exit 0) or SECS pass (exit 1);
 *                                        prints KITE-VSOCK-STREAMING after the first MiB
 * Every mode ends within 120 s (alarm) and exits 0 only if everything was as expected. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static uint8_t pattern(unsigned conn, uint64_t off)
{
	uint64_t x = (off / 8) * 0x9E3779B97F4A7C15ull + conn * 0xBF58476D1CE4E5B9ull;

	x ^= x >> 29;
	return (uint8_t)(x >> ((off % 8) * 8));
}

static int vconnect(unsigned cid, unsigned port)
{
	struct sockaddr_vm sa = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One connection of `echo`: write and read at once (the peer's buffer is bounded). */
static int echo_one(unsigned idx, unsigned cid, unsigned port, uint64_t bytes)
{
	uint8_t buf[16384];
	uint64_t sent = 0, got = 0;
	int fd = vconnect(cid, port);

	if (fd < 0) {
		printf("vsock_helper: conn %u: connect %u:%u: %s\n", idx, cid, port,
		       strerror(errno));
		return 1;
	}
	/* Non-blocking: a blocking write could wait for credit that only comes back once we
	 * read the echo. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (got < bytes) {
		struct pollfd p = {.fd = fd, .events = POLLIN | (sent < bytes ? POLLOUT : 0)};

		if (poll(&p, 1, 60000) <= 0) {
			printf("vsock_helper: conn %u: stalled at %llu sent, %llu echoed\n", idx,
			       (unsigned long long)sent, (unsigned long long)got);
			return 1;
		}
		if ((p.revents & POLLOUT) && sent < bytes) {
			size_t n = bytes - sent < sizeof(buf) ? bytes - sent : sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = pattern(idx, sent + i);
			ssize_t w = write(fd, buf, n);
			if (w < 0 && errno != EAGAIN) {
				printf("vsock_helper: conn %u: write: %s\n", idx, strerror(errno));
				return 1;
			}
			if (w > 0)
				sent += (uint64_t)w;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r <= 0) {
				printf("vsock_helper: conn %u: %s after %llu echoed bytes\n", idx,
				       r < 0 ? strerror(errno) : "EOF", (unsigned long long)got);
				return 1;
			}
			for (ssize_t i = 0; i < r; i++) {
				if (buf[i] != pattern(idx, got + (uint64_t)i)) {
					printf("vsock_helper: conn %u: echo differs at byte %llu\n",
					       idx, (unsigned long long)(got + (uint64_t)i));
					return 1;
				}
			}
			got += (uint64_t)r;
		}
	}
	close(fd);
	return 0;
}

static int serve_one(int fd)
{
	char buf[16384];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(fd, buf + off, (size_t)(r - off));
			if (w <= 0)
				return 1;
			off += w;
		}
	}
	close(fd);
	return r < 0;
}

/* Waits for every child; the number that did not exit 0. */
static int reap(unsigned n)
{
	int bad = 0, st;

	for (unsigned i = 0; i < n; i++)
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	return bad;
}

static int serve(unsigned port, unsigned n)
{
	struct sockaddr_vm sa = {
	    .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};
	int lfd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0) {
		printf("vsock_helper: listen on port %u: %s\n", port, strerror(errno));
		return 1;
	}
	printf("KITE-VSOCK-LISTENING %u\n", port);
	fflush(stdout);
	for (unsigned i = 0; i < n; i++) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			printf("vsock_helper: accept: %s\n", strerror(errno));
			return 1;
		}
		pid_t pid = fork();
		if (pid == 0)
			_exit(serve_one(fd));
		close(fd);
	}
	close(lfd);
	int bad = reap(n);
	printf("vsock_helper: served %u connections, %d failed\n", n, bad);
	return bad != 0;
}

static int echo(unsigned cid, unsigned port, unsigned n, uint64_t bytes)
{
	for (unsigned i = 0; i < n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			_exit(echo_one(i, cid, port, bytes));
	}
	int bad = reap(n);
	printf("vsock_helper: %u connections of %llu bytes each to %u:%u, %d failed\n", n,
	       (unsigned long long)bytes, cid, port, bad);
	return bad != 0;
}

static int stream(unsigned cid, unsigned port, unsigned secs)
{
	static uint8_t buf[65536];
	uint64_t sent = 0;
	int said = 0, fd = vconnect(cid, port);

	if (fd < 0) {
		printf("vsock_helper: connect %u:%u: %s\n", cid, port, strerror(errno));
		return 1;
	}
	alarm(secs);
	for (;;) {
		ssize_t w = write(fd, buf, sizeof(buf));
		if (w <= 0) {
			printf("KITE-VSOCK-PEER-GONE after %llu bytes: %s\n",
			       (unsigned long long)sent, w < 0 ? strerror(errno) : "zero write");
			close(fd);
			return 0;
		}
		sent += (uint64_t)w;
		if (!said && sent >= (1u << 20)) {
			printf("KITE-VSOCK-STREAMING %llu\n", (unsigned long long)sent);
			fflush(stdout);
			said = 1;
		}
	}
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "vsock_helper: timed out\n";
	(void)!write(1, m, sizeof(m) - 1);
	_exit(1);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(120);
	if (argc == 4 && strcmp(argv[1], "serve") == 0)
		return serve((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
	if (argc == 6 && strcmp(argv[1], "echo") == 0)
		return echo((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]),
			    (unsigned)atoi(argv[4]), strtoull(argv[5], NULL, 0));
	if (argc == 5 && strcmp(argv[1], "stream") == 0)
		return stream((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]),
			      (unsigned)atoi(argv[4]));
	fprintf(
	    stderr,
	    "usage: vsock_helper serve PORT N | echo CID PORT N BYTES | stream CID PORT SECS\n");
	return 2;
}
