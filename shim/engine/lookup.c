/* One name asked of its zone's authority, as a sequence of steps that each
 * give an nx_found (the shape of musl's lookup_name.c): what the process
 * remembers, then the servers themselves (one wait per name at a time,
 * shared by threads), then the target of a CNAME they do not resolve. */
#include "nxretry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEEP_ANSWER_MAX_S 300
/* A zone given up (its servers silent, or no reply for a whole deadline)
 * is left to libc for fail_fast seconds (30 by default), at most this
 * long, then asked again: a long-lived process notices a blackhole that
 * ended, or a packet-loss blip, within a minute, and a zone blocked for
 * good costs it one give-up (two rounds) per period. */
#define ZONE_GIVEN_UP_MAX_S 60

static const char *memo_key(char key[NX_KEYMAX], const char *owner, const char *what)
{
	snprintf(key, NX_KEYMAX, "%s/%s", owner, what);
	return key;
}

/* What to ask for node: false when it is not a host name under a
 * configured zone, or the family is not one DNS serves. glibc sends no
 * query for a name that is not a host name ("a$b.example", "-a.example":
 * res_hnok's rule, measured on 2.36), so no authority may answer one
 * either. deadline_ms 0: the zone's timeout from now. */
static bool query_for(const struct nx_config *cfg, const struct nx_libc *libc, const char *node,
		      int family, int flags, int rrtype, bool first, int links, int64_t deadline_ms,
		      struct nx_query *q)
{
	memset(q, 0, sizeof *q);
	if (!nx_name_canonical(node, q->name) || nx_name_numeric(node) || !nx_name_host(q->name))
		return false;
	q->zone = nx_config_zone_for(cfg, q->name);
	if (!q->zone)
		return false;
	q->rrtype = rrtype;
	switch (rrtype ? -1 : family) {
	case -1:
		q->qtypes[q->nq++] = rrtype;
		break;
	case AF_INET:
		q->qtypes[q->nq++] = NX_T_A;
		break;
	case AF_INET6:
		q->qtypes[q->nq++] = NX_T_AAAA;
		if (flags & AI_V4MAPPED)
			q->qtypes[q->nq++] = NX_T_A;
		break;
	case AF_UNSPEC:
		q->qtypes[q->nq++] = NX_T_A;
		q->qtypes[q->nq++] = NX_T_AAAA;
		break;
	default:
		return false;
	}
	q->cfg = cfg;
	q->libc = libc;
	q->family = family;
	q->flags = flags;
	q->first = first;
	q->links = links;
	q->deadline_ms = deadline_ms;
	if (!deadline_ms) {
		double timeout = q->zone->timeout > 0 ? q->zone->timeout : cfg->timeout;
		/* +1: the clock is in whole milliseconds, and libc's answer must
		 * not come back before the timeout has fully passed. */
		q->deadline_ms = nx_now_ms() + (int64_t)(timeout * 1000) + 1;
	}
	return true;
}

/* Step 1: what the process remembers. A zone whose servers never answered
 * leaves its names to libc; a name absent at its deadline moments ago is
 * looked at once more, without waiting (fail_fast). */
static bool from_memo(struct nx_query *q, struct nx_found *out)
{
	char key[NX_KEYMAX];
	if (nx_memo_recall(memo_key(key, q->zone->suffix, "unreachable"), out)) {
		nx_log(NX_LOG_DEBUG, "%s: the servers of %s did not answer moments ago: libc's "
		       "answer stands", q->name, q->zone->suffix);
		return true;
	}
	if (nx_memo_recall(memo_key(key, q->name, "absent"), out)) {
		nx_log(NX_LOG_DEBUG, "%s: absent at the deadline moments ago: asking once, no wait",
		       q->name);
		q->once = true;
	}
	return false;
}

static uint32_t zone_given_up_s(const struct nx_config *cfg)
{
	return cfg->fail_fast < ZONE_GIVEN_UP_MAX_S ? (uint32_t)cfg->fail_fast : ZONE_GIVEN_UP_MAX_S;
}

