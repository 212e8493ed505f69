/* Terminal raw mode and the escape-sequence filter for guest input. */
#include "term.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int saved_fd = -1;

void term_restore(void)
{
	if (saved_fd >= 0) {
		tcsetattr(saved_fd, TCSANOW, &saved);
		saved_fd = -1;
	}
}

static void restore_and_reraise(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

void term_raw(int fd)
{
	struct termios t;
	static int hooked;

	if (!isatty(fd) || tcgetattr(fd, &saved) < 0)
		return;
	t = saved;
	/* Like cfmakeraw, but keep output post-processing so that kite's own
	 * messages on the same terminal still start at column 0. */
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return;
	saved_fd = fd;
	if (!hooked) {
		hooked = 1;
		atexit(term_restore);
		signal(SIGSEGV, restore_and_reraise);
		signal(SIGBUS, restore_and_reraise);
		signal(SIGABRT, restore_and_reraise);
	}
}

size_t term_filter_feed(struct term_filter *f, const uint8_t *in, size_t n, uint8_t *out,
			int *quit)
{
	size_t o = 0;

	*quit = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (f->escape_pending) {
			f->escape_pending = 0;
			if (c == 'x' || c == 'X') {
				*quit = 1;
				return o;
			}
			if (c != TERM_ESCAPE)
				out[o++] = TERM_ESCAPE;
			out[o++] = c;
		} else if (c == TERM_ESCAPE) {
			f->escape_pending = 1;
		} else {
			out[o++] = c;
		}
	}
	return o;
}
