/* Hostile guest: the legacy port space. Every port from 0 to 0xfff read
 * with 1-, 2- and 4-byte accesses and written with zeros and all-ones
 * (the rest of the space sampled every 0x40), except the few writes that
 * would legitimately end or reset the machine; then each emulated device
 * on purpose: the 8250 (every register, DLAB, loopback, scratch), the
 * i8042 (every command below 0xf0 but 0xd1, keyboard commands, an output
 * buffer left full), the CMOS RTC (every index, the fastest periodic
 * interrupt, the SET bit), the PIT at its fastest, the PIC's command
 * words, the ACPI PM block, the boot timer flooded, port 0x501 (kite's
 * debug-exit, off here). COM1 is put back before the verdict. The good
 * request: a virtio-blk read. See README.md. */
#include "vq_attack.h"

static inline uint8_t inb(uint16_t p)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}

static inline uint16_t inw(uint16_t p)
{
	uint16_t v;

	__asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}

static inline uint32_t inl(uint16_t p)
{
	uint32_t v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(p));
	return v;
}

static inline void outw(uint16_t p, uint16_t v)
{
	__asm__ __volatile__("outw %0, %1" : : "a"(v), "Nd"(p));
}

static inline void outl(uint16_t p, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(p));
}

/* Writes a machine may rightly act on: i8042 commands and data (tested on
 * their own below), the UART (output), port 0x92 (fast reset), 0xcf9
 * (PC reset control), ACPI PM (power-off, reset). */
static int dangerous(uint32_t p)
{
	return p == 0x60 || p == 0x64 || (p >= 0x3f8 && p <= 0x3ff) || p == 0x92 ||
	       (p >= 0xcf8 && p <= 0xcff) || (p >= 0x600 && p <= 0x603);
}

static uint64_t sum;

static void read_all(uint32_t from, uint32_t to, uint32_t step)
{
	for (uint32_t p = from; p < to; p += step) {
		sum = sum * 31 + inb((uint16_t)p);
		sum = sum * 31 + inw((uint16_t)p);
		sum = sum * 31 + inl((uint16_t)p);
	}
}

static void write_all(uint32_t from, uint32_t to, uint32_t step)
{
	for (uint32_t p = from; p < to; p += step) {
		if (dangerous(p) || dangerous(p + 3))
			continue;
		outb((uint16_t)p, 0);
		outb((uint16_t)p, 0xff);
		outw((uint16_t)p, 0xffff);
		outl((uint16_t)p, 0xffffffffu);
		outb((uint16_t)p, 0);
	}
}

/* The UART as the kit found it: 8N1, no loopback, no interrupts. */
static void uart_restore(void)
{
	outb(0x3fb, 0x80);
	outb(0x3f8, 1);
	outb(0x3f9, 0);
	outb(0x3fb, 0x03);
	outb(0x3f9, 0);
	outb(0x3fa, 0x07);
	outb(0x3fc, 0x03);
}

static void done(const char *name)
{
	answer(name, "sum of reads", sum);
	sum = 0;
	arena_check(name);
	blk_good(DEV, name);
	arena_snap(); /* the good read's own writes are the new baseline */
}

