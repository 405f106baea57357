/* Time, randomness and the backoff schedule between probe rounds. */
#include "nxretry.h"

#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int64_t nx_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t random32(void)
{
	uint32_t v;
	/* The system call, not glibc's wrapper: that needs glibc 2.25. */
	if (syscall(SYS_getrandom, &v, sizeof v, GRND_NONBLOCK) == (long)sizeof v)
		return v;
	/* No entropy yet (early boot): still unpredictable enough for jitter,
	 * and ids are then also checked against the question. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_nsec ^ (uint32_t)(uintptr_t)&ts;
}

uint16_t nx_random_id(void) { return (uint16_t)random32(); }

double nx_random_unit(void) { return (random32() >> 8) / (double)(1u << 24); }

double nx_backoff_delay(const struct nx_backoff *b, unsigned n, double r)
{
	double d = b->initial;
	for (unsigned i = 0; i < n && d < b->max; i++)
		d *= b->factor; /* a loop, not pow(): no libm for one call */
	if (d > b->max)
		d = b->max;
	/* Jitter downwards only: the cap stays the worst-case latency. */
	return d * (1.0 - b->jitter * r);
}
