/* virtio-mmio transport, version 2 (modern only; VIRTIO 1.2 section 4.2):
 * the register window decoded into calls of the virtio core (core.h), which
 * owns the state. Stateless itself: the bus opaque is the device's struct
 * virtio_dev. One window per device.
 *
 * Threads. vCPU threads call the bus handlers (virtio_mmio_ops); they take
 * the core's lock around the decode. A QueueNotify write that reaches the
 * bus handler (no ioeventfd matched) is handed to virtio_dev_kick outside
 * the lock, never processed on the vCPU thread when eventfds are set up.
 *
 * Interrupts. Each interrupt is one edge: the core calls irq_line_set(line,
 * 1) immediately followed by irq_line_set(line, 0), with the InterruptStatus
 * bit already set. Wired to a KVM irqfd, level 1 is the eventfd write and
 * level 0 can be ignored. KVM_IOEVENTFD for queue q: addr = base +
 * VIRTIO_MMIO_QUEUE_NOTIFY, len 4, datamatch q, fd
 * virtio_dev_queue_eventfd(vd, q). */
#ifndef KITE_VIRTIO_MMIO_H
#define KITE_VIRTIO_MMIO_H

#include <stdint.h>

#include "bus.h"
#include "virtio/core.h"

#define VIRTIO_MMIO_SIZE 0x200u
#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x4554494bu /* "KITE" */

/* Register offsets. */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_QUEUE_RESET 0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_INT_VRING VIRTIO_INT_VRING
#define VIRTIO_MMIO_INT_CONFIG VIRTIO_INT_CONFIG

/* Register handlers for a VIRTIO_MMIO_SIZE window; opaque = struct virtio_dev *. */
extern const struct bus_ops virtio_mmio_ops;

#endif
