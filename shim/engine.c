/* The engine: loaded by hooks.c on the first lookup that needs it. It
 * decides whether the name qualifies, asks the zone's authoritative servers
 * until they answer or the deadline passes, and builds the result. In
 * fallback mode anything short of an answer gives back libc's own error,
 * unchanged; in first mode libc is asked only when the authority cannot
 * settle the question. */
#include "nxretry.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REFERRALS 4
#define KEEP_ANSWER_MAX_S 300
#define HOSTS_FILE "/etc/hosts"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct nx_config cfg;
static bool ready;
static struct nx_libc libc;

static const char *env_get(const char *name) { return secure_getenv(name); }

/* fork() while another thread is inside one of the shared tables (the
 * result registry mid-realloc, say) would give the child a table half
 * written. The tables' locks are taken before fork, always in this order
 * (no code holds two at once, so no order can deadlock), released after it
 * in the parent, and set up anew in the child. */
static void before_fork(void)
{
	nx_flight_lock();
	nx_authority_lock();
	nx_result_lock();
}

static void after_fork_parent(void)
{
	nx_result_unlock();
	nx_authority_unlock();
	nx_flight_unlock();
}

static void after_fork_child(void)
{
	nx_server_reset();
	nx_authority_reset();
	nx_result_reset();
	nx_flight_reset();
}

static void load(void)
{
	if (nx_config_load(&cfg, env_get) != 0) {
		nx_log(NX_LOG_ERROR, "configuration rejected: lookups go to libc alone");
		return;
	}
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	ready = cfg.enabled;
}

/* What one lookup is after, and what it found. */
struct lookup {
	char name[NX_NAMEMAX]; /* canonical */
	const struct nx_zone *zone;
	int family, flags;
	int qtypes[2], nq;
	int64_t start_ms, deadline_ms;
	unsigned attempts;
	struct nx_found found;
	uint32_t ttl;           /* of the answer used */
	char cname[NX_NAMEMAX]; /* chain leaving the zone's reply */
	int links;              /* CNAME links followed so far, all replies */
	bool first;             /* mode first: libc is there to ask after one failed round */
	bool narrow;            /* the name does not exist: one type per round will do */
	struct nx_reply *replies; /* [3]: a round's two, and a referral; ~17 KiB on the heap */
	struct view *views;     /* [NX_MAXSERVERS]: what each server said in a round */
	char server[64];        /* who answered */
	char apex[NX_NAMEMAX];  /* the zone asked last */
	int nhosts;             /* its nameservers */
	enum nx_status last;
	bool replied;           /* some server replied in the last round */
	bool once;              /* absent at a deadline moments ago: one round, no wait */
	bool split_logged;      /* servers' disagreement said once */
	/* The CNAME links of the reply whose chain left it, letter case as
	 * sent: they come before the target's own in the result. */
	char prefix[NX_MAXCHAIN][NX_NAMEMAX];
	int nprefix;
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
	l->found.naddrs = 0;
	l->ttl = UINT32_MAX;
	for (int k = 0; k < 2; k++) {
		if (!order[k])
			continue;
		if (!l->found.canon[0]) {
			snprintf(l->found.canon, sizeof l->found.canon, "%s", order[k]->canon);
			l->found.naliases = order[k]->naliases;
			memcpy(l->found.aliases, order[k]->aliases,
			       sizeof l->found.aliases[0] * (size_t)order[k]->naliases);
		}
		for (int i = 0; i < order[k]->naddrs && l->found.naddrs < NX_MAXADDRS; i++)
			l->found.addrs[l->found.naddrs++] = order[k]->addrs[i];
		if (order[k]->ttl < l->ttl)
			l->ttl = order[k]->ttl;
	}
}

/* How a round ended. NODATA: a server has the name with an address of the
 * other family (or a CNAME): the change has landed there, so waiting
 * longer would only stall programs that ask AAAA first (getent hosts,
 * gethostbyname2). SILENT: no server answered at all, twice running. */
enum round { ROUND_FOUND, ROUND_NODATA, ROUND_ABSENT, ROUND_LOOP, ROUND_CNAME, ROUND_REFERRAL, ROUND_REFUSED, ROUND_FAILED, ROUND_SILENT };

#define SILENT_ROUNDS 2

/* What one nameserver said in a round. */
struct view {
	enum { V_FOUND, V_ABSENT } kind;
	int server;      /* index into the authority's addresses */
	bool has_serial; /* the zone's SOA serial at that server */
	uint32_t serial;
	uint32_t ttl;
	struct nx_found found;
};

/* The address of nameserver h to ask: not one that failed, of the family
 * that last answered when there is a choice; -1 when none is left. */