void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	attack_setup("ports", a, b, c, d);
	arena_clear();
	arena_snap();

	read_all(0, 0x1000, 1);
	done("read-0-fff");
	read_all(0x1000, 0x10000, 0x40);
	done("read-1000-ffff-sampled");
	write_all(0, 0x1000, 1);
	uart_restore();
	done("write-0-fff");
	write_all(0x1000, 0x10000, 0x40);
	done("write-1000-ffff-sampled");

	/* 8250: every register at every width, DLAB on and off, loopback
	 * with bytes sent into it, the scratch register. */
	for (uint32_t lcr = 0; lcr < 0x100; lcr += 0x40) {
		outb(0x3fb, (uint8_t)lcr);
		for (uint16_t p = 0x3f8; p < 0x400; p++) {
			sum = sum * 31 + inb(p) + inw(p) + inl(p);
			if (p != 0x3fb) {
				outb(p, 0xff);
				outw(p, 0xa5a5);
				outl(p, 0x5a5a5a5a);
			}
		}
	}
	outb(0x3fb, 0x03);
	outb(0x3fc, 0x10); /* loopback */
	for (int i = 0; i < 64; i++) {
		outb(0x3f8, (uint8_t)i);
		sum = sum * 31 + inb(0x3f8) + inb(0x3fd);
	}
	uart_restore();
	done("uart-8250");

	/* i8042: commands, keyboard commands, then drain. */
	for (uint32_t cmd = 0; cmd < 0xf0; cmd++) {
		if (cmd == 0xd1)
			continue;
		outb(0x64, (uint8_t)cmd);
		outb(0x60, (uint8_t)(cmd ^ 0x5a));
		sum = sum * 31 + inb(0x64) + inb(0x60);
	}
	for (uint32_t k = 0; k < 0x100; k++) {
		outb(0x60, (uint8_t)k);
		sum = sum * 31 + inb(0x64);
	}
	outb(0x64, 0xd2);
	outb(0x60, 0x42); /* output buffer full, never read */
	for (int i = 0; i < 1000 && (inb(0x64) & 1); i++)
		sum = sum * 31 + inb(0x60);
	outb(0x64, 0xd2);
	outb(0x60, 0x42);
	done("i8042");

	/* CMOS RTC: every index read and written (NMI bit too), the fastest
	 * periodic interrupt and the SET bit for a while, then sane values. */
	for (uint32_t i = 0; i < 0x100; i++) {
		outb(0x70, (uint8_t)i);
		sum = sum * 31 + inb(0x71);
		outb(0x70, (uint8_t)i);
		outb(0x71, (uint8_t)(i & 0x7f) == 0x0b ? 0xf0 : 0xff);
		outw(0x70, (uint16_t)(i | 0xff00));
	}
	outb(0x70, 0x0a);
	outb(0x71, 0x23); /* 8192 Hz */
	outb(0x70, 0x0b);
	outb(0x71, 0x70); /* PIE | AIE | UIE */
	spin_ms(200);
	outb(0x70, 0x0b);
	outb(0x71, 0xf0); /* SET */
	for (int i = 0; i < 1000; i++) {
		outb(0x70, 0x0c);
		sum = sum * 31 + inb(0x71);
	}
	outb(0x70, 0x0a);
	outb(0x71, 0x26);
	outb(0x70, 0x0b);
	outb(0x71, 0x02);
	done("cmos-rtc");

	/* PIT channel 0 at its fastest for 200 ms, read back, stopped; the
	 * PICs given command words and every mask. */
	outb(0x43, 0x34);
	outb(0x40, 1);
	outb(0x40, 0);
	outb(0x43, 0xb6);
	outb(0x42, 2);
	outb(0x42, 0);
	outb(0x61, 0x03); /* speaker gate */
	spin_ms(200);
	for (int i = 0; i < 200; i++) {
		outb(0x43, 0xc2); /* read-back */
		sum = sum * 31 + inb(0x40) + inb(0x42) + inb(0x61);
	}
	outb(0x43, 0x30);
	outb(0x61, 0);
	for (uint16_t pic = 0x20; pic <= 0xa0; pic += 0x80) {
		outb(pic, 0x11);
		outb((uint16_t)(pic + 1), 0x20);
		outb((uint16_t)(pic + 1), 0x04);
		outb((uint16_t)(pic + 1), 0x01);
		for (uint32_t m = 0; m < 0x100; m++)
			outb((uint16_t)(pic + 1), (uint8_t)m);
		outb(pic, 0x0b);
		sum = sum * 31 + inb(pic);
	}
	done("pit-pic");

	/* ACPI PM: reads at every width; writes that neither sleep nor
	 * reset. */
	for (uint16_t p = 0x600; p < 0x604; p++) {
		sum = sum * 31 + inb(p) + inw(p) + inl(p);
		outb(p, 0);
	}
	outb(0x600, 0x1c); /* a sleep type without SLP_EN */
	outb(0x602, 0);	   /* not the reset value */
	done("acpi-pm");

	/* The boot timer logs each write: 5,000 of them (rate limiting). */
	for (int i = 0; i < 5000; i++)
		outl(0x510, (uint32_t)i);
	done("boot-timer-flood");

	for (int i = 0; i < 256; i++)
		outb(0x501, (uint8_t)i);
	done("debug-exit-off");
	verdict_pass();
}
