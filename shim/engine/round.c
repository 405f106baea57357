/* Waiting for a name's authority: rounds across the zone's nameservers,
 * with backoff between them, until they settle the question or the
 * deadline passes. Each round asks every nameserver (by name) at most once
 * and weighs what they said (docs/design.md, "Servers"). */
#include "nxretry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REFERRALS 4

/* How a round ended. NODATA: a server has the name with an address of the
 * other family (or a CNAME): the change has landed there, so waiting
 * longer would only stall programs that ask AAAA first (getent hosts,
 * gethostbyname2). */
enum round { ROUND_FOUND, ROUND_NODATA, ROUND_ABSENT, ROUND_LOOP, ROUND_CNAME, ROUND_REFERRAL, ROUND_REFUSED, ROUND_FAILED };

/* What one nameserver said in a round. */
struct view {
	enum { V_FOUND, V_ABSENT } kind;
	int server;      /* index into the authority's addresses */
	bool has_serial; /* the zone's SOA serial at that server */
	uint32_t serial;
	char primary[NX_NAMEMAX]; /* and the primary its SOA names */
	uint32_t ttl;
	struct nx_found found;
};

/* One wait: the query, what the caller reads afterwards (w, out), and the
 * rounds' working memory. */
struct waiting {
	const struct nx_query *q;
	struct nx_wait *w;
	struct nx_found *out;
	int query_ms;           /* one server's time to answer */
	bool narrow;            /* the name does not exist: one type per round will do */
	bool replied;           /* some server replied in the last round */
	bool local;             /* a local error (descriptors, memory) kept a server of the
				 * last round from being asked: that round was not silent */
	bool local_seen;        /* ... in any round of this wait */
	bool bare;              /* every view of the last round with views said NODATA for
				 * every type: the name exists without any address */
	bool split_logged;      /* servers' disagreement said once */
	struct nx_reply *replies; /* [3]: a round's two, and a referral; ~37 KiB on the heap (nx_call_calloc) */
	/* [nroom], one per nameserver of the zone asked (~3.3 KiB each): a
	 * round's scratch, sized when the authority is known (views_for). */
	struct view *views;
	struct nx_view *weighed; /* the views as settle() weighs them */
	int nroom;
};

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nx_call_park(__builtin_frame_address(0)); /* signals as the caller has them */
	while (ms > 0 && clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
	nx_call_unpark();
}

/* The chain's end and its links as the reply r says them. */
static void take_chain(struct nx_found *f, const struct nx_reply *r)
{
	snprintf(f->canon, sizeof f->canon, "%s", r->canon);
	f->naliases = r->naliases;
	memcpy(f->aliases, r->aliases, sizeof f->aliases[0] * (size_t)r->naliases);
}

/* Addresses from an answering server, in the order glibc's DNS backend
 * would take them for this family and these flags; 0 when none fits. */
static int take_answer(const struct nx_query *q, const struct nx_reply *r, int nq, struct view *v)
{
	struct nx_found *f = &v->found;
	if (q->rrtype) {
		/* One type's records: the set as the server gave it. */
		memset(f, 0, sizeof *f);
		if (r[0].status != NX_ANSWER || (!r[0].rrs.n && !r[0].rrs.cut) ||
		    !(f->records = nx_records_copy(&r[0].rrs)))
			return 0;
		take_chain(f, &r[0]);
		v->ttl = r[0].ttl;
		return 1; /* a cut set too: found, then relayed as upstream has it (stub) */
	}
	const struct nx_reply *a = NULL, *aaaa = NULL;
	for (int i = 0; i < nq; i++) {
		if (r[i].status != NX_ANSWER)
			continue;
		if (q->qtypes[i] == NX_T_A)
			a = &r[i];
		else
			aaaa = &r[i];
	}
	const struct nx_reply *order[2] = {aaaa, a};
	/* AI_V4MAPPED: IPv4 addresses only when there is no IPv6 one, or all
	 * of them with AI_ALL (RFC 3493 §6.1). */
	if (q->family == AF_INET6 && aaaa && !(q->flags & AI_ALL))
		order[1] = NULL;
	if (q->family == AF_UNSPEC)
		order[0] = a, order[1] = aaaa; /* glibc's order before RFC 6724 sorting */
	memset(f, 0, sizeof *f);
	v->ttl = UINT32_MAX;
	for (int k = 0; k < 2; k++) {
		if (!order[k])
			continue;
		if (!f->canon[0])
			take_chain(f, order[k]);
		for (int i = 0; i < order[k]->naddrs && f->naddrs < NX_MAXADDRS; i++)
			f->addrs[f->naddrs++] = order[k]->addrs[i];
		if (order[k]->ttl < v->ttl)
			v->ttl = order[k]->ttl;
	}
	return f->naddrs;
}