static int pick_address(const struct nx_authority *a, int h, bool failed_too)
{
	int family = nx_server_family(), best = -1, best_score = 2;
	for (int i = 0; i < a->nservers; i++) {
		if (a->host[i] != h || (!failed_too && nx_server_failed(&a->servers[i])))
			continue;
		int score = family && a->servers[i].addr.family != family;
		if (score < best_score)
			best = i, best_score = score;
	}
	return best;
}

/* Does the server have an address of the type(s) not asked? A NODATA
 * only ends the wait then: a name with no address at all (an empty
 * non-terminal, a TXT-only name) is waited for as if it did not exist. */
static bool other_family_there(struct lookup *l, const struct nx_server *s, int nq, struct nx_reply *r)
{
	bool a = false, aaaa = false;
	for (int q = 0; q < nq; q++) {
		a |= l->qtypes[q] == NX_T_A;
		aaaa |= l->qtypes[q] == NX_T_AAAA;
	}
	if (a && aaaa)
		return false;
	int other[1] = {a ? NX_T_AAAA : NX_T_A};
	if (nx_probe(s, l->name, other, 1, false, (int)(cfg.query_timeout * 1000), l->deadline_ms, r))
		return false;
	return (r->status == NX_ANSWER && r->naddrs > 0) || r->status == NX_CNAME;
}

static void serial_of(const struct nx_reply *r, int nq, const char *apex, struct view *v)
{
	for (int q = 0; q < nq && !v->has_serial; q++)
		if (r[q].has_soa && !strcmp(r[q].soa_owner, apex)) {
			v->has_serial = true;
			v->serial = r[q].soa_serial;
		}
}

static void use_view(struct lookup *l, const struct nx_authority *auth, const struct view *v)
{
	l->found = v->found;
	l->ttl = v->ttl;
	nx_server_format(&auth->servers[v->server], l->server, sizeof l->server);
}

/* The views of one round, where one or more servers gave addresses,
 * weighed by nx_settle_views (server.c): all agreeing, the newest by SOA
 * serial (RFC 1982), or, when serials cannot order them (equal, as Route
 * 53's, or missing), the positive ones agreeing. A disagreement is said
 * once per lookup, at info. */
static enum round settle(struct lookup *l, const struct nx_authority *auth, struct view *v, int n)
{
	struct nx_view nv[NX_MAXSERVERS];
	for (int i = 0; i < n; i++)
		nv[i] = (struct nx_view){v[i].kind == V_FOUND, v[i].has_serial, v[i].serial,
					 v[i].found.addrs, v[i].kind == V_FOUND ? v[i].found.naddrs : 0};
	if (nx_settle_needs_serials(nv, n)) {
		/* Positive answers carry no SOA: ask each such server for it. */
		static const int soa[] = {NX_T_SOA};
		for (int i = 0; i < n; i++)
			if (nv[i].found && !nv[i].has_serial &&
			    !nx_probe(&auth->servers[v[i].server], auth->apex, soa, 1, false,
				      (int)(cfg.query_timeout * 1000), l->deadline_ms, l->replies) &&
			    l->replies[0].status == NX_ANSWER) {
				serial_of(l->replies, 1, auth->apex, &v[i]);
				nv[i].has_serial = v[i].has_serial;
				nv[i].serial = v[i].serial;
			}
	}
	struct nx_settled st;
	enum nx_settle how = nx_settle_views(nv, n, &st);
	char who[64] = "", a0[64] = "", a1[64] = "";
	if (st.newest >= 0)
		nx_server_format(&auth->servers[v[st.newest].server], who, sizeof who);
	if (st.a >= 0)
		nx_server_format(&auth->servers[v[st.a].server], a0, sizeof a0);
	if (st.b >= 0)
		nx_server_format(&auth->servers[v[st.b].server], a1, sizeof a1);
	if (nx_settle_uses(how)) {
		if (how == NX_SETTLE_NEWEST)
			nx_log(NX_LOG_INFO, "%s: the servers disagree; the newest (serial %u, %s) has the "
			       "addresses", l->name, v[st.newest].serial, who);
		use_view(l, auth, &v[st.use]);
		return ROUND_FOUND;
	}
	if (!l->split_logged) {
		l->split_logged = true;
		if (how == NX_SETTLE_SPLIT)
			nx_log(NX_LOG_INFO, "%s: %s and %s answer different addresses and their serials "
			       "cannot order them: waiting until they agree", l->name, a0, a1);
		else
			nx_log(NX_LOG_INFO, "%s: the servers disagree; the newest (serial %u, %s) %s: "
			       "waiting", l->name, v[st.newest].serial, who,
			       how == NX_SETTLE_NEWEST_DENIES ? "does not have the addresses"
							   : "do not agree with each other");
	}
	return ROUND_ABSENT;
}

