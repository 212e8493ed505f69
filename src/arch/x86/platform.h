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

/* The host end of the guest console, for a device that replaces the UART
 * as the console (virtio-console): its output sink and the callback that
 * resumes input, both bound to the platform. */
void platform_console_host(struct platform *p,
			   void (**out)(void *ctx, const uint8_t *buf, size_t n),
			   void (**rx_space)(void *ctx), void **ctx);
/* Sends host stdin to `receive` instead of the UART. */
void platform_console_input(struct platform *p,
			    size_t (*receive)(void *dev, const uint8_t *buf, size_t n), void *dev);

#endif
