/* wait.c: the backoff schedule, randomness and the clock. */
#include "util.h"

#include "nxretry.h"

#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const struct nx_backoff defaults = {.initial = 0.1, .max = 1.0, .factor = 2.0,
					    .jitter = 0.2};

struct delay_case {
	const char *name;
	struct nx_backoff b; /* initial 0: the defaults */
	double r;
	unsigned n[8];
	double expected[8];
	int count;
	bool exact;
};

/* Exact for r = 0: the doubles 0.1 * 2^n are the doubles 0.2, 0.4, 0.8. */
static const struct delay_case delay_cases[] = {
	{"delay: defaults, r = 0", {.initial = 0}, 0.0, {0, 1, 2, 3, 4, 5, 6, 10},
	 {0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0}, 8, true},
	{"delay: defaults, r -> 1 gives 80%", {.initial = 0}, 0.99999999, {0, 1, 2, 3, 4, 5, 6, 10},
	 {0.08, 0.16, 0.32, 0.64, 0.8, 0.8, 0.8, 0.8}, 8, false},
	{"delay: defaults, r = 0.5 gives 90%", {.initial = 0}, 0.5, {0, 1, 2, 3, 4, 5},
	 {0.09, 0.18, 0.36, 0.72, 0.9, 0.9}, 6, false},
	{"delay: huge attempt numbers stay at the cap", {.initial = 0}, 0.0,
	 {63, 64, 65, 1000, 100000, UINT_MAX - 1, UINT_MAX}, {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0},
	 7, true},
	{"delay: factor 10, max 600", {.initial = 60, .max = 600, .factor = 10, .jitter = 0}, 0.7,
	 {0, 1, 2, 64, UINT_MAX}, {60, 600, 600, 600, 600}, 5, true},
	{"delay: factor 1 is constant", {.initial = 0.25, .max = 1, .factor = 1, .jitter = 0}, 0.3,
	 {0, 1, 50, UINT_MAX}, {0.25, 0.25, 0.25, 0.25}, 4, true},
	{"delay: factor 1.5", {.initial = 0.2, .max = 2, .factor = 1.5, .jitter = 0}, 0.0,
	 {0, 1, 2, 3, 6}, {0.2, 0.3, 0.45, 0.675, 2.0}, 5, false},
	{"delay: jitter 1, r = 0.5 halves", {.initial = 1, .max = 8, .factor = 2, .jitter = 1}, 0.5,
	 {0, 1, 2, 3, 9}, {0.5, 1, 2, 4, 4}, 5, true},
	{"delay: initial equal to max", {.initial = 0.5, .max = 0.5, .factor = 2, .jitter = 0.2},
	 0.0, {0, 1, 2}, {0.5, 0.5, 0.5}, 3, true},
};

static void test_delay(void **state)
{
	const struct delay_case *t = *state;
	const struct nx_backoff *b = t->b.initial > 0 ? &t->b : &defaults;
	for (int i = 0; i < t->count; i++) {
		double d = nx_backoff_delay(b, t->n[i], t->r);
		/* Exact where the arithmetic is (powers of two, r = 0); r -> 1 is a
		 * limit: allow what 1e-8 of jitter moves. */
		double tol = t->exact ? 0 : 1e-9 + t->expected[i] * 1e-7;
		if (!isfinite(d) || fabs(d - t->expected[i]) > tol)
			fail_msg("n=%u r=%g: delay %.17g, expected %.17g", t->n[i], t->r, d,
				 t->expected[i]);
	}
}

/* The jitter only shortens: never above the unjittered delay, never below
 * (1 - jitter) of it. */
static void test_delay_bounds(void **state)
{
	(void)state;
	for (unsigned n = 0; n < 12; n++) {
		double top = nx_backoff_delay(&defaults, n, 0.0);
		for (int k = 0; k < 1000; k++) {
			double r = nx_random_unit();
			double d = nx_backoff_delay(&defaults, n, r);
			if (d > top || d < top * 0.8 || d <= 0)
				fail_msg("n=%u r=%.17g: %.17g outside [%g, %g]", n, r, d,
					 top * 0.8, top);
		}
	}
}

