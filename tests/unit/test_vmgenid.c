/* Unit tests for the VM generation ID device: the first ID in guest memory,
 * placement checks, a restore that always writes a new ID and notifies at
 * resume (one edge on the line, once), the refusals of hostile sections,
 * and vmgenid_regenerate running and paused. */
#include "device_state_fixture.h"
#include "devices/acpi_pm.h"
#include "devices/vmgenid.h"
#include "guest_mem.h"

#define RAM 0x4000u
#define GPA 0x1008u

/* The test irq line: every level set, in order. */
static int levels[64], nr_levels;

static void fx_irq(void *ctx, unsigned int gsi, int level)
{
	(void)ctx;
	assert_int_equal(gsi, 13);
	assert_true(nr_levels < (int)ARRAY_SIZE(levels));
	levels[nr_levels++] = level;
}

struct fx {
	struct guest_mem gm;
	struct vmgenid *g;
};

static void fx_make(struct fx *f)
{
	struct vmgenid_config c = {.gpa = GPA, .irq = {.set = fx_irq, .gsi = 13}};

	assert_int_equal(gm_init(&f->gm, RAM), 0);
	c.gm = &f->gm;
	assert_int_equal(vmgenid_new(&c, "vmgenid0", &f->g), 0);
}

static void fx_free(struct fx *f)
{
	f->g->dev.ops->destroy(&f->g->dev);
	gm_free(&f->gm);
}

/* The ID the guest would read. */
static void guest_id(struct fx *f, uint8_t *id)
{
	assert_int_equal(gm_read(&f->gm, GPA, id, VMGENID_SIZE), 0);
}

static void assert_one_edge(void)
{
	assert_int_equal(nr_levels, 2);
	assert_int_equal(levels[0], 1);
	assert_int_equal(levels[1], 0);
}

static void test_create(void **state)
{
	static const uint8_t zero[VMGENID_SIZE];
	uint8_t id[VMGENID_SIZE];
	struct fx a, b;

	(void)state;
	nr_levels = 0;
	fx_make(&a);
	fx_make(&b);
	guest_id(&a, id);
	assert_memory_equal(id, a.g->id, VMGENID_SIZE);
	assert_memory_not_equal(id, zero, VMGENID_SIZE);
	assert_memory_not_equal(a.g->id, b.g->id, VMGENID_SIZE);
	assert_string_equal(a.g->dev.name, "vmgenid0");
	assert_string_equal(a.g->dev.ops->kind, "vmgenid");
	assert_int_equal(dev_stat(&a.g->dev, "generations"), 1);
	assert_int_equal(dev_stat(&a.g->dev, "notifications"), 0);
	/* The guest reads the first ID at probe: no interrupt at boot. */
	dev_pause(&a.g->dev);
	dev_resume(&a.g->dev);
	assert_int_equal(nr_levels, 0);
	fx_free(&a);
	fx_free(&b);
}

static void test_bad_placement(void **state)
{
	static const uint64_t bad[] = {GPA + 4, 0x1ff8, RAM - 8, RAM, ~0ull - 7};
	struct vmgenid_config c = {.gpa = GPA};
	struct guest_mem gm;
	struct vmgenid *g = NULL;

	(void)state;
	assert_int_equal(vmgenid_new(&c, "vmgenid0", &g), -EINVAL); /* no memory */
	assert_int_equal(gm_init(&gm, RAM), 0);
	c.gm = &gm;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		c.gpa = bad[i];
		assert_int_equal(vmgenid_new(&c, "vmgenid0", &g), -EINVAL);
	}
	assert_null(g);
	/* The last 16 bytes of a page are still within it. */
	c.gpa = 0x1ff0;
	assert_int_equal(vmgenid_new(&c, "vmgenid0", &g), 0);
	g->dev.ops->destroy(&g->dev);
	gm_free(&gm);
}

/* a's section restored into b: b gets an ID that is neither a's nor its
 * own, tells the guest at resume, once. */
