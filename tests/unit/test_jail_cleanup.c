/* jail_cleanup: what is removed once kite has ended, and what is not: the
 * records up to the seal (a socket still the one noted, an empty
 * directory), nothing written after the seal, nothing cut short, a socket
 * replaced since; the forked reader removes them only after its parent
 * (kite) is gone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/jail_cleanup.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kite-test-cleanup.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* A bound socket file at dir/name; the path in out. */
static void make_socket(const char *name, char *out, size_t len)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(out, len, "%s/%s", dir, name);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", out);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
}

static char *path_in(const char *name)
{
	static char p[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void test_records_up_to_the_seal(void **state)
{
	struct jail_cleanup c = JAIL_CLEANUP_INIT;
	char sock[128], swapped[128], line[256];

	(void)state;
	make_socket("api.sock", sock, sizeof(sock));
	make_socket("swapped.sock", swapped, sizeof(swapped));
	assert_int_equal(mkdir(path_in("cg"), 0755), 0);
	assert_int_equal(mkdir(path_in("busy"), 0755), 0);
	assert_int_equal(mkdir(path_in("busy/child"), 0755), 0);
	assert_int_equal(mkdir(path_in("late"), 0755), 0);
	assert_int_equal(jail_cleanup_open(&c), 0);
	jail_cleanup_note_socket(&c, sock);
	jail_cleanup_note_socket(&c, swapped);
	jail_cleanup_note_socket(&c, path_in("cg")); /* not a socket: no record */
	jail_cleanup_note_dir(&c, path_in("cg"));
	jail_cleanup_note_dir(&c, path_in("busy"));
	jail_cleanup_seal(&c);
	/* After the seal (a jailed kite): ignored. */
	snprintf(line, sizeof(line), "D %s\n", path_in("late"));
	assert_int_equal(write(c.wfd, line, strlen(line)), (ssize_t)strlen(line));
	/* Another socket at a noted path since: not the one kite bound (made
	 * while the first exists, so that its inode number differs). */
	make_socket("other.sock", line, sizeof(line));
	assert_int_equal(rename(line, swapped), 0);
	jail_cleanup_run(&c);
	assert_int_equal(c.wfd, -1);
	assert_int_equal(c.rfd, -1);
	assert_int_equal(access(sock, F_OK), -1);
	assert_int_equal(access(path_in("cg"), F_OK), -1);
	assert_int_equal(access(swapped, F_OK), 0);
	assert_int_equal(access(path_in("busy"), F_OK), 0); /* not empty */
	assert_int_equal(access(path_in("late"), F_OK), 0);
}

static void test_cut_short(void **state)
{
	struct jail_cleanup c = JAIL_CLEANUP_INIT;
	char line[256];

	(void)state;
	assert_int_equal(mkdir(path_in("half"), 0755), 0);
	assert_int_equal(jail_cleanup_open(&c), 0);
	/* No newline, no seal: kite ended mid-record. */
	snprintf(line, sizeof(line), "D %s", path_in("half"));
	assert_int_equal(write(c.wfd, line, strlen(line)), (ssize_t)strlen(line));
	jail_cleanup_run(&c);
	assert_int_equal(access(path_in("half"), F_OK), 0);
	/* Nothing without the pipe. */
	jail_cleanup_note_dir(&c, path_in("half"));
	jail_cleanup_seal(&c);
	jail_cleanup_close(&c);
}

/* The forked reader: removes after its parent ends, not before. */
static void test_forked_reader(void **state)
{
	int go[2], status;
	char sock[128];
	pid_t kite;

	(void)state;
	make_socket("fork.sock", sock, sizeof(sock));
	assert_int_equal(pipe(go), 0);
	kite = fork();
	assert_true(kite >= 0);
	if (kite == 0) {
		struct jail_cleanup c = JAIL_CLEANUP_INIT;
		char b;

		close(go[1]);
		if (jail_cleanup_open(&c) || jail_cleanup_fork(&c) || c.rfd != -1 || c.pid <= 0)
			_exit(1);
		jail_cleanup_note_socket(&c, sock);
		jail_cleanup_seal(&c);
		(void)!read(go[0], &b, 1); /* "kite" runs until told */
		_exit(0);
	}
	close(go[0]);
	usleep(100000);
	assert_int_equal(access(sock, F_OK), 0); /* kite still runs */
	close(go[1]);
	assert_int_equal(waitpid(kite, &status, 0), kite);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 200 && !access(sock, F_OK); i++)
		usleep(10000);
	assert_int_equal(access(sock, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records_up_to_the_seal),
	    cmocka_unit_test(test_cut_short),
	    cmocka_unit_test(test_forked_reader),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
