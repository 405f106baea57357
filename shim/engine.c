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
	char name_buf[NX_NAMEMAX];
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

/* How a round ended. NODATA: the name exists at the server, without the
 * asked types: the change has landed there, so waiting longer would only
 * stall programs that ask AAAA first (getent hosts, gethostbyname2). */
enum round { ROUND_FOUND, ROUND_NODATA, ROUND_ABSENT, ROUND_CNAME, ROUND_REFERRAL, ROUND_REFUSED, ROUND_FAILED };

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
		bool found = false, absent = true, cname = true, nodata = true;
		for (int q = 0; q < l->nq; q++) {
			enum nx_status st = r[q].status;
			found |= st == NX_ANSWER;
			absent &= st == NX_NXDOMAIN || st == NX_NODATA || st == NX_ANSWER;
			cname &= st == NX_CNAME;
			nodata &= st == NX_NODATA;
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
		if (nodata)
			return ROUND_NODATA;
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
		case ROUND_NODATA:
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

/* What the authority said in the end: addresses, a name without the asked
 * types, or nothing that changes libc's answer. */
enum outcome { OUT_FOUND, OUT_NODATA, OUT_LIBC };

static enum outcome resolve(const char *node, int family, int flags, struct lookup *l, int depth);

/* A CNAME whose target the zone's servers do not hold: libc resolves the
 * target, and the bypass applies again if it is under a configured zone
 * and libc says it does not exist. */
static enum outcome follow_cname(struct lookup *l, int depth)
{
	if (depth + 1 >= NX_MAXCHAIN) {
		nx_log(NX_LOG_WARN, "%s: CNAME chain longer than %d links", l->name, NX_MAXCHAIN);
		return OUT_LIBC;
	}
	struct addrinfo h = {.ai_family = l->family, .ai_socktype = SOCK_STREAM,
			     .ai_flags = AI_CANONNAME | (l->flags & (AI_V4MAPPED | AI_ALL | AI_ADDRCONFIG))};
	struct addrinfo *res = NULL;
	int rc = libc.getaddrinfo(l->cname, NULL, &h, &res);
	if (rc == EAI_NONAME || rc == EAI_NODATA) {
		struct lookup target;
		enum outcome o = resolve(l->cname, l->family, l->flags, &target, depth + 1);
		if (o != OUT_FOUND)
			return o;
		memcpy(l->addrs, target.addrs, sizeof l->addrs);
		l->naddrs = target.naddrs;
		snprintf(l->canon, sizeof l->canon, "%s", target.canon);
		return OUT_FOUND;
	}
	if (rc)
		return OUT_LIBC;
	l->naddrs = 0;
	snprintf(l->canon, sizeof l->canon, "%s", res->ai_canonname ? res->ai_canonname : l->cname);
	for (struct addrinfo *ai = res; ai && l->naddrs < NX_MAXADDRS; ai = ai->ai_next) {
		struct nx_addr a = {.family = ai->ai_family};
		if (ai->ai_family == AF_INET)
			memcpy(a.bytes, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		else if (ai->ai_family == AF_INET6)
			memcpy(a.bytes, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		else
			continue;
		l->addrs[l->naddrs++] = a;
	}
	libc.freeaddrinfo(res);
	return l->naddrs > 0 ? OUT_FOUND : OUT_LIBC;
}

/* Asks the authority of the name's zone for its addresses, within the
 * deadline. True with l->addrs and l->canon set; false when libc's answer
 * must stand. */
static enum outcome resolve(const char *node, int family, int flags, struct lookup *l, int depth)
{
	memset(l, 0, sizeof *l);
	if (!nx_name_canonical(node, l->name_buf) || nx_name_numeric(node))
		return OUT_LIBC;
	l->name = l->name_buf;
	l->zone = nx_config_zone_for(&cfg, l->name);
	if (!l->zone)
		return OUT_LIBC;
	l->family = family;
	l->flags = flags;
	switch (family) {
	case AF_INET:
		l->qtypes[l->nq++] = NX_T_A;
		break;
	case AF_INET6:
		l->qtypes[l->nq++] = NX_T_AAAA;
		if (flags & AI_V4MAPPED)
			l->qtypes[l->nq++] = NX_T_A;
		break;
	case AF_UNSPEC:
		l->qtypes[l->nq++] = NX_T_A;
		l->qtypes[l->nq++] = NX_T_AAAA;
		break;
	default:
		return OUT_LIBC;
	}
	double timeout = l->zone->timeout > 0 ? l->zone->timeout : cfg.timeout;
	l->start_ms = nx_now_ms();
	l->deadline_ms = l->start_ms + (int64_t)(timeout * 1000);

	enum round r = wait_for(l);
	double waited = (double)(nx_now_ms() - l->start_ms) / 1000;
	if (r == ROUND_CNAME)
		return follow_cname(l, depth);
	if (r == ROUND_NODATA) {
		nx_log(NX_LOG_INFO, "%s: %s says the name exists without the asked address type "
		       "(%.2f s)", l->name, l->server, waited);
		return OUT_NODATA;
	}
	if (r != ROUND_FOUND) {
		nx_log(NX_LOG_INFO, "%s: not found at the authoritative servers after %.2f s "
		       "(%u attempts, last %s); libc's answer stands", l->name, waited, l->attempts,
		       nx_status_name(l->last));
		return OUT_LIBC;
	}
	char first[64] = "";
	nx_addr_format(&l->addrs[0], first, sizeof first);
	nx_log(NX_LOG_INFO, "%s: stale negative answer bypassed: %s answered %s%s after %u "
	       "attempt%s, %.2f s", l->name, l->server, first, l->naddrs > 1 ? " (and more)" : "",
	       l->attempts, l->attempts == 1 ? "" : "s", waited);
	return OUT_FOUND;
}

static bool qualifies(const char *node)
{
	pthread_once(&once, load);
	return ready && node;
}

static int engine_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			      struct addrinfo **res, int libc_rc)
{
	if ((libc_rc != EAI_NONAME && libc_rc != EAI_NODATA) || !qualifies(node) ||
	    (hints && (hints->ai_flags & AI_NUMERICHOST)))
		return libc_rc;
	struct lookup l;
	int family = hints ? hints->ai_family : AF_UNSPEC;
	int flags = hints ? hints->ai_flags : (AI_V4MAPPED | AI_ADDRCONFIG);
	switch (resolve(node, family, flags, &l, 0)) {
	case OUT_LIBC:
		return libc_rc;
	case OUT_NODATA:
		return EAI_NODATA; /* the stale NXDOMAIN, corrected */
	case OUT_FOUND:
		break;
	}
	int rc = nx_result_build(l.addrs, l.naddrs, l.canon, service, hints, libc.getaddrinfo,
				 libc.freeaddrinfo, res);
	if (rc) {
		nx_log(NX_LOG_INFO, "%s: the authoritative addresses do not fit the hints (%s)", l.name,
		       gai_strerror(rc));
		return libc_rc;
	}
	return 0;
}

static int engine_hostent(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
			  int *herr)
{
	if ((*herr != HOST_NOT_FOUND && *herr != NO_DATA) || !qualifies(name))
		return -1;
	struct lookup l;
	switch (resolve(name, af, 0, &l, 0)) {
	case OUT_LIBC:
		return -1;
	case OUT_NODATA:
		*herr = NO_DATA;
		return -1;
	case OUT_FOUND:
		break;
	}
	return nx_result_hostent(l.addrs, l.naddrs, l.canon, l.name, af, ret, buf, buflen);
}

static const struct nx_engine engine = {
	.getaddrinfo = engine_getaddrinfo,
	.release = nx_result_release,
	.hostent = engine_hostent,
};

__attribute__((visibility("default"))) const struct nx_engine *
nxretry_engine_v1(const struct nx_libc *real)
{
	libc = *real;
	return &engine;
}