static void test_restore_new_generation(void **state)
{
	uint8_t before[VMGENID_SIZE], id[VMGENID_SIZE];
	struct state_buf sec, after;
	struct fx a, b;

	(void)state;
	fx_make(&a);
	fx_make(&b);
	memcpy(before, b.g->id, VMGENID_SIZE);
	dev_pause(&a.g->dev);
	dev_save(&a.g->dev, &sec);
	assert_int_equal(sec.len - payload_off(&sec), 8 + VMGENID_SIZE);
	assert_memory_equal(sec.data + payload_off(&sec) + 8, a.g->id, VMGENID_SIZE);
	nr_levels = 0;
	dev_pause(&b.g->dev);
	dev_restore_ok(&b.g->dev, &sec);
	guest_id(&b, id);
	assert_memory_equal(id, b.g->id, VMGENID_SIZE);
	assert_memory_not_equal(id, a.g->id, VMGENID_SIZE);
	assert_memory_not_equal(id, before, VMGENID_SIZE);
	assert_true(b.g->pending);
	assert_int_equal(nr_levels, 0); /* paused: not yet */
	assert_int_equal(dev_stat(&b.g->dev, "generations"), 2);

	/* The snapshot's memory image loaded after the device section puts
	 * the old ID back; resume must write the new one again. */
	assert_int_equal(gm_write(&b.gm, GPA, a.g->id, VMGENID_SIZE), 0);
	dev_resume(&b.g->dev);
	assert_one_edge();
	guest_id(&b, id);
	assert_memory_equal(id, b.g->id, VMGENID_SIZE);
	assert_false(b.g->pending);
	assert_int_equal(dev_stat(&b.g->dev, "notifications"), 1);
	/* A later pause/resume tells nothing new. */
	dev_pause(&b.g->dev);
	dev_resume(&b.g->dev);
	assert_one_edge();

	/* Restoring the same section twice: two different generations. */
	dev_pause(&b.g->dev);
	memcpy(before, b.g->id, VMGENID_SIZE);
	dev_restore_ok(&b.g->dev, &sec);
	assert_memory_not_equal(b.g->id, before, VMGENID_SIZE);
	dev_save(&b.g->dev, &after);
	assert_memory_equal(after.data, sec.data, payload_off(&sec) + 8); /* same address */
	assert_memory_equal(after.data + payload_off(&sec) + 8, b.g->id, VMGENID_SIZE);
	dev_resume(&b.g->dev);
	assert_int_equal(nr_levels, 4);
	state_buf_free(&sec);
	state_buf_free(&after);
	fx_free(&a);
	fx_free(&b);
}

/* Hostile sections: refused with a message, nothing changed (the device's
 * section, the guest's ID, no notification at resume). */
static void test_restore_refused(void **state)
{
	uint8_t id[VMGENID_SIZE], c[64];
	struct state_buf sec;
	struct fx a;
	size_t po;

	(void)state;
	fx_make(&a);
	dev_pause(&a.g->dev);
	dev_save(&a.g->dev, &sec);
	po = payload_off(&sec);
	assert_true(sec.len <= sizeof(c));
	nr_levels = 0;
	expect_framing_refused(&a.g->dev, &sec);
	/* Any other address: not this machine's page. */
	expect_field_refused(&a.g->dev, &sec, 0, (uint8_t)(GPA + 8), "this machine keeps it");
	expect_field_refused(&a.g->dev, &sec, 7, 0x80, "this machine keeps it");
	/* An all-zero ID. */
	memcpy(c, sec.data, sec.len);
	memset(c + po + 8, 0, VMGENID_SIZE);
	expect_refused(&a.g->dev, c, sec.len, "all-zero");
	guest_id(&a, id);
	assert_memory_equal(id, a.g->id, VMGENID_SIZE);
	assert_false(a.g->pending);
	assert_int_equal(dev_stat(&a.g->dev, "generations"), 1);
	dev_resume(&a.g->dev);
	assert_int_equal(nr_levels, 0);
	state_buf_free(&sec);
	fx_free(&a);
}

static void test_regenerate(void **state)
{
	uint8_t before[VMGENID_SIZE], id[VMGENID_SIZE];
	struct acpi_pm *pm;
	struct fx a;

	(void)state;
	fx_make(&a);
	nr_levels = 0;
	/* Running: the guest is told at once. */
	memcpy(before, a.g->id, VMGENID_SIZE);
	assert_int_equal(vmgenid_regenerate(&a.g->dev), 0);
	assert_memory_not_equal(a.g->id, before, VMGENID_SIZE);
	guest_id(&a, id);
	assert_memory_equal(id, a.g->id, VMGENID_SIZE);
	assert_one_edge();
	/* Paused: at resume, once. */
	dev_pause(&a.g->dev);
	assert_int_equal(vmgenid_regenerate(&a.g->dev), 0);
	assert_int_equal(nr_levels, 2);
	dev_resume(&a.g->dev);
	assert_int_equal(nr_levels, 4);
	assert_int_equal(levels[2], 1);
	assert_int_equal(levels[3], 0);
	assert_int_equal(dev_stat(&a.g->dev, "generations"), 3);
	assert_int_equal(dev_stat(&a.g->dev, "notifications"), 2);
	/* Only a vmgenid device. */
	assert_int_equal(acpi_pm_new(NULL, "acpi-pm", &pm), 0);
	assert_int_equal(vmgenid_regenerate(&pm->dev), -EINVAL);
	assert_int_equal(vmgenid_regenerate(NULL), -EINVAL);
	pm->dev.ops->destroy(&pm->dev);
	fx_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create),
	    cmocka_unit_test(test_bad_placement),
	    cmocka_unit_test(test_restore_new_generation),
	    cmocka_unit_test(test_restore_refused),
	    cmocka_unit_test(test_regenerate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
