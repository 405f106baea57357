/* Lookups in flight, shared by threads. Thread pools (libuv, Java, curl's
 * threaded resolver) ask for the same fresh name from many threads at
 * once: one of them polls the authority, the others wait for its result,
 * so 32 waiting threads cost the servers what one costs. What a flight
 * finds is kept in memo.c once it lands; here are only those in the air. */
#include "nxretry.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ABANDON_MS 1000 /* past its deadline, a flight's leader is gone */

struct flight {
	struct flight *next;
	char key[NX_KEYMAX];
	bool done;
	int refs;            /* the leader and its waiters: the last one out frees it */
	int64_t deadline_ms; /* the leader's */
	struct nx_found found;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t landed; /* on CLOCK_MONOTONIC, set up by landed_ready() */
static bool landed_set;
static struct flight *flights; /* in flight: a landed one is unlinked */

void nx_flight_reset(void)
{
	/* In a fork child: the parent's threads are gone, and so are their
	 * flights. The list is whole (the fork took the lock), but what it
	 * holds is dropped, not freed: the forking thread itself may be
	 * inside a flight it leads, and will write to it. */
	pthread_mutex_init(&lock, NULL);
	landed_set = false;
	flights = NULL;
}

void nx_flight_lock(void) { pthread_mutex_lock(&lock); }
void nx_flight_unlock(void) { pthread_mutex_unlock(&lock); }

/* Waits are timed on the monotonic clock. Not pthread_cond_clockwait: it
 * needs glibc 2.34, and the engine runs on glibc 2.17. Called with lock
 * held. */
static void landed_ready(void)
{
	if (landed_set)
		return;
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&landed, &a);
	pthread_condattr_destroy(&a);
	landed_set = true;
}

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
	if (--f->refs == 0)
		free(f);
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
		struct timespec ts = {until / 1000, (until % 1000) * 1000000};
		landed_ready();
		while (!f->done && pthread_cond_timedwait(&landed, &lock, &ts) != ETIMEDOUT)
			;
		if (f->done) {
			*out = f->found;
		} else {
			memset(out, 0, sizeof *out);
			out->outcome = NX_OUT_LIBC;
			out->why = NX_WHY_FAILED;
		}
		release(f);
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
	pthread_mutex_unlock(&lock);

	uint32_t keep_s = fn(ctx, out);
	nx_memo_keep(key, out, keep_s); /* before the flight goes: see above */

	pthread_mutex_lock(&lock);
	f->found = *out;
	f->done = true;
	unlink_flight(f); /* a no-op when a later caller took it for abandoned */
	landed_ready();
	pthread_cond_broadcast(&landed);
	release(f);
	pthread_mutex_unlock(&lock);
}
