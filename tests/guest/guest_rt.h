/* The freestanding runtime shared by the C test guests (64-bit, CPL 3,
 * loaded at 0x100000 by kite --mode long-user): COM1 output, debug-exit,
 * the memset/memcpy the compiler may call, and virtio-mmio register access.
 * Each guest is a single translation unit that includes this once. */
#ifndef KITE_GUEST_RT_H
#define KITE_GUEST_RT_H

#include <stdint.h>

static inline void barrier(void)
{
	__asm__ __volatile__("" ::: "memory");
}

static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

static __attribute__((unused)) void putc_(char c)
{
	outb(0x3f8, (uint8_t)c);
}

static __attribute__((unused)) void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static __attribute__((unused)) void puthex(uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	while (digits--)
		putc_(hex[(v >> (4 * digits)) & 0xf]);
}

static __attribute__((unused)) void putdec(uint64_t v)
{
	char b[21];
	int i = 0;

	do {
		b[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		putc_(b[--i]);
}

static __attribute__((unused)) void puthexbytes(const volatile uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		puthex(p[i], 2);
}

static __attribute__((noreturn)) void guest_exit(uint8_t code)
{
	outb(0x501, code);
	for (;;)
		cpu_relax();
}

/* Failure number n (1..200): exit status 16 + n. */
static __attribute__((noreturn, unused)) void fail(int n, const char *why, uint64_t val)
{
	puts_("FAIL ");
	putdec((uint64_t)n);
	puts_(": ");
	puts_(why);
	puts_(" (0x");
	puthex(val, 16);
	puts_(")\n");
	guest_exit((uint8_t)(16 + n));
}

/* The compiler may emit calls to these for loops or struct copies. Volatile
 * stores stop it from turning the loops back into such calls. */
void *memset(void *d, int c, unsigned long n)
{
	volatile uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	volatile uint8_t *p = d;
	const uint8_t *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

/* virtio-mmio registers (VIRTIO 1.2 section 4.2.2). */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DRIVER_HI 0x094
#define R_DEVICE_LO 0x0a0
#define R_DEVICE_HI 0x0a4
#define R_CONFIG_GEN 0x0fc
#define R_CONFIG 0x100

#define S_ACK 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u
#define S_NEEDS_RESET 0x40u

#define D_NEXT 1u
#define D_WRITE 2u

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static inline uint32_t mmio_rd(uint64_t base, uint32_t off)
{
	return *(volatile uint32_t *)(base + off);
}

static inline void mmio_wr(uint64_t base, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(base + off) = v;
}

/* Programs queue q of the device at base (size num, rings at the given
 * guest-physical addresses) and sets QueueReady. Returns whether QueueReady
 * reads back 1; the caller reports a failure with its own number. */
static __attribute__((unused)) int vq_program(uint64_t base, uint32_t q, uint32_t num,
					      uint64_t desc, uint64_t avail, uint64_t used)
{
	mmio_wr(base, R_QUEUE_SEL, q);
	mmio_wr(base, R_QUEUE_NUM, num);
	mmio_wr(base, R_DESC_LO, (uint32_t)desc);
	mmio_wr(base, R_DESC_HI, (uint32_t)(desc >> 32));
	mmio_wr(base, R_DRIVER_LO, (uint32_t)avail);
	mmio_wr(base, R_DRIVER_HI, (uint32_t)(avail >> 32));
	mmio_wr(base, R_DEVICE_LO, (uint32_t)used);
	mmio_wr(base, R_DEVICE_HI, (uint32_t)(used >> 32));
	mmio_wr(base, R_QUEUE_READY, 1);
	return mmio_rd(base, R_QUEUE_READY) == 1;
}

/* Entry at the load address (virtio_guest.ld puts .text.entry first): rsp
 * starts at the load address; align it and call guest_main, whose first
 * four arguments are rdi, rsi, rdx and rcx as kite's --reg set them. */
__asm__(".section .text.entry, \"ax\"\n"
	".globl _start\n"
	"_start:\n"
	"	and $-16, %rsp\n"
	"	call guest_main\n"
	"1:	pause\n"
	"	jmp 1b\n"
	".previous\n");

#endif