/* The address of nameserver h to ask: not one that failed, of the family
 * that last answered when there is a choice; -1 when none is left. */
static int pick_address(const struct nx_authority *a, int h, bool failed_too)
{
	int family = nx_nameserver_family(), best = -1, best_score = 2;
	for (int i = 0; i < a->nservers; i++) {
		if (a->host[i] != h || (!failed_too && nx_nameserver_failed(&a->servers[i])))
			continue;
		int score = family && a->servers[i].addr.family != family;
		if (score < best_score)
			best = i, best_score = score;
	}
	return best;
}

/* Does the server have an address of the type(s) not asked? A NODATA
 * only ends the wait then: a name with no address at all (an empty
 * non-terminal, a TXT-only name) is waited for as if it did not exist,
 * and is NODATA at the deadline (nx_wait_for). */
static bool other_family_there(const struct waiting *g, const struct nx_nameserver *s, int nq,
			       struct nx_reply *r)
{
	const struct nx_query *q = g->q;
	if (q->rrtype)
		return true; /* the name exists without the type: that is the answer */
	bool a = false, aaaa = false;
	for (int i = 0; i < nq; i++) {
		a |= q->qtypes[i] == NX_T_A;
		aaaa |= q->qtypes[i] == NX_T_AAAA;
	}
	if (a && aaaa)
		return false;
	int other[1] = {a ? NX_T_AAAA : NX_T_A};
	if (nx_probe(s, q->name, other, 1, false, g->query_ms, q->deadline_ms, r))
		return false;
	return (r->status == NX_ANSWER && r->naddrs > 0) || r->status == NX_CNAME;
}

/* The zone's serial at a server, from the first reply that says it. */
static void serial_of(const struct nx_reply *r, int nq, const char *apex, struct view *v)
{
	if (!v->has_serial)
		v->has_serial = nx_reply_serial(r, nq, apex, &v->serial, v->primary);
}

static void use_view(struct waiting *g, const struct nx_authority *auth, const struct view *v)
{
	*g->out = v->found;
	nx_records_hold(g->out->records);
	g->w->ttl = v->ttl;
	nx_nameserver_format(&auth->servers[v->server], g->w->server, sizeof g->w->server);
}

/* The views of one round, where one or more servers gave addresses,
 * weighed by nx_settle_views (nameserver.c): all agreeing, the newest by SOA
 * serial (RFC 1982), or, when serials cannot order them (equal, as Route
 * 53's, or missing), the positive ones agreeing. A disagreement is said
 * once per lookup, at info. */