/* One round: each nameserver (by name) at most once, from this process's
 * first server on, one address each: not one that timed out or was
 * unreachable before while another is left, and of the family that last
 * answered. A definitive change of path (CNAME, referral, loop) or a
 * NODATA ends the round at once; addresses are confirmed by the servers
 * not asked yet, whose views settle() weighs. */
static enum round probe_round(struct lookup *l, const struct nx_authority *auth, unsigned rot,
			      struct nx_reply *referral)
{
	struct nx_reply *r = l->replies;
	int timeout_ms = (int)(cfg.query_timeout * 1000);
	int chosen[NX_MAXSERVERS], nchosen = 0;
	unsigned first = nx_server_start() + rot;
	for (int pass = 0; pass < 2 && !nchosen; pass++) {
		if (pass) /* every address failed: they are all tried again */
			for (int i = 0; i < auth->nservers; i++)
				nx_server_unmark(&auth->servers[i]);
		for (int k = 0; k < auth->nhosts && nchosen < NX_MAXSERVERS; k++) {
			int h = (int)((first + (unsigned)k) % (unsigned)auth->nhosts);
			int si = pick_address(auth, h, pass == 1);
			if (si >= 0)
				chosen[nchosen++] = si;
		}
	}
	int refused = 0, nviews = 0, npos = 0, nneg = 0;
	l->replied = false;
	for (int c = 0; c < nchosen; c++) {
		const struct nx_server *s = &auth->servers[chosen[c]];
		if (nx_now_ms() >= l->deadline_ms)
			break;
		/* NXDOMAIN denies every type of the name (RFC 8020): while the
		 * name does not exist, one query per server says as much as
		 * all. Once it answers otherwise, ask again for every type. */
		int nq = l->narrow && !npos ? 1 : l->nq;
		if (nx_probe(s, l->name, l->qtypes, nq, false, timeout_ms, l->deadline_ms, r))
			continue;
		bool silent = true;
		for (int q = 0; q < nq; q++)
			silent &= r[q].status == NX_TIMEOUT || r[q].status == NX_UNREACHABLE;
		nx_server_mark(s, !silent);
		char name[64];
		nx_server_format(s, name, sizeof name);
		if (silent) {
			nx_log(NX_LOG_DEBUG, "%s: %s: %s (skipped from now on while others answer)",
			       l->name, name, nx_status_name(r[0].status));
			l->last = r[0].status;
			continue;
		}
		l->replied = true;
		if (nq < l->nq && (r[0].status == NX_ANSWER || r[0].status == NX_NODATA ||
				   r[0].status == NX_CNAME || r[0].status == NX_LOOP)) {
			l->narrow = false;
			c--; /* the same server, every type, at once */
			continue;
		}
		bool found = false, absent = true, cname = true, nodata = true, loop = false;
		bool nxdomain = true;
		for (int q = 0; q < nq; q++) {
			enum nx_status st = r[q].status;
			found |= st == NX_ANSWER;
			absent &= st == NX_NXDOMAIN || st == NX_NODATA || st == NX_ANSWER;
			cname &= st == NX_CNAME;
			loop |= st == NX_LOOP;
			nodata &= st == NX_NODATA;
			nxdomain &= st == NX_NXDOMAIN;
			l->last = st;
			if (st != NX_NXDOMAIN && st != NX_NODATA && st != NX_ANSWER)
				nx_log(NX_LOG_DEBUG, "%s: %s answered %s", l->name, name, nx_status_name(st));
		}
		struct view *v = &l->views[nviews];
		memset(v, 0, sizeof *v);
		v->server = chosen[c];
		if (found) {
			for (int q = 0; q < nq; q++)
				if (r[q].status == NX_ANSWER && l->links + r[q].chain > NX_MAXCHAIN)
					return ROUND_LOOP; /* over 8 links across replies */
			take_answer(l, r, nq);
			if (l->found.naddrs) {
				v->kind = V_FOUND;
				v->found = l->found;
				v->ttl = l->ttl;
				nviews++, npos++;
				continue;
			}
		}
		if (nodata && !npos) {
			/* The SOA of the denial, before r is used again. */
			serial_of(r, nq, auth->apex, v);
			if (other_family_there(l, s, nq, &r[nq])) {
				snprintf(l->server, sizeof l->server, "%s", name);
				return ROUND_NODATA;
			}
			nx_log(NX_LOG_DEBUG, "%s: %s has the name without any address: waiting", l->name,
			       name);
		}
		if (absent) {
			serial_of(r, nq, auth->apex, v);
			v->kind = V_ABSENT;
			nviews++, nneg++;
			if (!npos)
				l->narrow = nxdomain && l->nq > 1;
			continue;
		}
		if (loop)
			return ROUND_LOOP; /* definitive: asking again gives the same */
		if (cname && !strcmp(r[0].next, r[nq - 1].next)) {
			snprintf(l->cname, sizeof l->cname, "%s", r[0].next);
			l->nprefix = r[0].naliases;
			memcpy(l->prefix, r[0].aliases, sizeof l->prefix[0] * (size_t)r[0].naliases);
			l->links += r[0].chain;
			if (l->links > NX_MAXCHAIN)
				return ROUND_LOOP;
			return ROUND_CNAME;
		}
		/* Only a delegation strictly below the zone asked is progress;
		 * NS records for the zone itself or above, without AA, are what
		 * a lame server says: ask the next one. */
		if (r[0].status == NX_REFERRAL && strcmp(r[0].next, auth->apex) &&
		    nx_name_under(r[0].next, auth->apex)) {
			*referral = r[0];
			return ROUND_REFERRAL;
		}
		if (r[0].status == NX_REFERRAL)
			nx_log(NX_LOG_DEBUG, "%s: %s is lame for %s", l->name, name, auth->apex);
		refused += r[0].status == NX_REFUSED;
	}
	if (npos)
		return settle(l, auth, l->views, nviews);
	if (nneg)
		return ROUND_ABSENT;
	return nchosen && refused == nchosen ? ROUND_REFUSED : ROUND_FAILED;
}