/* A name still without an address at its deadline (absent, or there
 * without any): later lookups of it look once, without waiting, for
 * fail_fast, instead of each stalling a program that probes many such
 * names. The return: how long the flight's outcome serves others. */
static uint32_t not_there(const struct nx_query *q, const struct nx_found *out)
{
	char key[NX_KEYMAX];
	if (q->once) /* a program asking in a loop gets this look for a second */
		return 1;
	if (q->cfg->fail_fast > 0)
		nx_memo_keep(memo_key(key, q->name, "absent"), out, (uint32_t)q->cfg->fail_fast);
	return 0;
}

/* What the wait came to, in one log line, and what later lookups may
 * reuse: the return is how long this name's outcome serves them. */
static uint32_t report(const struct nx_query *q, const struct nx_wait *w, struct nx_found *out,
		       double waited)
{
	char key[NX_KEYMAX];
	switch (out->outcome) {
	case NX_OUT_FOUND: {
		char first[64] = "";
		if (q->rrtype)
			snprintf(first, sizeof first, "%d record%s of type %d",
				 out->records ? out->records->n : 0,
				 out->records && out->records->n == 1 ? "" : "s", q->rrtype);
		else
			nx_addr_format(&out->addrs[0], first, sizeof first);
		nx_log(NX_LOG_INFO, "%s: stale negative answer bypassed: %s answered %s%s after %u "
		       "attempt%s, %.2f s", q->name, w->server, first,
		       out->naddrs > 1 ? " (and more)" : "", w->attempts, w->attempts == 1 ? "" : "s",
		       waited);
		if (q->once) /* it exists now: later lookups need not fail at once */
			nx_memo_forget(memo_key(key, q->name, "absent"));
		return w->ttl < KEEP_ANSWER_MAX_S ? w->ttl : KEEP_ANSWER_MAX_S;
	}
	case NX_OUT_NODATA:
		if (w->bare) {
			nx_log(NX_LOG_INFO, "%s: the authoritative servers have the name without any "
			       "address after %.2f s (%u attempt%s)", q->name, waited, w->attempts,
			       w->attempts == 1 ? "" : "s");
			return not_there(q, out);
		}
		nx_log(NX_LOG_INFO, "%s: %s says the name exists without the asked address type "
		       "(%.2f s)", q->name, w->server, waited);
		return 0;
	case NX_OUT_ABSENT:
		nx_log(NX_LOG_INFO, "%s: still absent at the authoritative servers after %.2f s "
		       "(%u attempt%s, last %s)", q->name, waited, w->attempts,
		       w->attempts == 1 ? "" : "s", nx_status_name(w->last));
		return not_there(q, out);
	default:
		break;
	}
	/* What is remembered of the zone holds for the configured zone as a
	 * whole: not for a delegated child zone (its servers are looked for
	 * anew, round.c forgets them), nor from a CNAME target's lookup, which
	 * had only what its name's wait left of the deadline. */
	bool whole_zone = !q->links && (!strcmp(w->apex, q->zone->suffix) ||
					!nx_name_under(w->apex, q->zone->suffix));
	if (out->why == NX_WHY_SILENT) {
		/* Not a single reply, from any address, twice: the zone's
		 * servers cannot be reached from here. Waiting the whole
		 * deadline in every lookup would change nothing for a while. */
		uint32_t keep_s = whole_zone ? zone_given_up_s(q->cfg) : 0;
		char given_up[64] = "";
		if (keep_s)
			snprintf(given_up, sizeof given_up, "; its names are left to libc for %u s",
				 keep_s);
		nx_log(NX_LOG_WARN, "%s: none of the %d nameservers of zone %s answered in %d rounds "
		       "(%.2f s; every address timed out or was unreachable): port 53 may be blocked on "
		       "the way out, or the zone is private, served only inside another network (pin "
		       "reachable nameservers in the configuration)%s", q->name, w->nhosts, w->apex,
		       NX_SILENT_ROUNDS, waited, given_up);
		if (*given_up)
			nx_memo_keep(memo_key(key, q->zone->suffix, "unreachable"), out, keep_s);
		return 0;
	}
	if (out->why == NX_WHY_LOCAL) {
		/* The process's own failure says nothing of the zone: nothing
		 * is remembered, the next lookup asks again. */
		nx_log(NX_LOG_WARN, "%s: the authoritative servers could not all be asked: a local "
		       "error (descriptors or memory) after %.2f s; libc's answer stands", q->name,
		       waited);
		return 0;
	}
	nx_log(NX_LOG_INFO, "%s: no usable answer from the authoritative servers after %.2f s "
	       "(%u attempts, last %s)", q->name, waited, w->attempts, nx_status_name(w->last));
	if (whole_zone && out->why == NX_WHY_FAILED && nx_now_ms() >= q->deadline_ms &&
	    zone_given_up_s(q->cfg)) {
		/* No server answered for a whole deadline (port 53 blocked,
		 * say): the zone's other names would wait as long. */
		nx_memo_keep(memo_key(key, q->zone->suffix, "unreachable"), out,
			     zone_given_up_s(q->cfg));
	}
	return 0;
}