static enum round settle(struct waiting *g, const struct nx_authority *auth, int n)
{
	const char *name = g->q->name;
	struct view *v = g->views;
	struct nx_view *nv = g->weighed;
	int deny = 0;
	for (int i = 0; i < n; i++)
		deny += v[i].kind == V_ABSENT;
	for (int i = 0; i < n; i++)
		nv[i] = (struct nx_view){v[i].kind == V_FOUND, v[i].has_serial, v[i].serial,
					 v[i].found.addrs, v[i].kind == V_FOUND ? v[i].found.naddrs : 0,
					 v[i].primary, v[i].found.records};
	if (nx_settle_needs_serials(nv, n)) {
		/* Positive answers carry no SOA: ask each such server for it. */
		static const int soa[] = {NX_T_SOA};
		for (int i = 0; i < n; i++)
			if (nv[i].found && !nv[i].has_serial &&
			    !nx_probe(&auth->servers[v[i].server], auth->apex, soa, 1, false,
				      g->query_ms, g->q->deadline_ms, g->replies) &&
			    g->replies[0].status == NX_ANSWER) {
				serial_of(g->replies, 1, auth->apex, &v[i]);
				nv[i].has_serial = v[i].has_serial;
				nv[i].serial = v[i].serial;
			}
	}
	struct nx_settled st;
	enum nx_settle how = nx_settle_views(nv, n, &st);
	char who[64] = "", a0[64] = "", a1[64] = "";
	if (st.newest >= 0)
		nx_nameserver_format(&auth->servers[v[st.newest].server], who, sizeof who);
	if (st.a >= 0)
		nx_nameserver_format(&auth->servers[v[st.a].server], a0, sizeof a0);
	if (st.b >= 0)
		nx_nameserver_format(&auth->servers[v[st.b].server], a1, sizeof a1);
	if (nx_settle_uses(how)) {
		if (how == NX_SETTLE_NEWEST)
			nx_log(NX_LOG_INFO, "%s: the servers disagree; the newest (serial %u, %s) has the "
			       "addresses", name, v[st.newest].serial, who);
		if (how == NX_SETTLE_UNORDERED && deny) {
			char residual[256];
			nx_settle_residual(residual, sizeof residual, deny, n);
			nx_log(NX_LOG_INFO, "%s: %s", name, residual);
		}
		use_view(g, auth, &v[st.use]);
		return ROUND_FOUND;
	}
	if (!g->split_logged) {
		g->split_logged = true;
		if (how == NX_SETTLE_SPLIT)
			nx_log(NX_LOG_INFO, "%s: %s and %s answer different addresses and their serials "
			       "cannot order them: waiting until they agree", name, a0, a1);
		else
			nx_log(NX_LOG_INFO, "%s: the servers disagree; the newest (serial %u, %s) %s: "
			       "waiting", name, v[st.newest].serial, who,
			       how == NX_SETTLE_NEWEST_DENIES ? "does not have the addresses"
							   : "do not agree with each other");
	}
	return ROUND_ABSENT;
}

/* The addresses one round asks, one per nameserver, from this process's
 * first server on: not one that timed out or was unreachable before while
 * another is left, and of the family that last answered. */
static int choose(const struct nx_authority *auth, unsigned rot, int chosen[NX_MAXSERVERS])
{
	int n = 0;
	unsigned first = nx_nameserver_start() + rot;
	for (int pass = 0; pass < 2 && !n; pass++) {
		if (pass) /* every address failed: they are all tried again */
			for (int i = 0; i < auth->nservers; i++)
				nx_nameserver_unmark(&auth->servers[i]);
		for (int k = 0; k < auth->nhosts && n < NX_MAXSERVERS; k++) {
			int h = (int)((first + (unsigned)k) % (unsigned)auth->nhosts);
			int si = pick_address(auth, h, pass == 1);
			if (si >= 0)
				chosen[n++] = si;
		}
	}
	return n;
}

/* One round. A definitive change of path (CNAME, referral, loop) or a
 * NODATA ends it at once; addresses are confirmed by the servers not
 * asked yet, whose views settle() weighs. */