static void test_random_unit_range(void **state)
{
	(void)state;
	double min = 1, max = 0, sum = 0;
	int below_half = 0;
	const int draws = 100000;
	for (int i = 0; i < draws; i++) {
		double u = nx_random_unit();
		if (!(u >= 0.0 && u < 1.0))
			fail_msg("nx_random_unit() = %.17g, outside [0, 1)", u);
		min = u < min ? u : min;
		max = u > max ? u : max;
		sum += u;
		below_half += u < 0.5;
	}
	/* 100000 uniform draws: the mean is 0.5 +- 0.003 (3 sigma = 0.0027). */
	assert_true(fabs(sum / draws - 0.5) < 0.01);
	assert_true(below_half > 48000 && below_half < 52000);
	assert_true(min < 0.001 && max > 0.999);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void test_random_id_varies(void **state)
{
	(void)state;
	uint16_t ids[1000];
	for (int i = 0; i < 1000; i++)
		ids[i] = nx_random_id();
	qsort(ids, 1000, sizeof ids[0], cmp_u16);
	int distinct = 1;
	for (int i = 1; i < 1000; i++)
		distinct += ids[i] != ids[i - 1];
	/* 1000 draws from 65536: about 992 distinct expected. */
	if (distinct <= 900)
		fail_msg("only %d distinct ids in 1000 draws", distinct);
	/* Both bytes vary (a constant high byte would pass the count). */
	assert_true(ids[999] - ids[0] > 60000);
}

/* Where random bytes come from when the kernel refuses some sources: a
 * child process under a seccomp filter that fails getrandom (EAGAIN: a
 * fresh microVM whose pool is not seeded; ENOSYS: a kernel before 3.17;
 * EPERM: an old container profile) and, in the last rows, the opening of
 * /dev/urandom too. */
struct entropy_case {
	const char *name;
	int getrandom_errno; /* 0: allowed */
	int open_errno;      /* 0: allowed */
	enum nx_entropy expected;
};

static const struct entropy_case entropy_cases[] = {
	{"entropy: getrandom first", 0, 0, NX_ENTROPY_GETRANDOM},
	{"entropy: getrandom EAGAIN (unseeded): /dev/urandom, not the clock", EAGAIN, 0,
	 NX_ENTROPY_URANDOM},
	{"entropy: getrandom ENOSYS (old kernel): /dev/urandom", ENOSYS, 0, NX_ENTROPY_URANDOM},
	{"entropy: getrandom EPERM (seccomp profile): /dev/urandom", EPERM, 0,
	 NX_ENTROPY_URANDOM},
	{"entropy: getrandom EAGAIN and no /dev/urandom: the clock", EAGAIN, EACCES,
	 NX_ENTROPY_CLOCK},
	{"entropy: getrandom ENOSYS and /dev/urandom missing: the clock", ENOSYS, ENOENT,
	 NX_ENTROPY_CLOCK},
};

/* Installs the filter; false when seccomp is not available here. */
static bool deny_syscalls(int getrandom_errno, int open_errno)
{
	unsigned gr = getrandom_errno ? SECCOMP_RET_ERRNO | (unsigned)getrandom_errno
				      : SECCOMP_RET_ALLOW;
	unsigned op = open_errno ? SECCOMP_RET_ERRNO | (unsigned)open_errno : SECCOMP_RET_ALLOW;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getrandom, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, gr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, op),
#ifdef SYS_open
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, op),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {(unsigned short)ARRAY_SIZE(f), f};
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	       prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

static void test_entropy(void **state)
{
	const struct entropy_case *t = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Exit code: 100 + source; 99 varying check failed; 98 no seccomp. */
		alarm(10);
		if (!deny_syscalls(t->getrandom_errno, t->open_errno))
			_exit(98);
		unsigned char a[16], b[16], zero[16] = {0};
		enum nx_entropy s1 = nx_random_fill(a, sizeof a);
		enum nx_entropy s2 = nx_random_fill(b, sizeof b);
		if (s1 != s2 || !memcmp(a, b, sizeof a) || !memcmp(a, zero, sizeof a))
			_exit(99);
		_exit(100 + (int)s1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 98)
		skip();
	if (WEXITSTATUS(status) == 99)
		fail_msg("two draws were equal, or all zero");
	assert_int_equal(WEXITSTATUS(status), 100 + (int)t->expected);
}

static void test_now_ms(void **state)
{
	(void)state;
	int64_t a = nx_now_ms();
	struct timespec ts = {0, 50 * 1000 * 1000};
	nanosleep(&ts, NULL);
	int64_t b = nx_now_ms();
	assert_true(a > 0);
	assert_true(b - a >= 50);
	assert_true(b - a < 5000);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(delay_cases) + ARRAY_SIZE(entropy_cases) + 4];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_delay, delay_cases);
	UTIL_ADD_TEST(tests, n, test_delay_bounds);
	UTIL_ADD_TEST(tests, n, test_random_unit_range);
	UTIL_ADD_TEST(tests, n, test_random_id_varies);
	UTIL_ADD_ROWS(tests, n, test_entropy, entropy_cases);
	UTIL_ADD_TEST(tests, n, test_now_ms);
	return UTIL_RUN("backoff", tests, n);
}
