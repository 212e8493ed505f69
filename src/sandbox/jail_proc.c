/* --new-pid-ns and --daemonize (jail_proc.h). */
#include "sandbox/jail_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void forwarded(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGCHLD);
}

int jail_proc_wait(int child)
{
	sigset_t set;
	siginfo_t si;
	int status;

	forwarded(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		pid_t r = waitpid(child, &status, WNOHANG);

		if (r == child)
			return WIFEXITED(status)     ? WEXITSTATUS(status)
			       : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
						     : 1;
		if (r < 0 && errno != EINTR)
			return 1;
		if (sigwaitinfo(&set, &si) > 0 && si.si_signo != SIGCHLD)
			kill(child, si.si_signo);
	}
}

/* The first parent of a daemon: 0 once it is ready, else its status. */
static int await_ready(int rfd, pid_t child)
{
	char c = 0;
	ssize_t n;

	do
		n = read(rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	close(rfd);
	if (n == 1 && c == 'R')
		return 0;
	return jail_proc_wait(child);
}

int jail_proc_start(bool new_pid_ns, bool daemonize, struct jail_proc *p)
{
	sigset_t set, old;
	int pipefd[2] = {-1, -1};
	pid_t pid;

	p->ready_fd = p->null_fd = -1;
	p->waited = false;
	/* Block the forwarded signals across the fork: none is lost between
	 * the fork and the child's own handling (hostio's signalfd). */
	forwarded(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (daemonize) {
		p->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (p->null_fd < 0 || pipe2(pipefd, O_CLOEXEC)) {
			fprintf(stderr, "kite: --daemonize: %s\n", strerror(errno));
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "kite: --daemonize: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid > 0) {
			close(pipefd[1]);
			return await_ready(pipefd[0], pid);
		}
		close(pipefd[0]);
		p->ready_fd = pipefd[1];
		/* stderr stays until ready: a failure before the guest starts
		 * still reaches the user. */
		if (setsid() < 0 || dup2(p->null_fd, 0) < 0 || dup2(p->null_fd, 1) < 0) {
			fprintf(stderr, "kite: --daemonize: %s\n", strerror(errno));
			return 1;
		}
	}
	if (new_pid_ns) {
		if (unshare(CLONE_NEWPID)) {
			fprintf(stderr, "kite: --new-pid-ns: unshare(CLONE_NEWPID): %s\n",
				strerror(errno));
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "kite: --new-pid-ns: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid > 0) {
			/* Only the child reports readiness or holds anything. */
			if (p->ready_fd >= 0)
				close(p->ready_fd);
			if (p->null_fd >= 0) { /* a daemon's waiter: off the terminal too */
				dup2(p->null_fd, 2);
				close(p->null_fd);
			}
			p->waited = true;
			return jail_proc_wait(pid);
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return -1;
}

void jail_proc_ready(struct jail_proc *p)
{
	if (p->ready_fd >= 0) {
		/* A parent that is gone needs telling nothing. */
		(void)!write(p->ready_fd, "R", 1);
		close(p->ready_fd);
		p->ready_fd = -1;
	}
	if (p->null_fd >= 0) {
		dup2(p->null_fd, 2); /* failing, stderr stays: harmless */
		close(p->null_fd);
		p->null_fd = -1;
	}
}
