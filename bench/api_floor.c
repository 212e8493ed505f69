/* bench/api_floor.c: the raw floor of kite's API figures (bench/api.py).
 *
 * The least an HTTP server on a Unix socket can do: socket, bind, listen, then
 * one connection at a time, one request at a time: read until the blank line
 * that ends the headers, read Content-Length more bytes of body, answer. No
 * parser beyond finding "\r\n\r\n" and a Content-Length header, no JSON, no
 * routing beyond the method: GET gets 200 with a fixed body the size of
 * kite's pre-boot `GET /` answer (same headers), anything else 204. No event
 * loop, no threads, no checks. It stands for "the bare socket + process
 * start" and "a request answered by a minimal server"; kite's ratios over it
 * are what its start-up, HTTP parser, JSON and router cost.
 *
 * usage: api_floor SOCKET     (removes SOCKET and exits 0 on SIGTERM)
 * Built by bench/run with `cc -O2`, dynamically linked like kite.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *path;

static void on_term(int sig)
{
	(void)sig;
	unlink(path);
	_exit(0);
}

#define BODY "{\"id\":\"anonymous-instance\",\"state\":\"Not started\",\"vmm_version\":\"1.16.0\",\"app_name\":\"Firecracker\"}"
static const char ok200[] = "HTTP/1.1 200 OK\r\nServer: kite\r\nConnection: keep-alive\r\n"
			    "Content-Type: application/json\r\nContent-Length: 97\r\n\r\n" BODY;
static const char ok204[] = "HTTP/1.1 204 No Content\r\nServer: kite\r\nConnection: keep-alive\r\n\r\n";

/* Serves one connection until the peer closes it. */
static void serve(int c)
{
	static char buf[65536];
	size_t have = 0;

	for (;;) {
		char *end;

		buf[have] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end) {
			ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);
			if (n <= 0)
				return;
			have += (size_t)n;
			continue;
		}
		size_t hlen = (size_t)(end + 4 - buf), blen = 0;
		char *cl = strcasestr(buf, "\r\nContent-Length:");
		if (cl && cl < end)
			blen = strtoul(cl + 17, NULL, 10);
		if (hlen + blen > sizeof(buf) - 1)
			return;
		while (have < hlen + blen) {
			ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);
			if (n <= 0)
				return;
			have += (size_t)n;
		}
		const char *r = strncmp(buf, "GET ", 4) ? ok204 : ok200;
		size_t rlen = r == ok200 ? sizeof(ok200) - 1 : sizeof(ok204) - 1;
		if (write(c, r, rlen) != (ssize_t)rlen)
			return;
		memmove(buf, buf + hlen + blen, have - hlen - blen);
		have -= hlen + blen;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s;

	if (argc != 2 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: api_floor SOCKET\n");
		return 2;
	}
	path = argv[1];
	strcpy(a.sun_path, path);
	signal(SIGTERM, on_term);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 16)) {
		perror("api_floor");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		serve(c);
		close(c);
	}
}
