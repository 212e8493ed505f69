/* The PC platform around the vCPUs: legacy devices on the port bus, the
 * serial console's host side (stdout/file, stdin with the escape filter). */
#ifndef KITE_X86_PLATFORM_H
#define KITE_X86_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

struct vm;
struct platform;

int platform_create(struct vm *vm, struct platform **out, char *err, size_t errlen) MUST_CHECK;
void platform_destroy(struct platform *p);

#endif