/* Step 3b: a CNAME target outside the zones, or one its authority could
 * not settle: libc's answer for it. libc's own time is its resolver's, not
 * bounded here; but it is not started once the deadline has passed. With
 * addresses, aliases holds the end of libc's own chain, if it went on. */
static void from_libc(const struct nx_query *q, const char *target, struct nx_found *out)
{
	struct addrinfo h = {.ai_family = q->family, .ai_socktype = SOCK_STREAM,
			     .ai_flags = AI_CANONNAME | (q->flags & (AI_V4MAPPED | AI_ALL | AI_ADDRCONFIG))};
	struct addrinfo *res = NULL;
	memset(out, 0, sizeof *out);
	out->outcome = NX_OUT_LIBC;
	out->why = NX_WHY_FAILED;
	if (nx_now_ms() >= q->deadline_ms || q->libc->getaddrinfo(target, NULL, &h, &res))
		return;
	snprintf(out->canon, sizeof out->canon, "%s", res->ai_canonname ? res->ai_canonname : target);
	if (strcasecmp(out->canon, target)) {
		/* libc followed the target's own chain: its end is the name
		 * glibc gives (AI_CANONNAME, h_name). The links between target
		 * and end are libc's to know; getaddrinfo does not say them. */
		snprintf(out->aliases[0], sizeof out->aliases[0], "%s", out->canon);
		out->naliases = 1;
	}
	for (struct addrinfo *ai = res; ai && out->naddrs < NX_MAXADDRS; ai = ai->ai_next) {
		struct nx_addr a = {.family = ai->ai_family};
		if (ai->ai_family == AF_INET)
			memcpy(a.bytes, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		else if (ai->ai_family == AF_INET6)
			memcpy(a.bytes, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		else
			continue;
		bool seen = false; /* one node per socket type: keep each address once */
		for (int i = 0; i < out->naddrs && !seen; i++)
			seen = !memcmp(&out->addrs[i], &a, sizeof a);
		if (!seen)
			out->addrs[out->naddrs++] = a;
	}
	q->libc->freeaddrinfo(res);
	if (out->naddrs > 0) {
		out->outcome = NX_OUT_FOUND;
		out->why = NX_WHY_NONE;
	}
}

static void resolve(struct nx_query *q, struct nx_found *out);

/* Step 3: a CNAME the zone's servers answer but do not resolve (out:
 * NX_OUT_ALIAS). Its target's own authority when the target is under a
 * configured zone (each link counted, a pending target waited for), else
 * libc. This reply's links come before the target's own. */
static void from_target(const struct nx_query *q, const struct nx_wait *w, struct nx_found *out)
{
	/* On the heap: each link of a chain (at most NX_MAXCHAIN) nests a
	 * whole lookup, and thread stacks may be small. */
	struct link {
		char target[NX_NAMEMAX], prefix[NX_MAXCHAIN][NX_NAMEMAX];
		struct nx_query t;
	} *l = nx_call_calloc(1, sizeof *l);
	if (!l) {
		memset(out, 0, sizeof *out);
		out->outcome = NX_OUT_LIBC;
		out->why = NX_WHY_SKIPPED;
		return;
	}
	int nprefix = out->naliases;
	snprintf(l->target, sizeof l->target, "%s", out->canon);
	memcpy(l->prefix, out->aliases, sizeof l->prefix[0] * (size_t)nprefix);
	if (query_for(q->cfg, q->libc, l->target, q->family, q->flags, q->rrtype, q->first, w->links,
		      q->deadline_ms, &l->t)) {
		resolve(&l->t, out);
		if (out->outcome == NX_OUT_NODATA)
			out->outcome = NX_OUT_ALIAS_NODATA; /* the name asked is an alias */
	} else {
		out->outcome = NX_OUT_LIBC;
	}
	if (out->outcome == NX_OUT_LIBC && !q->rrtype) /* libc has addresses only */
		from_libc(q, l->target, out);
	if (out->outcome == NX_OUT_FOUND) {
		int kept = out->naliases < NX_MAXCHAIN - nprefix ? out->naliases : NX_MAXCHAIN - nprefix;
		memmove(out->aliases[nprefix], out->aliases[0], sizeof out->aliases[0] * (size_t)kept);
		memcpy(out->aliases[0], l->prefix, sizeof l->prefix[0] * (size_t)nprefix);
		out->naliases = nprefix + kept;
	}
	nx_call_free(l);
}

/* Step 2: the zone's servers, round after round (round.c); run once per
 * name at a time (flight.c). Returns how long the outcome serves later
 * lookups of the same name. */
static uint32_t from_authority(void *ctx, struct nx_found *out)
{
	const struct nx_query *q = ctx;
	int64_t start_ms = nx_now_ms();
	struct nx_wait w;
	nx_wait_for(q, &w, out);
	out->ttl = w.ttl; /* the stub's answers carry it */
	if (out->outcome == NX_OUT_ALIAS) {
		from_target(q, &w, out); /* the target's own lookup says what it found */
		return 0;
	}
	return report(q, &w, out, (double)(nx_now_ms() - start_ms) / 1000);
}

static void resolve(struct nx_query *q, struct nx_found *out)
{
	if (from_memo(q, out))
		return;
	if (q->links > 0) {
		/* A CNAME target, inside the flight of the name that led here:
		 * joining another flight could wait on this very thread (a
		 * chain that loops back), so it is resolved in place. */
		from_authority(q, out);
		return;
	}
	char key[NX_KEYMAX];
	if (q->rrtype)
		snprintf(key, sizeof key, "%s/type%d/%d", q->name, q->rrtype, q->first);
	else
		snprintf(key, sizeof key, "%s/%d/%d/%d", q->name, q->family,
			 q->family == AF_INET6 ? q->flags & (AI_V4MAPPED | AI_ALL) : 0, q->first);
	nx_flight_run(key, q->deadline_ms, from_authority, q, out);
}

static void lookup(const struct nx_config *cfg, const struct nx_libc *libc, const char *node,
		   int family, int flags, int rrtype, bool first, struct nx_found *out)
{
	struct nx_query q;
	if (!query_for(cfg, libc, node, family, flags, rrtype, first, 0, 0, &q)) {
		memset(out, 0, sizeof *out);
		out->outcome = NX_OUT_LIBC;
		out->why = NX_WHY_SKIPPED;
		return;
	}
	resolve(&q, out);
}

void nx_lookup(const struct nx_config *cfg, const struct nx_libc *libc, const char *node,
	       int family, int flags, bool first, struct nx_found *out)
{
	lookup(cfg, libc, node, family, flags, 0, first, out);
}

void nx_lookup_type(const struct nx_config *cfg, const struct nx_libc *libc, const char *node,
		    int rrtype, bool first, struct nx_found *out)
{
	if (rrtype == NX_T_A || rrtype == NX_T_AAAA || rrtype <= 0 || rrtype > 0xffff) {
		memset(out, 0, sizeof *out);
		out->outcome = NX_OUT_LIBC;
		out->why = NX_WHY_SKIPPED;
		return;
	}
	lookup(cfg, libc, node, AF_UNSPEC, 0, rrtype, first, out);
}