/* Polls the zone's authority with backoff until an answer or the deadline. */
static enum round wait_for(struct lookup *l)
{
	struct nx_authority auth;
	if (nx_authority_for(&cfg, l->zone, l->name, l->deadline_ms, &auth))
		return ROUND_FAILED;
	snprintf(l->apex, sizeof l->apex, "%s", auth.apex);
	l->nhosts = auth.nhosts;
	int referrals = 0, silent = 0;
	for (unsigned rot = 0;; rot++) {
		struct nx_reply *referral = &l->replies[2];
		int64_t round_ms = nx_now_ms();
		l->attempts++;
		enum round r = probe_round(l, &auth, rot, referral);
		silent = l->replied ? 0 : silent + 1;
		switch (r) {
		case ROUND_FOUND:
		case ROUND_CNAME:
		case ROUND_NODATA:
		case ROUND_LOOP:
		case ROUND_SILENT:
			return r;
		case ROUND_REFERRAL:
			if (++referrals > MAX_REFERRALS ||
			    nx_authority_from_referral(&cfg, referral, l->deadline_ms, &auth)) {
				nx_log(NX_LOG_WARN, "%s: cannot follow the delegation to %s", l->name,
				       referral->next);
				return ROUND_FAILED;
			}
			nx_log(NX_LOG_DEBUG, "%s: delegated to %s", l->name, auth.apex);
			snprintf(l->apex, sizeof l->apex, "%s", auth.apex);
			l->nhosts = auth.nhosts;
			continue; /* at once: a referral is progress, not a miss */
		case ROUND_REFUSED:
			nx_log(NX_LOG_WARN,
			       "%s: every nameserver of %s refused the query; the zone is probably "
			       "private (set its nameservers in the configuration)",
			       l->name, auth.apex);
			return r;
		case ROUND_FAILED:
			if (silent >= SILENT_ROUNDS)
				return ROUND_SILENT;
			if (strcmp(auth.apex, l->zone->suffix) && !nx_name_under(l->zone->suffix, auth.apex))
				nx_authority_forget(auth.apex); /* a child zone that stopped working */
			if (l->first)
				return r; /* no server answers: libc has not been asked yet */
			break;
		case ROUND_ABSENT:
			break;
		}
		if (l->once)
			return r; /* after a deadline: one look, no wait */
		int64_t now = nx_now_ms();
		if (now >= l->deadline_ms)
			return r;
		int64_t d = (int64_t)(nx_backoff_delay(&cfg.backoff, rot, nx_random_unit()) * 1000);
		if (l->nhosts > 1 && nx_backoff_delay(&cfg.backoff, rot, 0) >= cfg.backoff.max) {
			/* At the cap, rounds that ask several servers start `max`
			 * apart, round included, without jitter: each server is
			 * asked at most once per `max` (Route 53's four: 4 queries
			 * a second), and a change that reached one server is seen
			 * within `max`. The random first server decorrelates. */
			d = round_ms + (int64_t)(cfg.backoff.max * 1000) - now;
		}
		sleep_ms(d < l->deadline_ms - now ? d : l->deadline_ms - now);
		if (nx_now_ms() >= l->deadline_ms)
			return r;
	}
}

static enum nx_outcome resolve(const char *node, int family, int flags, bool first,
			      struct nx_found *out, int links, int64_t deadline_ms);

/* A CNAME whose target the zone's servers do not hold: the target's own
 * authority when it is under a configured zone (the bypass applies to it
 * too), else libc. */
