/* Time, randomness and the backoff schedule between probe rounds. */
#include "nxretry.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef GRND_NONBLOCK
#define GRND_NONBLOCK 0x0001 /* linux/random.h; sys/random.h is glibc 2.25's */
#endif

int64_t nx_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool from_getrandom(void *buf, size_t len)
{
#ifdef SYS_getrandom
	/* The system call, not glibc's wrapper: that needs glibc 2.25. Up to
	 * 256 bytes come whole or not at all (getrandom(2)). */
	for (;;) {
		long n = syscall(SYS_getrandom, buf, len, GRND_NONBLOCK);
		if (n == (long)len)
			return true;
		if (n >= 0 || errno != EINTR)
			return false; /* EAGAIN: pool not seeded yet; ENOSYS: before 3.17 */
	}
#else
	(void)buf;
	(void)len;
	return false;
#endif
}

static bool from_urandom(void *buf, size_t len)
{
	/* Never blocks, seeded or not; opened each time: a descriptor kept
	 * open would be closed by daemons that close them all, its number
	 * then reused. (No fstat to check it is a device: fstat is
	 * GLIBC_2.33, and the engine loads on 2.17.) */
	int fd;
	do
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return false;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0 || errno != EINTR)
			break;
	}
	close(fd);
	return got == len;
}

/* Last resort: the clocks, an address and a counter, mixed (splitmix64).
 * Unpredictable enough for jitter; ids are also checked against the
 * question. */
static void from_clock(void *buf, size_t len)
{
	static uint64_t counter;
	struct timespec mono, real;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	uint64_t x = (uint64_t)mono.tv_nsec ^ (uint64_t)real.tv_nsec << 20 ^
		     (uint64_t)real.tv_sec << 40 ^ (uint64_t)(uintptr_t)&mono;
	x += __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 0x9e3779b97f4a7c15u;
	for (size_t i = 0; i < len; i += 8) {
		x += 0x9e3779b97f4a7c15u;
		uint64_t z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
		z ^= z >> 31;
		memcpy((char *)buf + i, &z, len - i < 8 ? len - i : 8);
	}
}

enum nx_entropy nx_random_fill(void *buf, size_t len)
{
	if (from_getrandom(buf, len))
		return NX_ENTROPY_GETRANDOM;
	if (from_urandom(buf, len))
		return NX_ENTROPY_URANDOM;
	from_clock(buf, len);
	return NX_ENTROPY_CLOCK;
}

static uint32_t random32(void)
{
	uint32_t v;
	nx_random_fill(&v, sizeof v);
	return v;
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
