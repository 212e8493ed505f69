/* Removing what kite made on the host before its jail (jail_cleanup.h).
 * Records are lines: "S <dev> <ino> <path>" (a socket), "D <path>" (a
 * directory), "E" (the seal). */
#include "sandbox/jail_cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RECORDS_MAX 65536

int jail_cleanup_open(struct jail_cleanup *c)
{
	int p[2];

	*c = (struct jail_cleanup)JAIL_CLEANUP_INIT;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	/* A record that does not fit is dropped (its file stays), never
	 * waited for: nobody may read before kite ends. */
	if (fcntl(p[1], F_SETFL, O_NONBLOCK)) {
		int e = -errno;

		close(p[0]);
		close(p[1]);
		return e;
	}
	c->rfd = p[0];
	c->wfd = p[1];
	return 0;
}

void jail_cleanup_close(struct jail_cleanup *c)
{
	if (c->wfd >= 0)
		close(c->wfd);
	if (c->rfd >= 0)
		close(c->rfd);
	c->wfd = c->rfd = -1;
}

static void put(struct jail_cleanup *c, const char *line)
{
	size_t n = strlen(line);

	if (c->wfd >= 0 && write(c->wfd, line, n) != (ssize_t)n) {
		/* A partial record must not join the next one. */
		close(c->wfd);
		c->wfd = -1;
	}
}

void jail_cleanup_note_socket(struct jail_cleanup *c, const char *path)
{
	char line[4200];
	struct stat st;

	if (c->wfd < 0 || strchr(path, '\n') || lstat(path, &st) || !S_ISSOCK(st.st_mode))
		return;
	if ((size_t)snprintf(line, sizeof(line), "S %llu %llu %s\n", (unsigned long long)st.st_dev,
			     (unsigned long long)st.st_ino, path) < sizeof(line))
		put(c, line);
}

void jail_cleanup_note_dir(struct jail_cleanup *c, const char *path)
{
	char line[4200];

	if (c->wfd >= 0 && !strchr(path, '\n') &&
	    (size_t)snprintf(line, sizeof(line), "D %s\n", path) < sizeof(line))
		put(c, line);
}

void jail_cleanup_seal(struct jail_cleanup *c)
{
	put(c, "E\n");
}

/* Reads fd into buf (NUL-terminated) until EOF, or until it would block
 * (a non-blocking fd); what does not fit is read and dropped. */
static void read_all(int fd, char *buf, size_t max)
{
	size_t n = 0;

	for (;;) {
		char scratch[4096];
		bool room = n + 1 < max;
		ssize_t r =
		    read(fd, room ? buf + n : scratch, room ? max - 1 - n : sizeof(scratch));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (room)
			n += (size_t)r;
	}
	buf[n] = 0;
}

/* Blocking reads into buf until it holds the seal (or EOF), then reads to
 * EOF and drops the rest: what follows the seal is never kept. */
static void read_sealed(int fd, char *buf, size_t max)
{
	size_t n = 0;

	buf[0] = 0;
	while (n + 1 < max && strncmp(buf, "E\n", 2) && !strstr(buf, "\nE\n")) {
		ssize_t r = read(fd, buf + n, max - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		n += (size_t)r;
		buf[n] = 0;
	}
	read_all(fd, (char[4096]){0}, 4096);
}

static void remove_socket(const char *rec)
{
	unsigned long long dev, ino;
	struct stat st;
	int off = 0;

	if (sscanf(rec, "S %llu %llu %n", &dev, &ino, &off) != 2 || !off)
		return;
	/* Still the socket kite bound: someone may have put another there. */
	if (!lstat(rec + off, &st) && S_ISSOCK(st.st_mode) && st.st_dev == dev && st.st_ino == ino)
		unlink(rec + off);
}

/* Acts on the records up to the seal; a line without its newline (cut
 * short) is not a record. */
static void act(char *buf)
{
	for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = 0;
		if (!strcmp(line, "E"))
			return;
		if (line[0] == 'S')
			remove_socket(line);
		else if (line[0] == 'D' && line[1] == ' ')
			/* A cgroup is busy until its last task has left:
			 * kite's threads, as the kernel reaps them. */
			for (int i = 0; i < 200 && rmdir(line + 2) && errno == EBUSY; i++)
				usleep(10000);
	}
}

void jail_cleanup_run(struct jail_cleanup *c)
{
	char *buf = malloc(RECORDS_MAX);

	if (c->wfd >= 0)
		close(c->wfd);
	c->wfd = -1;
	if (buf && c->rfd >= 0 && !fcntl(c->rfd, F_SETFL, O_NONBLOCK)) {
		read_all(c->rfd, buf, RECORDS_MAX);
		act(buf);
	}
	free(buf);
	jail_cleanup_close(c);
}

/* The forked reader: holds nothing of kite's, outlives it, ends. */
static void __attribute__((noreturn)) reader(int rfd, pid_t kite)
{
	int pidfd = (int)syscall(SYS_pidfd_open, kite, 0);
	static char buf[RECORDS_MAX];

	/* kite still our parent: the pidfd is kite's, not a reused pid's. */
	if (pidfd >= 0 && getppid() != kite) {
		close(pidfd);
		pidfd = -1;
	}
	/* A Ctrl-C meant for kite must not end its cleaner first. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	prctl(PR_SET_NAME, "kite-cleanup", 0, 0, 0);
	/* Nothing of kite's stays open here (a tap, the API socket, stdout). */
	for (int fd = 0, hi = rfd > pidfd ? rfd : pidfd; fd <= hi; fd++)
		if (fd != rfd && fd != pidfd)
			close(fd);
	syscall(SYS_close_range, (rfd > pidfd ? rfd : pidfd) + 1, ~0u, 0);
	/* The records up to the seal at once, then EOF: every write end is
	 * closed, kite's last at its exit. */
	read_sealed(rfd, buf, sizeof(buf));
	if (pidfd >= 0) {
		/* Readable once kite is gone whole (out of its cgroup too). */
		struct pollfd p = {pidfd, POLLIN, 0};

		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
	act(buf);
	_exit(0);
}

int jail_cleanup_fork(struct jail_cleanup *c)
{
	pid_t kite = getpid(), pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(c->wfd);
		reader(c->rfd, kite);
	}
	close(c->rfd);
	c->rfd = -1;
	c->pid = pid;
	return 0;
}
