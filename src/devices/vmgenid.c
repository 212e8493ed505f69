/* The VM generation ID device: a new random ID in guest memory for every
 * generation, and one edge interrupt to tell the guest. See vmgenid.h. */
#include "devices/vmgenid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"

#define PAGE_SIZE 4096u

static struct vmgenid *to_gen(const struct device *d)
{
	return container_of(d, struct vmgenid, dev);
}

static bool all_zero(const uint8_t *id)
{
	for (int i = 0; i < VMGENID_SIZE; i++)
		if (id[i])
			return false;
	return true;
}

/* A fresh ID that differs from `old` and is not all zero (each is a 2^-128
 * chance, but "every restore changes the ID" is the promise). */
static int new_id(const uint8_t *old, uint8_t *out)
{
	for (;;) {
		ssize_t n = getrandom(out, VMGENID_SIZE, 0);

		if (n < 0 && errno != EINTR)
			return -errno;
		/* Interrupted or short: draw again. */
		if (n == VMGENID_SIZE && !all_zero(out) && memcmp(out, old, VMGENID_SIZE))
			return 0;
	}
}

/* The guest-physical page is RAM (checked at creation), so this fails only
 * if the memory was replaced by something smaller since. */
static void write_id(struct vmgenid *g)
{
	if (gm_write(g->gm, g->gpa, g->id, VMGENID_SIZE) < 0)
		log_warn(g->dev.name, "cannot write the generation ID at 0x%llx",
			 (unsigned long long)g->gpa);
}

/* The edge GSI: the Generic Event Device's _EVT runs once per rising edge. */
static void notify(struct vmgenid *g)
{
	g->pending = false;
	irq_line_set(&g->irq, 1);
	irq_line_set(&g->irq, 0);
	g->notifications++;
	/* The guest's driver is silent: this line is what shows it was told. */
	log_info(g->dev.name, "generation %llu announced on GSI %u",
		 (unsigned long long)g->generations, g->irq.gsi);
}

static void set_generation(struct vmgenid *g, const uint8_t *id)
{
	memcpy(g->id, id, VMGENID_SIZE);
	g->generations++;
	g->pending = true;
	write_id(g);
}

int vmgenid_regenerate(struct device *d)
{
	uint8_t id[VMGENID_SIZE];
	struct vmgenid *g;
	int rc;

	if (!d || d->ops != &vmgenid_device_ops)
		return -EINVAL;
	g = to_gen(d);
	rc = new_id(g->id, id);
	if (rc)
		return rc;
	set_generation(g, id);
	/* A paused device touches no irq line: resume sends it. */
	if (!d->paused)
		notify(g);
	return 0;
}

static void gen_resume(struct device *d)
{
	struct vmgenid *g = to_gen(d);

	if (!g->pending)
		return;
	/* The memory image may have been loaded after our section: put the
	 * current ID back before the guest is told to read it. */
	write_id(g);
	notify(g);
}

static int gen_save(const struct device *d, struct state_buf *out)
{
	const struct vmgenid *g = to_gen(d);

	state_put_u64(out, g->gpa);
	state_put_bytes(out, g->id, VMGENID_SIZE);
	return out->err;
}

static int gen_restore(struct device *d, struct state_reader *in, uint32_t version)
{
	struct vmgenid *g = to_gen(d);
	uint8_t saved[VMGENID_SIZE], id[VMGENID_SIZE];
	uint64_t gpa;
	int rc;

	(void)version; /* only 1 exists */
	gpa = state_get_u64(in);
	state_get_bytes(in, saved, VMGENID_SIZE);
	if (state_end(in, NULL, 0))
		return -EINVAL;
	if (gpa != g->gpa) {
		state_fail(in, "generation ID at 0x%llx, but this machine keeps it at 0x%llx",
			   (unsigned long long)gpa, (unsigned long long)g->gpa);
		return -EINVAL;
	}
	if (all_zero(saved)) {
		state_fail(in, "an all-zero generation ID was never written by kite");
		return -EINVAL;
	}
	/* Different from both the snapshot's ID and ours. */
	rc = new_id(saved, id);
	if (!rc && !memcmp(id, g->id, VMGENID_SIZE))
		rc = new_id(g->id, id);
	if (rc) {
		state_fail(in, "cannot draw a new generation ID: %s", strerror(-rc));
		return -EINVAL;
	}
	set_generation(g, id);
	return 0;
}

static void gen_stats(struct device *d, struct device_stats *out)
{
	struct vmgenid *g = to_gen(d);

	device_stat(out, "generations", g->generations);
	device_stat(out, "notifications", g->notifications);
}

const struct device_ops vmgenid_device_ops = {
	.kind = "vmgenid",
	.state_version = 1,
	.destroy = device_free_destroy,
	/* Nothing runs in the background: the ID only changes on a call. */
	.pause = device_nop_pause,
	.resume = gen_resume,
	.save = gen_save,
	.restore = gen_restore,
	.stats = gen_stats,
};

static bool placed_well(const struct vmgenid_config *c)
{
	if (!c->gm || c->gpa % VMGENID_ALIGN)
		return false;
	/* Within one page, as the VMGenID paper asks of the firmware. */
	if (c->gpa % PAGE_SIZE > PAGE_SIZE - VMGENID_SIZE)
		return false;
	return gm_ptr(c->gm, c->gpa, VMGENID_SIZE) != NULL;
}

int vmgenid_new(const struct vmgenid_config *c, const char *name, struct vmgenid **out)
{
	static const uint8_t none[VMGENID_SIZE];
	struct vmgenid *g;
	int rc;

	if (!placed_well(c))
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->gm = c->gm;
	g->gpa = c->gpa;
	g->irq = c->irq;
	device_init(&g->dev, &vmgenid_device_ops, name);
	rc = new_id(none, g->id);
	if (rc) {
		free(g);
		return rc;
	}
	g->generations = 1;
	write_id(g);
	*out = g;
	return 0;
}
