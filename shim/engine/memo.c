/* Outcomes kept beyond the lookup that found them: an answer while its
 * TTL lasts (at most 300 s; recalled with its age, so TTLs count down), a
 * name still absent at its deadline and a zone whose servers never
 * answered for fail_fast. Lookups in flight are flight.c's; what a flight
 * finds comes here when it lands. */
#include "nxretry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_MAX 256 /* the newest kept; a program probing many names stays bounded */

struct memo {
	struct memo *next;
	char key[NX_KEYMAX];
	int64_t kept_ms, until_ms;
	struct nx_found found;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct memo *memos; /* newest first */

void nx_memo_lock(void) { pthread_mutex_lock(&lock); }
void nx_memo_unlock(void) { pthread_mutex_unlock(&lock); }

void nx_memo_reset(void)
{
	/* A fork child: the list is whole (the fork took the lock) and stays. */
	pthread_mutex_init(&lock, NULL);
}

/* Drops what expired, and what is past the newest MEMO_MAX. Lock held. */
static void sweep(int64_t now)
{
	int kept = 0;
	for (struct memo **p = &memos; *p;) {
		struct memo *m = *p;
		if (m->until_ms <= now || kept >= MEMO_MAX) {
			*p = m->next;
			nx_records_drop(m->found.records);
			free(m);
			continue;
		}
		kept++;
		p = &m->next;
	}
}

bool nx_memo_recall(const char *key, struct nx_found *out)
{
	bool found = false;
	pthread_mutex_lock(&lock);
	int64_t now = nx_now_ms();
	for (struct memo *m = memos; m && !found; m = m->next)
		if (m->until_ms > now && !strcmp(m->key, key)) {
			*out = m->found;
			out->age += (uint32_t)((now - m->kept_ms) / 1000);
			nx_records_hold(out->records);
			found = true;
		}
	pthread_mutex_unlock(&lock);
	return found;
}

void nx_memo_keep(const char *key, const struct nx_found *found, uint32_t keep_s)
{
	if (!keep_s)
		return;
	struct memo *m = malloc(sizeof *m);
	if (!m)
		return; /* not kept: the next lookup asks again */
	snprintf(m->key, sizeof m->key, "%s", key);
	m->found = *found;
	nx_records_hold(m->found.records);
	int64_t now = nx_now_ms();
	m->kept_ms = now;
	m->until_ms = now + (int64_t)keep_s * 1000;
	pthread_mutex_lock(&lock);
	m->next = memos;
	memos = m; /* before an older one of the same key: recall finds it first */
	sweep(now);
	pthread_mutex_unlock(&lock);
}

void nx_memo_forget(const char *key)
{
	pthread_mutex_lock(&lock);
	for (struct memo *m = memos; m; m = m->next)
		if (!strcmp(m->key, key))
			m->until_ms = 0; /* recall ignores it, the next sweep frees it */
	pthread_mutex_unlock(&lock);
}
