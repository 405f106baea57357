/* The engine: loaded by hooks.c on the first lookup that libc failed with
 * "no such name" or "no data". It decides whether the name qualifies, asks
 * the zone's authoritative servers until they answer or the deadline
 * passes, and builds the result. Anything short of an answer gives back
 * libc's own error, unchanged. */
#include "nxretry.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REFERRALS 4

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct nx_config cfg;
static bool ready;
static struct nx_libc libc;

static const char *env_get(const char *name) { return secure_getenv(name); }

static void after_fork_child(void)
{
	nx_authority_reset();
	nx_result_reset();
}

static void load(void)
{
	if (nx_config_load(&cfg, env_get) != 0) {
		nx_log(NX_LOG_ERROR, "configuration rejected: lookups go to libc alone");
		return;
	}
	pthread_atfork(NULL, NULL, after_fork_child);
	ready = cfg.enabled;
}

/* What one lookup is after, and what it found. */
struct lookup {
	const char *name; /* canonical */
	const struct nx_zone *zone;
	int family, flags;
	int qtypes[2], nq;
	int64_t start_ms, deadline_ms;
	unsigned attempts;
	struct nx_addr addrs[NX_MAXADDRS];
	int naddrs;
	char canon[NX_NAMEMAX];
	char cname[NX_NAMEMAX]; /* chain leaving the zone's reply */
	char server[64];        /* who answered */
	enum nx_status last;
};

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	while (ms > 0 && clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* Addresses from an answering round, in the order glibc's DNS backend
 * would take them for this family and these flags. */
static void take_answer(struct lookup *l, const struct nx_reply *r, int nq)
{
	const struct nx_reply *a = NULL, *aaaa = NULL;
	for (int q = 0; q < nq; q++) {
		if (r[q].status != NX_ANSWER)
			continue;
		if (l->qtypes[q] == NX_T_A)
			a = &r[q];
		else
			aaaa = &r[q];
	}
	const struct nx_reply *order[2] = {aaaa, a};
	/* AI_V4MAPPED: IPv4 addresses only when there is no IPv6 one, or all
	 * of them with AI_ALL (RFC 3493 §6.1). */
	if (l->family == AF_INET6 && aaaa && !(l->flags & AI_ALL))
		order[1] = NULL;
	if (l->family == AF_UNSPEC)
		order[0] = a, order[1] = aaaa; /* glibc's order before RFC 6724 sorting */
	l->naddrs = 0;
	for (int k = 0; k < 2; k++) {
		if (!order[k])
			continue;
		if (!l->canon[0])
			snprintf(l->canon, sizeof l->canon, "%s", order[k]->canon);
		for (int i = 0; i < order[k]->naddrs && l->naddrs < NX_MAXADDRS; i++)
			l->addrs[l->naddrs++] = order[k]->addrs[i];
	}
}

enum round { ROUND_FOUND, ROUND_ABSENT, ROUND_CNAME, ROUND_REFERRAL, ROUND_REFUSED, ROUND_FAILED };

/* One round: servers in turn until one gives a definitive answer. */
static enum round probe_round(struct lookup *l, const struct nx_authority *auth, unsigned rot,
			      struct nx_reply *referral)
{
	struct nx_reply r[2];
	int refused = 0;
	int timeout_ms = (int)(cfg.query_timeout * 1000);
	for (int i = 0; i < auth->nservers; i++) {
		const struct nx_server *s = &auth->servers[(rot + (unsigned)i) % (unsigned)auth->nservers];
		if (nx_now_ms() >= l->deadline_ms)
			break;
		if (nx_probe(s, l->name, l->qtypes, l->nq, false, timeout_ms, l->deadline_ms, r))
			continue;
		nx_server_format(s, l->server, sizeof l->server);
		bool found = false, absent = true, cname = true;
		for (int q = 0; q < l->nq; q++) {
			enum nx_status st = r[q].status;
			found |= st == NX_ANSWER;
			absent &= st == NX_NXDOMAIN || st == NX_NODATA || st == NX_ANSWER;
			cname &= st == NX_CNAME;
			l->last = st;
			if (st != NX_NXDOMAIN && st != NX_NODATA && st != NX_ANSWER)
				nx_log(NX_LOG_DEBUG, "%s: %s answered %s", l->name, l->server,
				       nx_status_name(st));
		}
		if (found) {
			take_answer(l, r, l->nq);
			if (l->naddrs)
				return ROUND_FOUND;
		}
		if (absent)
			return ROUND_ABSENT;
		if (cname && !strcmp(r[0].next, r[l->nq - 1].next)) {
			snprintf(l->cname, sizeof l->cname, "%s", r[0].next);
			return ROUND_CNAME;
		}
		if (r[0].status == NX_REFERRAL) {
			*referral = r[0];
			return ROUND_REFERRAL;
		}
		refused += r[0].status == NX_REFUSED;
	}
	return refused == auth->nservers ? ROUND_REFUSED : ROUND_FAILED;
}

/* Polls the zone's authority with backoff until an answer or the deadline. */
static enum round wait_for(struct lookup *l)
{
	struct nx_authority auth;
	if (nx_authority_for(&cfg, l->zone, l->name, l->deadline_ms, &auth))
		return ROUND_FAILED;
	int referrals = 0;
	for (unsigned rot = 0;; rot++) {
		struct nx_reply referral;
		l->attempts++;
		enum round r = probe_round(l, &auth, rot, &referral);
		switch (r) {
		case ROUND_FOUND:
		case ROUND_CNAME:
			return r;
		case ROUND_REFERRAL:
			if (++referrals > MAX_REFERRALS ||
			    nx_authority_from_referral(&cfg, &referral, l->deadline_ms, &auth)) {
				nx_log(NX_LOG_WARN, "%s: cannot follow the delegation to %s", l->name,
				       referral.next);
				return ROUND_FAILED;
			}
			nx_log(NX_LOG_DEBUG, "%s: delegated to %s", l->name, auth.apex);
			continue; /* at once: a referral is progress, not a miss */
		case ROUND_REFUSED:
			nx_log(NX_LOG_WARN,
			       "%s: every nameserver of %s refused the query; the zone is probably "
			       "private (set its nameservers in the configuration)",
			       l->name, auth.apex);
			return r;
		case ROUND_FAILED:
			if (strcmp(auth.apex, l->zone->suffix) && !nx_name_under(l->zone->suffix, auth.apex))
				nx_authority_forget(auth.apex); /* a child zone that stopped working */
			break;
		case ROUND_ABSENT:
			break;
		}
		int64_t now = nx_now_ms();
		if (now >= l->deadline_ms)
			return r;
		int64_t d = (int64_t)(nx_backoff_delay(&cfg.backoff, rot, nx_random_unit()) * 1000);
		sleep_ms(d < l->deadline_ms - now ? d : l->deadline_ms - now);
		if (nx_now_ms() >= l->deadline_ms)
			return r;
	}
}

static int lookup(const char *node, const char *service, const struct addrinfo *hints,
		  struct addrinfo **res, int libc_rc, int depth);

/* A CNAME whose target the zone's servers do not hold: libc resolves the
 * target, and the bypass applies again if it is under a configured zone. */
static int follow_cname(const struct lookup *l, const char *service, const struct addrinfo *hints,
			struct addrinfo **res, int libc_rc, int depth)
{
	if (depth >= NX_MAXCHAIN) {
		nx_log(NX_LOG_WARN, "%s: CNAME chain longer than %d links", l->name, NX_MAXCHAIN);
		return libc_rc;
	}
	int rc = libc.getaddrinfo(l->cname, service, hints, res);
	if (rc == EAI_NONAME || rc == EAI_NODATA)
		rc = lookup(l->cname, service, hints, res, rc, depth + 1);
	return rc == 0 ? 0 : libc_rc;
}

static int lookup(const char *node, const char *service, const struct addrinfo *hints,
		  struct addrinfo **res, int libc_rc, int depth)
{
	struct lookup l;
	memset(&l, 0, sizeof l);
	char name[NX_NAMEMAX];
	if (!nx_name_canonical(node, name) || nx_name_numeric(node))
		return libc_rc;
	l.zone = nx_config_zone_for(&cfg, name);
	if (!l.zone)
		return libc_rc;
	l.name = name;
	l.family = hints ? hints->ai_family : AF_UNSPEC;
	l.flags = hints ? hints->ai_flags : (AI_V4MAPPED | AI_ADDRCONFIG);
	switch (l.family) {
	case AF_INET:
		l.qtypes[l.nq++] = NX_T_A;
		break;
	case AF_INET6:
		l.qtypes[l.nq++] = NX_T_AAAA;
		if (l.flags & AI_V4MAPPED)
			l.qtypes[l.nq++] = NX_T_A;
		break;
	case AF_UNSPEC:
		l.qtypes[l.nq++] = NX_T_A;
		l.qtypes[l.nq++] = NX_T_AAAA;
		break;
	default:
		return libc_rc;
	}
	double timeout = l.zone->timeout > 0 ? l.zone->timeout : cfg.timeout;
	l.start_ms = nx_now_ms();
	l.deadline_ms = l.start_ms + (int64_t)(timeout * 1000);

	enum round r = wait_for(&l);
	double waited = (double)(nx_now_ms() - l.start_ms) / 1000;
	if (r == ROUND_CNAME)
		return follow_cname(&l, service, hints, res, libc_rc, depth);
	if (r != ROUND_FOUND) {
		nx_log(NX_LOG_INFO, "%s: not found at the authoritative servers after %.2f s "
		       "(%u attempts, last %s); libc's answer stands", name, waited, l.attempts,
		       nx_status_name(l.last));
		return libc_rc;
	}
	int rc = nx_result_build(l.addrs, l.naddrs, l.canon, service, hints, libc.getaddrinfo,
				 libc.freeaddrinfo, res);
	if (rc) {
		nx_log(NX_LOG_INFO, "%s: the authoritative addresses do not fit the hints (%s)", name,
		       gai_strerror(rc));
		return libc_rc;
	}
	char first[64] = "";
	nx_addr_format(&l.addrs[0], first, sizeof first);
	nx_log(NX_LOG_INFO, "%s: stale negative answer bypassed: %s answered %s%s after %u "
	       "attempt%s, %.2f s", name, l.server, first, l.naddrs > 1 ? " (and more)" : "",
	       l.attempts, l.attempts == 1 ? "" : "s", waited);
	return 0;
}

static int engine_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			      struct addrinfo **res, int libc_rc)
{
	pthread_once(&once, load);
	if (!ready || !node || (hints && (hints->ai_flags & AI_NUMERICHOST)))
		return libc_rc;
	if (libc_rc != EAI_NONAME && libc_rc != EAI_NODATA)
		return libc_rc;
	return lookup(node, service, hints, res, libc_rc, 0);
}

static const struct nx_engine engine = {
	.getaddrinfo = engine_getaddrinfo,
	.release = nx_result_release,
};

__attribute__((visibility("default"))) const struct nx_engine *
nxretry_engine_v1(const struct nx_libc *real)
{
	libc = *real;
	return &engine;
}
