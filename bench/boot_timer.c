// SPDX-License-Identifier: MIT
/*
 * bench/boot_timer.c: times a VMM from exec to the first console line that
 * contains a marker (the "boot to init" figure of bench/linux.py, run by
 * bench/lab-boot.sh inside the nested lab's L1, and usable on any host).
 *
 *   boot_timer [-t SECONDS] [-o LOG] MARKER -- VMM [ARGS...]
 *
 * Reads CLOCK_MONOTONIC, forks, and in the child starts a new session (so the
 * whole VMM can be killed as a group), connects stdin to /dev/null and
 * stdout+stderr to a pipe, and execs the VMM. The parent reads the pipe, splits
 * it into lines (a trailing CR is dropped), copies every line to LOG (if
 * given) and, at the first line containing MARKER, reads the clock again. Then
 * it sends SIGKILL to the VMM's process group and reaps it. The same path for
 * every VMM: whatever the VMM prints comes through the same pipe and the same
 * read loop.
 *
 * Prints one line on stdout and exits 0 when the marker arrived:
 *   boot_timer ms=<exec to marker> first_output_ms=<exec to first byte>
 * else "boot_timer fail=<timeout|eof> ..." and exits 1 (2: usage, system error).
 * Built statically (cc -static -O2) so it runs in the L1 initramfs as it is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: boot_timer [-t SECONDS] [-o LOG] MARKER -- VMM [ARGS...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double timeout_s = 120, t0, first = -1, found = -1;
	const char *logpath = NULL, *marker;
	FILE *log = NULL;
	char line[8192];
	size_t len = 0;
	int fds[2], opt, status, eof = 0;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+t:o:")) != -1) {
		switch (opt) {
		case 't': timeout_s = atof(optarg); break;
		case 'o': logpath = optarg; break;
		default: usage();
		}
	}
	if (argc - optind < 3 || strcmp(argv[optind + 1], "--") != 0)
		usage();
	marker = argv[optind];
	if (logpath && !(log = fopen(logpath, "w"))) {
		perror(logpath);
		return 2;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		perror("pipe");
		return 2;
	}
	t0 = now_ms();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setsid();
		if (null >= 0)
			dup2(null, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execvp(argv[optind + 2], argv + optind + 2);
		fprintf(stderr, "boot_timer: exec %s: %s\n", argv[optind + 2], strerror(errno));
		_exit(127);
	}
	close(fds[1]);

	while (found < 0 && !eof) {
		double left = timeout_s * 1e3 - (now_ms() - t0);
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		char buf[4096];
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left + 1) <= 0)
			continue;
		n = read(fds[0], buf, sizeof(buf));
		if (n <= 0) {
			eof = 1;
			break;
		}
		if (first < 0)
			first = now_ms() - t0;
		for (ssize_t i = 0; i < n && found < 0; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			if (len && line[len - 1] == '\r')
				len--;
			line[len] = 0;
			if (strstr(line, marker))
				found = now_ms() - t0;
			if (log)
				fprintf(log, "%s\n", line);
			len = 0;
		}
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (log) {
		if (len) {
			line[len] = 0;
			fprintf(log, "%s\n", line);
		}
		fclose(log);
	}
	if (found >= 0) {
		printf("boot_timer ms=%.1f first_output_ms=%.1f\n", found, first);
		return 0;
	}
	printf("boot_timer fail=%s after_ms=%.0f first_output_ms=%.1f\n", eof ? "eof" : "timeout",
	       now_ms() - t0, first);
	return 1;
}
