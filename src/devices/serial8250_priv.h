/* Internal to the UART: what serial8250.c (registers) and serial8250_state.c
 * (the struct device: section, pause, stats) share. Not an API. */
#ifndef KITE_DEVICES_SERIAL8250_PRIV_H
#define KITE_DEVICES_SERIAL8250_PRIV_H

#include "devices/serial8250.h"

#define SERIAL8250_FCR_KEPT (UART_FCR_TRIGGER_MASK | UART_FCR_DMA | UART_FCR_ENABLE)
#define SERIAL8250_MSR_STATUS (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCD)

/* Receive FIFO size for an FCR value (1 in 8250 mode). */
unsigned int serial8250_rx_capacity(uint8_t fcr);
/* MSR's status bits as MCR makes them (loopback wiring or an idle cable). */
uint8_t serial8250_msr_status(uint8_t mcr);
/* The level the irq line should have; lock held. */
int serial8250_level(const struct serial8250 *s);
/* Loads st (FIFO oldest first) into the registers, masking what the
 * registers cannot hold; touches neither the irq line nor rx_blocked.
 * Lock held. */
void serial8250_load(struct serial8250 *s, const struct serial8250_state *st);
/* serial8250_save with the lock already held. */
void serial8250_save_locked(const struct serial8250 *s, struct serial8250_state *st);
void serial8250_pause(struct serial8250 *s);
void serial8250_resume(struct serial8250 *s);

#endif
