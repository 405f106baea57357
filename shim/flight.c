/* Lookups in flight, shared by threads, and outcomes remembered for a while.
 * Thread pools (libuv, Java, curl's threaded resolver) ask for the same
 * fresh name from many threads at once: one of them polls the authority,
 * the others wait for its result, so 32 waiting threads cost the servers
 * what one costs. */
#include "nxretry.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MEMO_MAX 256
#define ABANDON_MS 1000 /* past its deadline, a flight's leader is gone */

struct flight {
	struct flight *next;
	char key[NX_KEYMAX];
	bool done;
	bool orphan; /* unlinked while its leader was away; freed by the last one out */
	int refs;
	int64_t deadline_ms;   /* the leader's */
	int64_t keep_until_ms; /* after done: how long the outcome is served */
	struct nx_found found;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t landed; /* on CLOCK_MONOTONIC, set up by landed_ready() */
static bool landed_set;
static struct flight *flights;
static int nflights;

void nx_flight_reset(void)
{
	/* In a fork child: the parent's threads are gone, and so are their
	 * flights. The list is whole (the fork took the lock), but what it
	 * holds is dropped, not freed: the forking thread itself may be
	 * inside a flight it leads, and will write to it. */
	pthread_mutex_init(&lock, NULL);
	landed_set = false;
	flights = NULL;
	nflights = 0;
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

/* Drops finished flights whose time is up (and the oldest past MEMO_MAX). */
static void sweep(int64_t now)
{
	int kept = 0;
	for (struct flight **p = &flights; *p;) {
		struct flight *f = *p;
		bool expired = f->done && f->refs == 0 && (f->keep_until_ms <= now || kept >= MEMO_MAX);
		if (expired) {
			*p = f->next;
			free(f);
			nflights--;
			continue;
		}
		kept++;
		p = &f->next;
	}
}

static void release_orphan(struct flight *f)
{
	if (f->orphan && f->done && f->refs == 0)
		free(f);
}

void nx_flight_run(const char *key, int64_t deadline_ms, nx_flight_fn fn, void *ctx,
		   struct nx_found *out)
{
	pthread_mutex_lock(&lock);
	int64_t now = nx_now_ms();
	sweep(now);
	struct flight **p = &flights, *f;
	while ((f = *p) && strcmp(f->key, key))
		p = &f->next;
	if (f && !f->done && now > f->deadline_ms + ABANDON_MS) {
		/* Its leader never came back (a longjmp out of a signal
		 * handler, say): unlink it, and this caller leads anew. */
		*p = f->next;
		nflights--;
		f->orphan = true;
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
		if (f->done)
			*out = f->found;
		else
			out->outcome = NX_OUT_LIBC;
		f->refs--;
		release_orphan(f);
		pthread_mutex_unlock(&lock);
		return;
	}
	f = calloc(1, sizeof *f);
	if (!f) {
		pthread_mutex_unlock(&lock);
		fn(ctx, out); /* no memory to share: still answer */
		return;
	}
	strncpy(f->key, key, sizeof f->key - 1);
	f->refs = 1;
	f->deadline_ms = deadline_ms;
	f->next = flights; /* newest first: sweep keeps the newest */
	flights = f;
	nflights++;
	pthread_mutex_unlock(&lock);

	uint32_t keep_s = fn(ctx, out);

	pthread_mutex_lock(&lock);
	f->found = *out;
	f->done = true;
	f->refs--;
	f->keep_until_ms = nx_now_ms() + (int64_t)keep_s * 1000;
	landed_ready();
	pthread_cond_broadcast(&landed);
	release_orphan(f);
	pthread_mutex_unlock(&lock);
}

bool nx_flight_recall(const char *key, struct nx_found *out)
{
	bool found = false;
	pthread_mutex_lock(&lock);
	int64_t now = nx_now_ms();
	for (struct flight *f = flights; f && !found; f = f->next)
		if (f->done && f->keep_until_ms > now && !strcmp(f->key, key)) {
			*out = f->found;
			found = true;
		}
	pthread_mutex_unlock(&lock);
	return found;
}

void nx_flight_remember(const char *key, const struct nx_found *found, uint32_t keep_s)
{
	struct flight *f = calloc(1, sizeof *f);
	if (!f)
		return;
	strncpy(f->key, key, sizeof f->key - 1);
	f->found = *found;
	f->done = true;
	f->keep_until_ms = nx_now_ms() + (int64_t)keep_s * 1000;
	pthread_mutex_lock(&lock);
	f->next = flights;
	flights = f;
	nflights++;
	sweep(nx_now_ms());
	pthread_mutex_unlock(&lock);
}

void nx_flight_forget(const char *key)
{
	pthread_mutex_lock(&lock);
	for (struct flight *f = flights; f; f = f->next)
		if (f->done && !strcmp(f->key, key))
			f->keep_until_ms = 0; /* recall ignores it, sweep frees it */
	pthread_mutex_unlock(&lock);
}