static enum nx_outcome follow_cname(struct lookup *l)
{
	char target[NX_NAMEMAX];
	if (nx_name_canonical(l->cname, target) && nx_config_zone_for(&cfg, target)) {
		/* Under a configured zone: its authority first, so that every
		 * link is counted and a pending target is waited for. */
		enum nx_outcome o = resolve(target, l->family, l->flags, l->first, &l->found,
					    l->links, l->deadline_ms);
		if (o == NX_OUT_NODATA)
			return NX_OUT_ALIAS_NODATA; /* the name asked is an alias */
		if (o != NX_OUT_LIBC)
			return o;
	}
	struct addrinfo h = {.ai_family = l->family, .ai_socktype = SOCK_STREAM,
			     .ai_flags = AI_CANONNAME | (l->flags & (AI_V4MAPPED | AI_ALL | AI_ADDRCONFIG))};
	struct addrinfo *res = NULL;
	/* libc's own time is its resolver's, not bounded here; but it is not
	 * started once the deadline has passed. */
	if (nx_now_ms() >= l->deadline_ms || libc.getaddrinfo(l->cname, NULL, &h, &res))
		return NX_OUT_LIBC;
	struct nx_found *f = &l->found;
	f->naddrs = 0;
	snprintf(f->canon, sizeof f->canon, "%s", res->ai_canonname ? res->ai_canonname : l->cname);
	for (struct addrinfo *ai = res; ai && f->naddrs < NX_MAXADDRS; ai = ai->ai_next) {
		struct nx_addr a = {.family = ai->ai_family};
		if (ai->ai_family == AF_INET)
			memcpy(a.bytes, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		else if (ai->ai_family == AF_INET6)
			memcpy(a.bytes, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		else
			continue;
		bool seen = false; /* one node per socket type: keep each address once */
		for (int i = 0; i < f->naddrs && !seen; i++)
			seen = !memcmp(&f->addrs[i], &a, sizeof a);
		if (!seen)
			f->addrs[f->naddrs++] = a;
	}
	libc.freeaddrinfo(res);
	return f->naddrs > 0 ? NX_OUT_FOUND : NX_OUT_LIBC;
}

/* Outcomes kept beyond one flight: "NAME/absent" (NXDOMAIN is about the
 * name, whatever the type) and "SUFFIX/unreachable". */
static const char *memo_key(char key[NX_KEYMAX], const char *owner, const char *what)
{
	snprintf(key, NX_KEYMAX, "%s/%s", owner, what);
	return key;
}

/* The wait itself, run once per name by nx_flight_run; returns how long
 * its outcome may serve later lookups of the same name. */
static uint32_t run_lookup(void *ctx, struct nx_found *out)
{
	struct lookup *l = ctx;
	l->start_ms = nx_now_ms();
	l->replies = calloc(3, sizeof *l->replies);
	l->views = calloc(NX_MAXSERVERS, sizeof *l->views);
	if (!l->replies || !l->views) {
		free(l->replies);
		free(l->views);
		out->outcome = NX_OUT_LIBC;
		return 0;
	}

	enum round r = wait_for(l);
	double waited = (double)(nx_now_ms() - l->start_ms) / 1000;
	uint32_t keep = 0;
	switch (r) {
	case ROUND_CNAME:
		l->found.outcome = follow_cname(l);
		if (l->found.outcome == NX_OUT_FOUND) {
			/* this reply's links, then the target's own */
			struct nx_found *f = &l->found;
			int kept = f->naliases < NX_MAXCHAIN - l->nprefix ? f->naliases
									 : NX_MAXCHAIN - l->nprefix;
			memmove(f->aliases[l->nprefix], f->aliases[0], sizeof f->aliases[0] * (size_t)kept);
			memcpy(f->aliases[0], l->prefix, sizeof f->aliases[0] * (size_t)l->nprefix);
			f->naliases = l->nprefix + kept;
		}
		break;
	case ROUND_NODATA:
		nx_log(NX_LOG_INFO, "%s: %s says the name exists without the asked address type "
		       "(%.2f s)", l->name, l->server, waited);
		l->found.outcome = NX_OUT_NODATA;
		break;
	case ROUND_FOUND: {
		char first[64] = "";
		nx_addr_format(&l->found.addrs[0], first, sizeof first);
		nx_log(NX_LOG_INFO, "%s: stale negative answer bypassed: %s answered %s%s after %u "
		       "attempt%s, %.2f s", l->name, l->server, first,
		       l->found.naddrs > 1 ? " (and more)" : "", l->attempts,
		       l->attempts == 1 ? "" : "s", waited);
		l->found.outcome = NX_OUT_FOUND;
		keep = l->ttl < KEEP_ANSWER_MAX_S ? l->ttl : KEEP_ANSWER_MAX_S;
		if (l->once) { /* it exists now: later lookups need not fail at once */
			char key[NX_KEYMAX];
			nx_flight_forget(memo_key(key, l->name, "absent"));
		}
		break;
	}
	case ROUND_SILENT: {
		/* Not a single reply, from any address, twice: the zone's
		 * servers cannot be reached from here. Waiting the whole
		 * deadline in every lookup would change nothing. */
		nx_log(NX_LOG_WARN, "%s: none of the %d nameservers of zone %s answered in %d rounds "
		       "(%.2f s; every address timed out or was unreachable): port 53 may be blocked on "
		       "the way out, or the zone is private, served only inside another network (pin "
		       "reachable nameservers in the configuration); its names are left to libc for "
		       "the rest of this process", l->name, l->nhosts, l->apex, SILENT_ROUNDS, waited);
		l->found.outcome = NX_OUT_LIBC;
		char key[NX_KEYMAX];
		nx_flight_remember(memo_key(key, l->zone->suffix, "unreachable"), &l->found, UINT32_MAX);
		break;
	}
	case ROUND_ABSENT:
		/* The deadline passed on a name that does not exist: later
		 * lookups of it fail at once for a while, instead of each
		 * stalling a program that probes many absent names. */
		nx_log(NX_LOG_INFO, "%s: still absent at the authoritative servers after %.2f s "
		       "(%u attempt%s, last %s)", l->name, waited, l->attempts,
		       l->attempts == 1 ? "" : "s", nx_status_name(l->last));
		l->found.outcome = NX_OUT_ABSENT;
		/* A later lookup looks once more, without waiting; a
		 * program asking in a loop gets that look's outcome for a
		 * second (one round a second per name at most). */
		keep = l->once ? 1 : 0;
		if (cfg.fail_fast > 0 && !l->once) {
			char key[NX_KEYMAX];
			nx_flight_remember(memo_key(key, l->name, "absent"), &l->found,
					   (uint32_t)cfg.fail_fast);
		}
		break;
	default:
		nx_log(NX_LOG_INFO, "%s: no usable answer from the authoritative servers after "
		       "%.2f s (%u attempts, last %s)", l->name, waited, l->attempts,
		       nx_status_name(l->last));
		l->found.outcome = NX_OUT_LIBC;
		if (r == ROUND_FAILED && nx_now_ms() >= l->deadline_ms && cfg.fail_fast > 0) {
			/* No server answered for a whole deadline (port 53 blocked,
			 * say): the zone's other names would wait as long. */
			char key[NX_KEYMAX];
			nx_flight_remember(memo_key(key, l->zone->suffix, "unreachable"), &l->found,
					   (uint32_t)cfg.fail_fast);
		}
		break;
	}
	free(l->replies);
	free(l->views);
	l->replies = NULL;
	l->views = NULL;
	*out = l->found;
	return keep;
}

/* Asks the authority of the name's zone for its addresses (once per name
 * at a time in this process, see flight.c). */
static enum nx_outcome resolve(const char *node, int family, int flags, bool first,
			      struct nx_found *out, int links, int64_t deadline_ms)
{
	struct lookup l;
	memset(&l, 0, sizeof l);
	if (!nx_name_canonical(node, l.name) || nx_name_numeric(node))
		return NX_OUT_LIBC;
	l.zone = nx_config_zone_for(&cfg, l.name);
	if (!l.zone)
		return NX_OUT_LIBC;
	l.family = family;
	l.flags = flags;
	l.links = links;
	l.deadline_ms = deadline_ms;
	l.first = first;
	switch (family) {
	case AF_INET:
		l.qtypes[l.nq++] = NX_T_A;
		break;
	case AF_INET6:
		l.qtypes[l.nq++] = NX_T_AAAA;
		if (flags & AI_V4MAPPED)
			l.qtypes[l.nq++] = NX_T_A;
		break;
	case AF_UNSPEC:
		l.qtypes[l.nq++] = NX_T_A;
		l.qtypes[l.nq++] = NX_T_AAAA;
		break;
	default:
		return NX_OUT_LIBC;
	}
	char key[NX_KEYMAX];
	if (nx_flight_recall(memo_key(key, l.name, "absent"), out)) {
		/* fail_fast: do not wait again, but do look. */
		nx_log(NX_LOG_DEBUG, "%s: absent at the deadline moments ago: asking once, no wait",
		       l.name);
		l.once = true;
	}
	if (nx_flight_recall(memo_key(key, l.zone->suffix, "unreachable"), out)) {
		nx_log(NX_LOG_DEBUG, "%s: the servers of %s did not answer moments ago: libc's "
		       "answer stands", l.name, l.zone->suffix);
		return out->outcome;
	}
	snprintf(key, sizeof key, "%s/%d/%d/%d", l.name, family,
		 family == AF_INET6 ? flags & (AI_V4MAPPED | AI_ALL) : 0, first);
	if (!l.deadline_ms) { /* a CNAME target keeps the deadline of the name asked */
		double timeout = l.zone->timeout > 0 ? l.zone->timeout : cfg.timeout;
		/* +1: the clock is in whole milliseconds, and libc's answer must
		 * not come back before the timeout has fully passed. */
		l.deadline_ms = nx_now_ms() + (int64_t)(timeout * 1000) + 1;
	}
	if (links > 0) {
		/* A CNAME target, inside the flight of the name that led here:
		 * joining another flight could wait on this very thread (a
		 * chain that loops back), so it is resolved in place. */
		run_lookup(&l, out);
		return out->outcome;
	}
	nx_flight_run(key, l.deadline_ms, run_lookup, &l, out);
	return out->outcome;
}

static bool qualifies(const char *node)
{
	pthread_once(&once, load);
	return ready && node;
}

/* The one place where what the authority said becomes a code: an EAI_*
 * for getaddrinfo, an h_errno for gethostbyname*. `theirs` is libc's own
 * code, or NX_LIBC_NOT_ASKED in first mode. */
struct codes {
	int nodata, alias_nodata, absent;
};

static const struct codes herr_codes = {NO_DATA, NO_RECOVERY, HOST_NOT_FOUND};

/* glibc (2.36, sysdeps/posix/getaddrinfo.c and resolv/nss_dns): a name
 * without the asked type is EAI_NODATA; an alias whose target has none is
 * EAI_NONAME (nss_dns finds the CNAME and no address: NOTFOUND), except
 * for AF_INET without AI_CANONNAME, which glibc answers through
 * gethostbyname2_r, whose failure becomes EAI_NODATA. family: after
 * AI_ADDRCONFIG's narrowing, as glibc narrows before that choice. */
static struct codes gai_codes(int family, int flags)
{
	bool simple = family == AF_INET && !(flags & AI_CANONNAME);
	return (struct codes){EAI_NODATA, simple ? EAI_NODATA : EAI_NONAME, EAI_NONAME};
}

static int final_code(enum nx_outcome o, int theirs, const struct codes *c)
{
	bool asked = theirs != NX_LIBC_NOT_ASKED;
	switch (o) {
	case NX_OUT_NODATA: /* the stale NXDOMAIN corrected, or (first mode) said first */
		return c->nodata;
	case NX_OUT_ALIAS_NODATA:
		return c->alias_nodata;
	case NX_OUT_ABSENT:
		return asked ? theirs : c->absent;
	case NX_OUT_LIBC:
		return asked ? theirs : NX_ASK_LIBC;
	case NX_OUT_FOUND:
		break;
	}
	return 0; /* success: 0 and NETDB_SUCCESS alike */
}

/* Names the hosts file knows are libc's to answer, in either mode: its
 * answer (even "no address of this family") is not a stale cache. */
static bool in_hosts(const char *node)
{
	char name[NX_NAMEMAX];
	return !nx_name_canonical(node, name) || nx_hosts_has(HOSTS_FILE, name);
}

/* glibc fails AI_ADDRCONFIG lookups of a family the host has no address
 * of with EAI_NONAME before asking DNS: not a stale cache. libc's own
 * numeric getaddrinfo with the same hints tells, as it would decide. */
static bool family_configured(int family, int flags)
{
	if (!(flags & AI_ADDRCONFIG) || (family != AF_INET && family != AF_INET6))
		return true;
	struct addrinfo h = {.ai_family = family, .ai_flags = AI_ADDRCONFIG | AI_NUMERICHOST};
	struct addrinfo *res = NULL;
	if (libc.getaddrinfo(family == AF_INET ? "192.0.2.1" : "2001:db8::1", NULL, &h, &res))
		return false;
	libc.freeaddrinfo(res);
	return true;
}

static int getaddrinfo_uncancellable(const char *node, const char *service,
				     const struct addrinfo *hints, struct addrinfo **res, int libc_rc);
static int hostent_uncancellable(const char *name, int af, struct hostent *ret, char *buf,
				 size_t buflen, int *herr);

/* The entry points are not cancellation points: a thread cancelled
 * mid-wait would leave locks held and a shared wait without its leader.
 * A pending cancel takes effect at the caller's next cancellation point. */
static int engine_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			      struct addrinfo **res, int libc_rc)
{
	int old, ignored;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	int rc = getaddrinfo_uncancellable(node, service, hints, res, libc_rc);
	pthread_setcancelstate(old, &ignored);
	return rc;
}

static int engine_hostent(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
			  int *herr)
{
	int old, ignored;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	int rc = hostent_uncancellable(name, af, ret, buf, buflen, herr);
	pthread_setcancelstate(old, &ignored);
	return rc;
}

static int getaddrinfo_uncancellable(const char *node, const char *service,
				     const struct addrinfo *hints, struct addrinfo **res, int libc_rc)
{
	bool first = libc_rc == NX_LIBC_NOT_ASKED;
	if (!qualifies(node) || (hints && (hints->ai_flags & AI_NUMERICHOST)))
		return first ? NX_ASK_LIBC : libc_rc;
	if (!first && libc_rc != EAI_NONAME && libc_rc != EAI_NODATA)
		return libc_rc;
	if (in_hosts(node))
		return first ? NX_ASK_LIBC : libc_rc;
	struct nx_found f;
	int flags = hints ? hints->ai_flags : (AI_V4MAPPED | AI_ADDRCONFIG);
	/* AI_ADDRCONFIG on a host with one family: glibc asks for that one. */
	int family = nx_result_family(hints ? hints->ai_family : AF_UNSPEC, flags, libc.getaddrinfo,
				      libc.freeaddrinfo);
	if (!family_configured(family, flags))
		return first ? NX_ASK_LIBC : libc_rc;
	enum nx_outcome o = resolve(node, family, flags, first, &f, 0, 0);
	if (o != NX_OUT_FOUND) {
		struct codes c = gai_codes(family, flags);
		return final_code(o, libc_rc, &c);
	}
	/* The canonical name as glibc gives it: the last CNAME target as the
	 * server wrote it, else the name as the caller spelled it. */
	char canon[NX_NAMEMAX];
	snprintf(canon, sizeof canon, "%s", f.naliases ? f.aliases[f.naliases - 1] : node);
	size_t cl = strlen(canon);
	if (!f.naliases && cl > 1 && canon[cl - 1] == '.')
		canon[cl - 1] = 0;
	int rc = nx_result_build(f.addrs, f.naddrs, canon, service, hints, libc.getaddrinfo,
				 libc.freeaddrinfo, res);
	if (rc) {
		nx_log(NX_LOG_INFO, "%s: the authoritative addresses do not fit the hints (%s)", node,
		       gai_strerror(rc));
		return first ? NX_ASK_LIBC : libc_rc;
	}
	return 0;
}

static int hostent_uncancellable(const char *name, int af, struct hostent *ret, char *buf,
				 size_t buflen, int *herr)
{
	bool first = *herr == NX_LIBC_NOT_ASKED;
	if (!qualifies(name))
		return -1;
	if (!first && *herr != HOST_NOT_FOUND && *herr != NO_DATA)
		return -1;
	if (in_hosts(name))
		return -1;
	/* First mode: glibc's own check of the buffer comes before any
	 * lookup (fallback: libc made it already). */
	if (first && !nx_result_hostent_room(name, buflen))
		return ERANGE;
	struct nx_found f;
	enum nx_outcome o = resolve(name, af, 0, first, &f, 0, 0);
	if (o != NX_OUT_FOUND) {
		*herr = final_code(o, *herr, &herr_codes);
#ifdef __GLIBC__
		/* glibc's nss_dns: a CNAME and no address is TRYAGAIN with
		 * NO_RECOVERY, so the call fails with EAGAIN (errno too). */
		if (o == NX_OUT_ALIAS_NODATA)
			return EAGAIN;
#else
		if (o == NX_OUT_ALIAS_NODATA) /* musl: no address, NO_DATA */
			*herr = NO_DATA;
#endif
		return -1;
	}
	int rc = nx_result_hostent_chain(f.addrs, f.naddrs, name,
					 (const char(*)[NX_NAMEMAX])f.aliases, f.naliases, af, ret, buf,
					 buflen);
	if (rc == -1 && first)
		*herr = NX_ASK_LIBC;
	return rc;
}

/* The hooks' per-thread storage lives here, not in the preloaded library:
 * a thread-specific key there would cost every process at load time. */
static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;
static bool buffer_key_ok;

static void make_buffer_key(void)
{
	buffer_key_ok = pthread_key_create(&buffer_key, free) == 0;
}

static char *engine_thread_buffer(size_t len)
{
	pthread_once(&buffer_once, make_buffer_key);
	if (!buffer_key_ok)
		return NULL;
	char *buf = pthread_getspecific(buffer_key);
	if (!buf && (buf = malloc(len)) && pthread_setspecific(buffer_key, buf)) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

static bool engine_first(void)
{
	pthread_once(&once, load);
	return ready && cfg.mode == NX_MODE_FIRST;
}

static const struct nx_engine engine = {
	.getaddrinfo = engine_getaddrinfo,
	.release = nx_result_release,
	.hostent = engine_hostent,
	.first = engine_first,
	.thread_buffer = engine_thread_buffer,
};

__attribute__((visibility("default"))) const struct nx_engine *
nxretry_engine_v1(const struct nx_libc *real)
{
	libc = *real;
	return &engine;
}
