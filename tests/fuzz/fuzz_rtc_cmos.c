/* libFuzzer target for the CMOS RTC: random index/data accesses against a
 * clock the input also moves, to shake out the calendar and BCD paths. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "devices/rtc_cmos.h"

static struct timespec fake_now;

static void f_now(void *ctx, struct timespec *ts)
{
	(void)ctx;
	*ts = fake_now;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_cmos_config cfg = {.now = f_now};
	struct rtc_cmos r;
	size_t i = 0;

	fake_now.tv_sec = 1700000000;
	fake_now.tv_nsec = 0;
	if (rtc_cmos_init(&r, &cfg))
		return 0;
	while (i < size) {
		uint8_t op = data[i++], v = 0;

		if (i < size)
			v = data[i++];
		switch (op & 3) {
		case 0:
			rtc_cmos_ops.write(&r, op >> 7, &v, 1);
			break;
		case 1:
			rtc_cmos_ops.read(&r, op >> 7, &v, 1);
			break;
		case 2: /* move the host clock, by up to ~4 years either way */
			fake_now.tv_sec += (int64_t)(int8_t)v * ((op >> 2) + 1) * 1000003LL / 64;
			fake_now.tv_nsec = (long)(op >> 2) * 15873015L;
			break;
		case 3:
			rtc_cmos_ops.write(&r, 0, &v, 1);
			rtc_cmos_ops.read(&r, 1, &v, 1);
			break;
		}
	}
	rtc_cmos_free(&r);
	return 0;
}
