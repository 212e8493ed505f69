/* The PC board's legacy devices, created from the board table (board.h)
 * into the machine: see board.c. */
#ifndef KITE_X86_BOARD_DEVICES_H
#define KITE_X86_BOARD_DEVICES_H

#include <stddef.h>

#include "compiler.h"
#include "machine.h"

struct board;

int board_create(struct machine *m, struct board **out, char *err, size_t errlen) MUST_CHECK;
void board_destroy(struct board *b);
/* Ctrl+Alt+Del key presses through the i8042 (API SendCtrlAltDel). */
int board_ctrl_alt_del(struct board *b) MUST_CHECK;

#endif
