/* Lookups in flight, shared by threads. Thread pools (libuv, Java, curl's
 * threaded resolver) ask for the same fresh name from many threads at
 * once: one of them polls the authority, the others wait for its result,
 * so 32 waiting threads cost the servers what one costs. What a flight
 * finds is kept in memo.c once it lands; here are only those in the air. */
#include "nxretry.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ABANDON_MS 1000 /* past its deadline, a flight's leader is gone */
/* futex(2) operations, the kernel's numbers (musl's headers lack linux/) */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

struct flight {
	struct flight *next;
	char key[NX_KEYMAX];
	bool done;
	int landed;          /* done, for the futex its waiters sleep on */
	int refs;            /* the leader and its waiters: the last one out frees it */
	int64_t deadline_ms; /* the leader's */
	struct nx_found found;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct flight *flights; /* in flight: a landed one is unlinked */

/* The flight this thread leads or waits on, for nx_flight_abandon. */
static __thread struct flight *held;
static __thread bool leads;

void nx_flight_reset(void)
{
	/* In a fork child: the parent's threads are gone, and so are their
	 * flights. The list is whole (the fork took the lock), but what it
	 * holds is dropped, not freed: the forking thread itself may be
	 * inside a flight it leads, and will write to it. */
	pthread_mutex_init(&lock, NULL);
	flights = NULL;
}

void nx_flight_lock(void) { pthread_mutex_lock(&lock); }
void nx_flight_unlock(void) { pthread_mutex_unlock(&lock); }

static void unlink_flight(struct flight *f)
{
	for (struct flight **p = &flights; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			return;
		}
}

static void release(struct flight *f)
{
	if (--f->refs == 0) {
		nx_records_drop(f->found.records);
		free(f);
	}
}

/* With lock held: f's outcome is final; its waiters wake. */
static void land(struct flight *f)
{
	f->done = true;
	unlink_flight(f); /* a no-op when a later caller took it for abandoned */
	__atomic_store_n(&f->landed, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &f->landed, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Until f lands or until_ms passes. A futex, not a condition variable: a
 * siglongjmp out of pthread_cond_timedwait leaves the variable counting a
 * waiter for good (glibc's next broadcast then waits for it), and signals
 * reach the caller only here (call.c); f stays allocated while held. */
static void wait_landed(struct flight *f, int64_t until_ms)
{
	for (;;) {
		int64_t left = until_ms - nx_now_ms();
		if (__atomic_load_n(&f->landed, __ATOMIC_ACQUIRE) || left <= 0)
			return;
		struct timespec ts = {left / 1000, (left % 1000) * 1000000};
		nx_call_park(__builtin_frame_address(0));
		syscall(SYS_futex, &f->landed, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		nx_call_unpark();
	}
}

/* A thread left its lookup by a non-local exit: its reference goes, and
 * a flight it led lands now as libc's, rather than at its deadline. */
void nx_flight_abandon(void)
{
	struct flight *f = held;
	if (!f)
		return;
	pthread_mutex_lock(&lock);
	if (leads && !f->done) {
		memset(&f->found, 0, sizeof f->found);
		f->found.outcome = NX_OUT_LIBC;
		f->found.why = NX_WHY_FAILED;
		land(f);
	}
	release(f);
	held = NULL;
	pthread_mutex_unlock(&lock);
}

void nx_flight_run(const char *key, int64_t deadline_ms, nx_flight_fn fn, void *ctx,
		   struct nx_found *out)
{
	pthread_mutex_lock(&lock);
	int64_t now = nx_now_ms();
	struct flight *f = flights;
	while (f && strcmp(f->key, key))
		f = f->next;
	if (f && now > f->deadline_ms + ABANDON_MS) {
		/* Its leader never came back (a longjmp out of a signal
		 * handler, say): unlink it, and this caller leads anew. */
		unlink_flight(f);
		f = NULL;
	}
	if (f) {
		f->refs++;
		/* Never past this caller's own deadline, whatever the leader does. */
		int64_t until = deadline_ms < f->deadline_ms + ABANDON_MS ? deadline_ms
									: f->deadline_ms + ABANDON_MS;
		held = f;
		leads = false;
		pthread_mutex_unlock(&lock);
		wait_landed(f, until);
		pthread_mutex_lock(&lock);
		if (f->done) {
			*out = f->found;
			nx_records_hold(out->records);
		} else {
			memset(out, 0, sizeof *out);
			out->outcome = NX_OUT_LIBC;
			out->why = NX_WHY_FAILED;
		}
		release(f);
		held = NULL;
		pthread_mutex_unlock(&lock);
		return;
	}
	/* None in flight: one may have landed since the caller looked in the
	 * memo (a flight's outcome is kept there before it is unlinked). */
	if (nx_memo_recall(key, out)) {
		pthread_mutex_unlock(&lock);
		return;
	}
	f = calloc(1, sizeof *f);
	if (!f) {
		pthread_mutex_unlock(&lock);
		fn(ctx, out); /* no memory to share: still answer */
		return;
	}
	snprintf(f->key, sizeof f->key, "%s", key);
	f->refs = 1;
	f->deadline_ms = deadline_ms;
	f->next = flights;
	flights = f;
	held = f;
	leads = true;
	pthread_mutex_unlock(&lock);

	uint32_t keep_s = fn(ctx, out);
	nx_memo_keep(key, out, keep_s); /* before the flight goes: see above */

	pthread_mutex_lock(&lock);
	f->found = *out;
	nx_records_hold(f->found.records);
	land(f);
	release(f);
	held = NULL;
	pthread_mutex_unlock(&lock);
}
