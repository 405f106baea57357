/* Questions being waited for, one wait each, whoever asks and however often
 * they ask again: the table holds at most its capacity (--max-waits), and
 * a lookup is a walk of at most that many entries. */
#include "stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nx_pending_key(const struct nx_question *q, char key[NX_KEYMAX])
{
	if (q->qtype == NX_T_A || q->qtype == NX_T_AAAA)
		snprintf(key, NX_KEYMAX, "%s/addr", q->name);
	else
		snprintf(key, NX_KEYMAX, "%s/%u", q->name, q->qtype);
}

struct nx_pending *nx_pending_find(struct nx_pending_table *t, const char *key)
{
	for (struct nx_pending *p = t->head; p; p = p->next)
		if (!strcmp(p->key, key))
			return p;
	return NULL;
}

struct nx_pending *nx_pending_add(struct nx_pending_table *t, const char *key)
{
	if (t->count >= t->capacity)
		return NULL;
	struct nx_pending *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	snprintf(p->key, sizeof p->key, "%s", key);
	p->started_ms = nx_now_ms();
	p->next = t->head;
	t->head = p;
	t->count++;
	return p;
}

void nx_pending_remove(struct nx_pending_table *t, struct nx_pending *p)
{
	for (struct nx_pending **pp = &t->head; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			t->count--;
			free(p);
			return;
		}
}