static enum round probe_round(struct waiting *g, const struct nx_authority *auth, unsigned rot,
			      struct nx_reply *referral)
{
	const struct nx_query *q = g->q;
	struct nx_wait *w = g->w;
	struct nx_reply *r = g->replies;
	int chosen[NX_MAXSERVERS];
	int nchosen = choose(auth, rot, chosen);
	int refused = 0, nviews = 0, npos = 0, nneg = 0, nbare = 0;
	g->replied = g->local = false;
	for (int c = 0; c < nchosen; c++) {
		const struct nx_nameserver *s = &auth->servers[chosen[c]];
		if (nx_now_ms() >= q->deadline_ms)
			break;
		/* NXDOMAIN denies every type of the name (RFC 8020): while the
		 * name does not exist, one query per server says as much as
		 * all. Once it answers otherwise, ask again for every type. */
		int nq = g->narrow && !npos ? 1 : q->nq;
		char name[64];
		nx_nameserver_format(s, name, sizeof name);
		if (nx_probe(s, q->name, q->qtypes, nq, false, g->query_ms, q->deadline_ms, r)) {
			/* Not the server's silence: nothing was sent (EMFILE, no
			 * memory). It is neither marked nor counted as silent. */
			nx_log(NX_LOG_DEBUG, "%s: %s: not asked, a local error", q->name, name);
			g->local = g->local_seen = true;
			continue;
		}
		bool silent = true;
		for (int i = 0; i < nq; i++)
			silent &= r[i].status == NX_TIMEOUT || r[i].status == NX_UNREACHABLE;
		nx_nameserver_mark(s, !silent);
		if (silent) {
			nx_log(NX_LOG_DEBUG, "%s: %s: %s (skipped from now on while others answer)",
			       q->name, name, nx_status_name(r[0].status));
			w->last = r[0].status;
			continue;
		}
		g->replied = true;
		if (nq < q->nq && (r[0].status == NX_ANSWER || r[0].status == NX_NODATA ||
				   r[0].status == NX_CNAME || r[0].status == NX_LOOP)) {
			g->narrow = false;
			c--; /* the same server, every type, at once */
			continue;
		}
		bool found = false, absent = true, cname = true, nodata = true, loop = false;
		bool nxdomain = true;
		for (int i = 0; i < nq; i++) {
			enum nx_status st = r[i].status;
			found |= st == NX_ANSWER;
			absent &= st == NX_NXDOMAIN || st == NX_NODATA || st == NX_ANSWER;
			cname &= st == NX_CNAME;
			loop |= st == NX_LOOP;
			nodata &= st == NX_NODATA;
			nxdomain &= st == NX_NXDOMAIN;
			w->last = st;
			if (st != NX_NXDOMAIN && st != NX_NODATA && st != NX_ANSWER)
				nx_log(NX_LOG_DEBUG, "%s: %s answered %s", q->name, name, nx_status_name(st));
		}
		struct view *v = &g->views[nviews];
		nx_records_drop(v->found.records); /* an earlier round's */
		memset(v, 0, sizeof *v);
		v->server = chosen[c];
		if (found) {
			for (int i = 0; i < nq; i++)
				if (r[i].status == NX_ANSWER && w->links + r[i].chain > NX_MAXCHAIN)
					return ROUND_LOOP; /* over 8 links across replies */
			if (take_answer(q, r, nq, v)) {
				v->kind = V_FOUND;
				nviews++, npos++;
				continue;
			}
		}
		if (nodata && !npos) {
			/* The SOA of the denial, before r is used again. */
			serial_of(r, nq, auth->apex, v);
			if (other_family_there(g, s, nq, &r[nq])) {
				snprintf(w->server, sizeof w->server, "%s", name);
				return ROUND_NODATA;
			}
			nx_log(NX_LOG_DEBUG, "%s: %s has the name without any address: waiting", q->name,
			       name);
		}
		if (absent) {
			serial_of(r, nq, auth->apex, v);
			v->kind = V_ABSENT;
			nviews++, nneg++;
			nbare += nodata;
			if (!npos)
				g->narrow = nxdomain && q->nq > 1;
			continue;
		}
		if (loop)
			return ROUND_LOOP; /* definitive: asking again gives the same */
		if (cname && !strcmp(r[0].next, r[nq - 1].next)) {
			struct nx_found *out = g->out;
			memset(out, 0, sizeof *out);
			snprintf(out->canon, sizeof out->canon, "%s", r[0].next);
			out->naliases = r[0].naliases;
			memcpy(out->aliases, r[0].aliases, sizeof out->aliases[0] * (size_t)r[0].naliases);
			w->links += r[0].chain;
			return w->links > NX_MAXCHAIN ? ROUND_LOOP : ROUND_CNAME;
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
			nx_log(NX_LOG_DEBUG, "%s: %s is lame for %s", q->name, name, auth->apex);
		refused += r[0].status == NX_REFUSED;
	}
	if (nviews)
		g->bare = !npos && nbare == nviews;
	if (npos)
		return settle(g, auth, nviews);
	if (nneg)
		return ROUND_ABSENT;
	return nchosen && refused == nchosen ? ROUND_REFUSED : ROUND_FAILED;
}

/* How long to sleep after round rot that started at round_ms. */
static int64_t pause_ms(const struct waiting *g, unsigned rot, int64_t round_ms, int64_t now)
{
	const struct nx_backoff *b = &g->q->cfg->backoff;
	int64_t d = (int64_t)(nx_backoff_delay(b, rot, nx_random_unit()) * 1000);
	if (g->w->nhosts > 1 && nx_backoff_delay(b, rot, 0) >= b->max) {
		/* At the cap, rounds that ask several servers start `max`
		 * apart, round included, without jitter: each server is
		 * asked at most once per `max` (Route 53's four: 4 queries
		 * a second), and a change that reached one server is seen
		 * within `max`. The random first server decorrelates. */
		d = round_ms + (int64_t)(b->max * 1000) - now;
	}
	int64_t left = g->q->deadline_ms - now;
	return d < left ? d : left;
}

static void views_drop(struct waiting *g)
{
	for (int i = 0; g->views && i < g->nroom; i++)
		nx_records_drop(g->views[i].found.records);
	nx_call_free(g->views);
	nx_call_free(g->weighed);
	g->views = NULL;
	g->weighed = NULL;
	g->nroom = 0;
}

/* Room for a view of each nameserver a round of auth asks (choose());
 * false when there is no memory. */
static bool views_for(struct waiting *g, const struct nx_authority *auth)
{
	int n = auth->nhosts < NX_MAXSERVERS ? auth->nhosts : NX_MAXSERVERS;
	if (n <= g->nroom)
		return true;
	views_drop(g);
	g->views = nx_call_calloc((size_t)n, sizeof *g->views);
	g->weighed = nx_call_calloc((size_t)n, sizeof *g->weighed);
	if (!g->views || !g->weighed) {
		views_drop(g);
		return false;
	}
	g->nroom = n;
	return true;
}

/* The zone a round now asks: said to the caller, and room for its views. */
static bool zone_asked(struct waiting *g, const struct nx_authority *auth)
{
	snprintf(g->w->apex, sizeof g->w->apex, "%s", auth->apex);
	g->w->nhosts = auth->nhosts;
	return views_for(g, auth);
}

/* Rounds with backoff until one settles the question or the deadline. */
static enum round rounds(struct waiting *g)
{
	const struct nx_query *q = g->q;
	struct nx_wait *w = g->w;
	struct nx_authority auth;
	if (nx_authority_for(q->cfg, q->zone, q->name, q->deadline_ms, &auth))
		return ROUND_FAILED;
	if (!zone_asked(g, &auth)) {
		g->out->why = NX_WHY_LOCAL;
		return ROUND_FAILED;
	}
	int referrals = 0, silent = 0;
	for (unsigned rot = 0;; rot++) {
		struct nx_reply *referral = &g->replies[2];
		int64_t round_ms = nx_now_ms();
		w->attempts++;
		enum round r = probe_round(g, &auth, rot, referral);
		silent = g->replied || g->local ? 0 : silent + 1;
		switch (r) {
		case ROUND_FOUND:
		case ROUND_CNAME:
		case ROUND_NODATA:
		case ROUND_LOOP:
			return r;
		case ROUND_REFERRAL:
			if (++referrals > MAX_REFERRALS ||
			    nx_authority_from_referral(q->cfg, referral, q->deadline_ms, &auth)) {
				nx_log(NX_LOG_WARN, "%s: cannot follow the delegation to %s", q->name,
				       referral->next);
				return ROUND_FAILED;
			}
			nx_log(NX_LOG_DEBUG, "%s: delegated to %s", q->name, auth.apex);
			if (!zone_asked(g, &auth)) {
				g->out->why = NX_WHY_LOCAL;
				return ROUND_FAILED;
			}
			continue; /* at once: a referral is progress, not a miss */
		case ROUND_REFUSED:
			nx_log(NX_LOG_WARN,
			       "%s: every nameserver of %s refused the query; the zone is probably "
			       "private (set its nameservers in the configuration)",
			       q->name, auth.apex);
			return r;
		case ROUND_FAILED:
			/* Not a round the deadline cut short: its queries had
			 * no time to be answered. */
			if (silent >= NX_SILENT_ROUNDS && nx_now_ms() < q->deadline_ms) {
				g->out->why = NX_WHY_SILENT;
				return r;
			}
			if (strcmp(auth.apex, q->zone->suffix) && !nx_name_under(q->zone->suffix, auth.apex))
				nx_authority_forget(auth.apex); /* a child zone that stopped working */
			if (q->first)
				return r; /* no server answers: libc has not been asked yet */
			break;
		case ROUND_ABSENT:
			break;
		}
		if (q->once)
			return r; /* after a deadline: one look, no wait */
		int64_t now = nx_now_ms();
		if (now >= q->deadline_ms)
			return r;
		sleep_ms(pause_ms(g, rot, round_ms, now));
		if (nx_now_ms() >= q->deadline_ms)
			return r;
	}
}

void nx_wait_for(const struct nx_query *q, struct nx_wait *w, struct nx_found *out)
{
	memset(w, 0, sizeof *w);
	memset(out, 0, sizeof *out);
	w->links = q->links;
	struct waiting g = {.q = q, .w = w, .out = out, .query_ms = (int)(q->cfg->query_timeout * 1000)};
	g.replies = nx_call_calloc(3, sizeof *g.replies);
	enum round r = g.replies ? rounds(&g) : ROUND_FAILED;
	if (!g.replies)
		out->why = NX_WHY_SKIPPED;
	nx_call_free(g.replies);
	views_drop(&g);
	static const enum nx_outcome outcome[] = {
		[ROUND_FOUND] = NX_OUT_FOUND,   [ROUND_NODATA] = NX_OUT_NODATA,
		[ROUND_ABSENT] = NX_OUT_ABSENT, [ROUND_CNAME] = NX_OUT_ALIAS,
		[ROUND_LOOP] = NX_OUT_LIBC,     [ROUND_REFERRAL] = NX_OUT_LIBC,
		[ROUND_REFUSED] = NX_OUT_LIBC,  [ROUND_FAILED] = NX_OUT_LIBC,
	};
	static const enum nx_why why[] = {
		[ROUND_LOOP] = NX_WHY_LOOP,      [ROUND_REFERRAL] = NX_WHY_FAILED,
		[ROUND_REFUSED] = NX_WHY_REFUSED, [ROUND_FAILED] = NX_WHY_FAILED,
	};
	out->outcome = outcome[r];
	/* At the deadline, what the servers said last: a name that exists
	 * without any address is glibc's NODATA on a fresh cache, not the
	 * stale NXDOMAIN. */
	if (r == ROUND_ABSENT && g.bare) {
		out->outcome = NX_OUT_NODATA;
		w->bare = true;
	}
	if (out->outcome == NX_OUT_LIBC && !out->why)
		out->why = g.local_seen && why[r] == NX_WHY_FAILED ? NX_WHY_LOCAL : why[r];
}
