/* The host terminal: raw mode while a guest owns it (restored on every exit
 * path), and the Ctrl-A escape that lets the user quit. */
#ifndef KITE_TERM_H
#define KITE_TERM_H

#include <stddef.h>
#include <stdint.h>

#define TERM_ESCAPE 0x01 /* Ctrl-A */

struct term_filter {
	int escape_pending;
};

/* Puts fd in raw mode if it is a terminal; the original mode comes back at
 * exit(), on fatal signals and through term_restore(). */
void term_raw(int fd);
void term_restore(void);

/* Copies in -> out (out has room for n + 1 bytes), handling Ctrl-A x (quit:
 * *quit = 1 and the rest of the input is dropped), Ctrl-A Ctrl-A (one
 * Ctrl-A), and Ctrl-A <other> (both bytes pass). Returns bytes written. */
size_t term_filter_feed(struct term_filter *f, const uint8_t *in, size_t n, uint8_t *out,
			int *quit);

#endif
