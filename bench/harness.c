/* bench/harness.c: repeated fork/exec timing for bench/run (which compiles it
 * with `cc -O2 -static` so that its own RSS stays below what it measures:
 * ru_maxrss of a child covers the forked harness before the exec too).
 *
 * harness run -n RUNS [-t TIMEOUT_S] [-e ERRFILE] -- CMD ARGS...
 *   Runs CMD RUNS times, one after the other, stdin from /dev/null, stdout and
 *   stderr on pipes. Per run, one line on stdout:
 *     run=I status=S exit_ms=X stdout_ms=X stamp_ms=X maxrss_kb=N out=HEX
 *   exit_ms    exec (just before fork) to the child reaped
 *   stdout_ms  exec to the first byte on the child's stdout (-1: none)
 *   stamp_ms   exec to the first stderr line with "boot-timestamp port" (-1: none)
 *   status     exit status, 128+N if killed by signal N, 124 on timeout
 *   out        the first 32 bytes of stdout, hex
 *   The child's whole stderr is appended to ERRFILE (runs separated by a line
 *   "=== run I") so that bench/run can read kite's own timestamps.
 *
 * harness density -p PARALLEL -d SECONDS -- CMD ARGS...
 *   Keeps PARALLEL copies of CMD running (output to /dev/null), starting a new
 *   one whenever one ends, until SECONDS have passed; then waits for the rest.
 *   Prints "done=N failed=F elapsed_ms=X" then one "maxrss_kb=N" per child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

static pid_t spawn(char **cmd, int out_fd, int err_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(out_fd >= 0 ? out_fd : null, 1);
		dup2(err_fd >= 0 ? err_fd : null, 2);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	return pid;
}

static int one_run(int idx, char **cmd, double timeout_ms, FILE *errf)
{
	int po[2], pe[2], st = 0, open_fds = 2, timed_out = 0;
	double t0, t_out = -1, t_stamp = -1, t_exit;
	unsigned char first[32];
	size_t nfirst = 0;
	char line[4096];
	size_t nline = 0;
	struct rusage ru;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
		return -1;
	if (errf)
		fprintf(errf, "=== run %d\n", idx);
	t0 = now_ms();
	pid = spawn(cmd, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	if (pid < 0)
		return -1;
	struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
	while (open_fds > 0) {
		int left = (int)(t0 + timeout_ms - now_ms());

		if (left <= 0) {
			kill(pid, SIGKILL);
			timed_out = 1;
			break;
		}
		if (poll(fds, 2, left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			char buf[4096];
			ssize_t n;

			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0) {
				if (t_out < 0)
					t_out = now_ms();
				for (ssize_t k = 0; k < n && nfirst < sizeof(first); k++)
					first[nfirst++] = (unsigned char)buf[k];
				continue;
			}
			if (errf)
				fwrite(buf, 1, (size_t)n, errf);
			for (ssize_t k = 0; k < n; k++) {
				if (buf[k] != '\n') {
					if (nline < sizeof(line) - 1)
						line[nline++] = buf[k];
					continue;
				}
				line[nline] = 0;
				if (t_stamp < 0 && strstr(line, "boot-timestamp port"))
					t_stamp = now_ms();
				nline = 0;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	t_exit = now_ms();
	printf("run=%d status=%d exit_ms=%.3f stdout_ms=%.3f stamp_ms=%.3f maxrss_kb=%ld out=",
	       idx, timed_out ? 124 : status_code(st), t_exit - t0, t_out < 0 ? -1 : t_out - t0,
	       t_stamp < 0 ? -1 : t_stamp - t0, ru.ru_maxrss);
	for (size_t k = 0; k < nfirst; k++)
		printf("%02x", first[k]);
	printf("\n");
	fflush(stdout);
	return 0;
}

static int density(char **cmd, int parallel, double secs)
{
	double t0 = now_ms(), deadline = t0 + secs * 1e3;
	long *rss = NULL;
	size_t nrss = 0, cap = 0;
	int running = 0, done = 0, failed = 0;

	for (;;) {
		while (running < parallel && now_ms() < deadline) {
			if (spawn(cmd, -1, -1) < 0)
				break;
			running++;
		}
		if (running == 0)
			break;
		struct rusage ru;
		int st;
		pid_t p = wait4(-1, &st, 0, &ru);

		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		if (status_code(st) == 0)
			done++;
		else
			failed++;
		if (nrss == cap) {
			cap = cap ? cap * 2 : 1024;
			rss = realloc(rss, cap * sizeof(*rss));
			if (!rss)
				return 1;
		}
		rss[nrss++] = ru.ru_maxrss;
	}
	printf("done=%d failed=%d elapsed_ms=%.3f\n", done, failed, now_ms() - t0);
	for (size_t i = 0; i < nrss; i++)
		printf("maxrss_kb=%ld\n", rss[i]);
	free(rss);
	return 0;
}

int main(int argc, char **argv)
{
	int runs = 1, parallel = 1, i;
	double timeout_s = 30, secs = 10;
	const char *errfile = NULL;
	FILE *errf = NULL;

	if (argc < 2)
		goto usage;
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			goto usage;
		if (!strcmp(argv[i], "-n"))
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-t"))
			timeout_s = atof(argv[++i]);
		else if (!strcmp(argv[i], "-e"))
			errfile = argv[++i];
		else if (!strcmp(argv[i], "-p"))
			parallel = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-d"))
			secs = atof(argv[++i]);
		else
			goto usage;
	}
	if (i >= argc)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[1], "density"))
		return density(argv + i, parallel > 0 ? parallel : 1, secs);
	if (strcmp(argv[1], "run"))
		goto usage;
	if (errfile) {
		errf = fopen(errfile, "w");
		if (!errf) {
			perror(errfile);
			return 1;
		}
	}
	for (int r = 0; r < runs; r++)
		if (one_run(r, argv + i, timeout_s * 1e3, errf) < 0) {
			perror("harness");
			return 1;
		}
	if (errf)
		fclose(errf);
	return 0;
usage:
	fprintf(stderr, "usage: harness run -n RUNS [-t TIMEOUT_S] [-e ERRFILE] -- CMD...\n"
			"       harness density -p PARALLEL -d SECONDS -- CMD...\n");
	return 2;
}
