/* nxretry --check NAME: what the system resolver says about a name, what
 * each of the zone's nameservers says (by name, each address, with its SOA
 * serial), whether they agree, how long caches may keep a negative answer,
 * and what nxretry would return. The zone's servers are found and
 * delegations followed as the library does (authority.c), and their views
 * weighed by the same rule (nx_settle_views). Linked into the nxretry
 * program (shim/cli/nxretry.c), which has set the NXRETRY_* environment first. */
#include "check.h"
#include "nxretry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REFERRALS 4 /* as round.c */
#define HOSTNAME_MAX 64

static const char *env(const char *name) { return getenv(name); }

static const int both[] = {NX_T_A, NX_T_AAAA};
static const int soa_type[] = {NX_T_SOA};

static void print_addrs(const struct nx_reply *r, int n)
{
	int shown = 0;
	for (int q = 0; q < n; q++)
		for (int i = 0; i < r[q].naddrs; i++) {
			char a[64];
			nx_addr_format(&r[q].addrs[i], a, sizeof a);
			printf("%s%s", shown++ ? " " : "", a);
		}
}

static void print_found(const struct nx_addr *addrs, int n)
{
	for (int i = 0; i < n; i++) {
		char a[64];
		nx_addr_format(&addrs[i], a, sizeof a);
		printf("%s%s", i ? " " : "", a);
	}
}

static bool has_addrs(const struct nx_reply *r)
{
	return r[0].status == NX_ANSWER || r[1].status == NX_ANSWER;
}

static const char *verdict_of(const struct nx_reply *r)
{
	if (has_addrs(r))
		return "addresses";
	if (r[0].status == NX_NXDOMAIN || r[1].status == NX_NXDOMAIN)
		return "NXDOMAIN";
	if (r[0].status == NX_NODATA && r[1].status == NX_NODATA)
		return "NODATA (the name exists, without addresses)";
	return nx_status_name(r[0].status);
}

/* What one nameserver (by name) said: the view of its first address that
 * gave a definitive reply, as a round of the library takes one address. */
struct host {
	char name[NX_NAMEMAX];
	bool viewed, split; /* split: its addresses said different things */
	struct nx_view view;
	struct nx_addr addrs[NX_MAXADDRS];
	char primary[NX_NAMEMAX]; /* its view's */
	int server; /* the address whose view it is */
};

/* A table for every host an authority numbers (NX_MAXHOSTS). */
static struct host *new_hosts(void)
{
	return calloc(NX_MAXHOSTS, sizeof(struct host));
}

/* The nameserver names of the authority's addresses: from the resolver's
 * NS answer for the apex (glue, else the names' own addresses), or from a
 * referral. An address whose name cannot be told keeps "?". */
static void name_hosts(const struct nx_config *cfg, const struct nx_zone *zone,
		       const struct nx_authority *auth, const struct nx_reply *ns,
		       const struct nx_nameserver *sys, int nsys, int64_t deadline, struct host *hosts)
{
	for (int h = 0; h < auth->nhosts; h++)
		snprintf(hosts[h].name, sizeof hosts[h].name, "?");
	if (!ns && (zone->nservers || zone->nserver_names)) { /* pinned */
		for (int i = 0; i < auth->nservers; i++) {
			int h = auth->host[i];
			if (h < zone->nservers)
				nx_nameserver_format(&zone->servers[h], hosts[h].name, sizeof hosts[h].name);
			else
				snprintf(hosts[h].name, sizeof hosts[h].name, "%s",
					 zone->server_names[h - zone->nservers]);
		}
		return;
	}
	struct nx_reply *r = calloc(3, sizeof *r);
	if (!r)
		return;
	if (!ns) {
		for (int i = 0; i < nsys; i++)
			if (!nx_probe(&sys[i], auth->apex, (const int[]){NX_T_NS}, 1, true, 3000, deadline,
				      &r[2]) && r[2].status == NX_ANSWER)
				break;
		if (r[2].status != NX_ANSWER) {
			free(r);
			return;
		}
		ns = &r[2];
	}
	(void)cfg;
	for (int i = 0; i < auth->nservers; i++) {
		int h = auth->host[i];
		const struct nx_addr *a = &auth->servers[i].addr;
		for (int g = 0; g < ns->nglue; g++)
			if (ns->glue[g].family == a->family &&
			    !memcmp(ns->glue[g].bytes, a->bytes, sizeof a->bytes))
				snprintf(hosts[h].name, sizeof hosts[h].name, "%s", ns->ns[ns->glue_ns[g]]);
		for (int k = 0; k < ns->nns && !strcmp(hosts[h].name, "?"); k++) {
			bool glued = false;
			for (int g = 0; g < ns->nglue; g++)
				glued |= ns->glue_ns[g] == k;
			if (glued)
				continue;
			for (int s = 0; s < nsys; s++)
				if (!nx_probe(&sys[s], ns->ns[k], both, 2, true, 3000, deadline, r))
					break;
			for (int q = 0; q < 2; q++)
				for (int j = 0; j < r[q].naddrs; j++)
					if (r[q].status == NX_ANSWER && r[q].addrs[j].family == a->family &&
					    !memcmp(r[q].addrs[j].bytes, a->bytes, sizeof a->bytes))
						snprintf(hosts[h].name, sizeof hosts[h].name, "%s", ns->ns[k]);
		}
	}
	free(r);
}

int nx_check(const char *arg)
{
	if (arg[0] == '-') {
		fprintf(stderr, "usage: nxretry --check NAME\n");
		return 2;
	}
	char name[NX_NAMEMAX];
	if (!nx_name_canonical(arg, name)) {
		fprintf(stderr, "nxretry: '%s' is not a valid host name\n", arg);
		return 2;
	}
	struct nx_config cfg;
	if (nx_config_load(&cfg, env))
		return 2;
	nx_log_level = cfg.log < NX_LOG_WARN ? cfg.log : NX_LOG_WARN;
	int64_t deadline = nx_now_ms() + 20000; /* a diagnosis, not a wait */

	printf("name:       %s\n", name);
	/* The resolvers in turn, as libc would: the first definitive answer. */
	struct nx_nameserver sys[3];
	int nsys = nx_system_servers("/etc/resolv.conf", sys, 3);
	struct nx_reply *rr = calloc(5, sizeof *rr); /* [2] the resolver's, [2] a server's, [1] */
	struct host *hosts = new_hosts();
	if (!rr || !hosts) {
		free(rr);
		free(hosts);
		fprintf(stderr, "nxretry: out of memory\n");
		return 2;
	}
	rr[0].status = rr[1].status = NX_TIMEOUT;
	char who[64] = "?";
	for (int i = 0; i < nsys; i++) {
		nx_nameserver_format(&sys[i], who, sizeof who);
		nx_probe(&sys[i], name, both, 2, true, 3000, deadline, rr);
		enum nx_status st = rr[0].status;
		if (st == NX_ANSWER || st == NX_NXDOMAIN || st == NX_NODATA || st == NX_CNAME)
			break;
	}
	int rc = 1;
	bool resolves = has_addrs(rr);
	printf("resolver:   %s says %s", who, verdict_of(rr));
	if (resolves) {
		printf(": ");
		print_addrs(rr, 2);
	} else if (rr[0].has_soa) {
		printf(" (this answer may stay cached %u s more, from its SOA)", rr[0].ttl);
	}
	printf("\n");

	const struct nx_zone *zone = nx_config_zone_for(&cfg, name);
	struct nx_zone guessed;
	struct nx_authority auth;
	if (!zone) {
		/* No configured zone: take the zone the resolver's denial names. */
		if (!rr[0].has_soa) {
			printf("zone:       not under a configured zone (NXRETRY_ZONES), and the "
			       "resolver's reply names none\n");
			rc = resolves ? 0 : 1;
			goto out;
		}
		memset(&guessed, 0, sizeof guessed);
		snprintf(guessed.suffix, sizeof guessed.suffix, "%s", rr[0].soa_owner);
		zone = &guessed;
		printf("zone:       %s (from the resolver's SOA; not a configured zone, so "
		       "nxretry leaves this name alone)\n", zone->suffix);
	}
	if (nx_authority_for(&cfg, zone, name, deadline, &auth)) {
		printf("authority:  cannot be found (see the line above)\n");
		rc = resolves ? 0 : 1;
		goto out;
	}
	if (zone == &guessed)
		printf("zone apex:  %s (from the resolver's SOA)\n", auth.apex);
	else
		printf("zone apex:  %s (configured suffix %s)\n", auth.apex, zone->suffix);
	struct nx_reply *r = &rr[2], *referral = NULL;
	static struct nx_reply held; /* the referral followed: its NS names */
	int nviews = 0, referrals = 0;
	bool changed_path = false;
again:
	memset(hosts, 0, NX_MAXHOSTS * sizeof *hosts);
	if (auth.nhosts > NX_MAXHOSTS) /* never, by nx_authority's numbering */
		auth.nhosts = NX_MAXHOSTS;
	name_hosts(&cfg, zone, &auth, referral, sys, nsys, deadline, hosts);
	printf("servers:   ");
	for (int h = 0; h < auth.nhosts; h++) {
		printf("%s %s (", h ? "," : "", hosts[h].name);
		int shown = 0;
		for (int i = 0; i < auth.nservers; i++) {
			if (auth.host[i] != h)
				continue;
			char s[64];
			nx_nameserver_format(&auth.servers[i], s, sizeof s);
			printf("%s%s", shown++ ? " " : "", s);
		}
		printf(")");
	}
	printf("\n");
	/* Each address: its answer, and the zone's serial there. */
	for (int h = 0; h < auth.nhosts; h++)
		for (int i = 0; i < auth.nservers; i++) {
			if (auth.host[i] != h)
				continue;
			char s[64];
			nx_nameserver_format(&auth.servers[i], s, sizeof s);
			nx_probe(&auth.servers[i], name, both, 2, false, 2000, deadline, r);
			if (r[0].status == NX_REFERRAL && strcmp(r[0].next, auth.apex) &&
			    nx_name_under(r[0].next, auth.apex)) {
				/* A delegation below the zone: the library follows it. */
				printf("  %-16s %-22s referral to %s\n", hosts[h].name, s, r[0].next);
				if (++referrals > MAX_REFERRALS) {
					printf("delegation: more than %d referrals: nxretry gives up\n",
					       MAX_REFERRALS);
					goto out;
				}
				held = r[0];
				if (nx_authority_from_referral(&cfg, &held, deadline, &auth)) {
					printf("delegation: cannot follow the delegation to %s\n", held.next);
					goto out;
				}
				printf("zone apex:  %s (delegated)\n", auth.apex);
				referral = &held;
				goto again;
			}
			uint32_t serial = 0;
			char primary[NX_NAMEMAX] = "";
			bool has_serial = nx_reply_serial(r, 2, auth.apex, &serial, primary);
			if (!has_serial && has_addrs(r) &&
			    !nx_probe(&auth.servers[i], auth.apex, soa_type, 1, false, 2000, deadline,
				      &rr[4]) &&
			    rr[4].status == NX_ANSWER)
				has_serial = nx_reply_serial(&rr[4], 1, auth.apex, &serial, primary);
			printf("  %-16s %-22s %s", hosts[h].name, s, verdict_of(r));
			if (has_addrs(r)) {
				printf(": ");
				print_addrs(r, 2);
			} else if (r[0].status == NX_CNAME) {
				printf(" to %s", r[0].next);
				changed_path = true;
			}
			if (has_serial)
				printf(", serial %u", serial);
			printf("\n");
			bool definitive = true;
			for (int q = 0; q < 2; q++)
				definitive &= r[q].status == NX_ANSWER || r[q].status == NX_NODATA ||
					      r[q].status == NX_NXDOMAIN;
			if (!definitive)
				continue;
			struct host *ho = &hosts[h];
			/* This address's own addresses: the host keeps its first
			 * address's, which the others are compared with. */
			struct nx_addr mine[NX_MAXADDRS];
			struct nx_view v = {has_addrs(r), has_serial, serial, mine, 0, primary, NULL};
			for (int q = 0; q < 2; q++)
				for (int k = 0; k < r[q].naddrs && v.naddrs < NX_MAXADDRS; k++)
					if (r[q].status == NX_ANSWER)
						mine[v.naddrs++] = r[q].addrs[k];
			if (!ho->viewed) {
				memcpy(ho->addrs, mine, sizeof mine[0] * (size_t)v.naddrs);
				v.addrs = ho->addrs;
				snprintf(ho->primary, sizeof ho->primary, "%s", primary);
				v.primary = ho->primary;
				ho->view = v;
				ho->viewed = true;
				ho->server = i;
				nviews++;
			} else {
				struct nx_view pair[2] = {ho->view, v};
				struct nx_settled st;
				ho->split |= nx_settle_views(pair, 2, &st) != NX_SETTLE_AGREE &&
					     nx_settle_views(pair, 2, &st) != NX_SETTLE_NONE;
				ho->split |= v.has_serial != ho->view.has_serial ||
					     v.serial != ho->view.serial;
			}
		}

	/* RFC 2308 §5: caches keep a denial min(SOA TTL, SOA MINIMUM). */
	uint32_t bound = 0;
	for (int i = 0; i < auth.nservers && !bound; i++) {
		nx_probe(&auth.servers[i], auth.apex, soa_type, 1, false, 2000, deadline, &rr[4]);
		if (rr[4].status == NX_ANSWER && rr[4].has_soa) {
			bound = rr[4].soa_ttl < rr[4].soa_minimum ? rr[4].soa_ttl : rr[4].soa_minimum;
			printf("negative:   caches keep a denial min(SOA TTL %u, MINIMUM %u) = %u s\n",
			       rr[4].soa_ttl, rr[4].soa_minimum, bound);
		}
	}

	/* The views weighed as a round of the library weighs them: a viewed
	 * host has an address, so there are at most NX_MAXSERVERS. */
	struct nx_view views[NX_MAXSERVERS];
	int vh[NX_MAXSERVERS], n = 0;
	for (int h = 0; h < auth.nhosts && n < NX_MAXSERVERS; h++)
		if (hosts[h].viewed) {
			hosts[h].view.addrs = hosts[h].addrs;
			vh[n] = h;
			views[n++] = hosts[h].view;
		}
	(void)nviews;
	for (int h = 0; h < auth.nhosts; h++)
		if (hosts[h].split)
			printf("disagree:   %s's addresses answer differently\n", hosts[h].name);
	struct nx_settled st;
	enum nx_settle how = nx_settle_views(views, n, &st);
	printf("agreement:  ");
	switch (how) {
	case NX_SETTLE_NONE:
		printf("%d of %d nameservers answered; none has addresses\n", n, auth.nhosts);
		break;
	case NX_SETTLE_AGREE:
		printf("%d of %d nameservers answered, all with the same addresses\n", n, auth.nhosts);
		break;
	case NX_SETTLE_NEWEST:
	case NX_SETTLE_NEWEST_DENIES:
	case NX_SETTLE_NEWEST_SPLIT:
		printf("the servers disagree; by SOA serial (RFC 1982) the newest is %u, at %s, which %s\n",
		       views[st.newest].serial, hosts[vh[st.newest]].name,
		       how == NX_SETTLE_NEWEST ? "has the addresses"
		       : how == NX_SETTLE_NEWEST_DENIES ? "does not have the name (deleted, or not yet created)"
							 : "disagrees with another server at the same serial");
		break;
	case NX_SETTLE_UNORDERED: {
		int deny = 0;
		for (int i = 0; i < n; i++)
			deny += !views[i].found;
		char residual[256];
		if (deny) { /* the line the library logs at info when it answers so */
			nx_settle_residual(residual, sizeof residual, deny, n);
			printf("%s\n", residual);
		} else {
			printf("the servers disagree; serials cannot order them (equal or missing), and "
			       "the ones with addresses agree\n");
		}
		break;
	}
	case NX_SETTLE_SPLIT:
		printf("the servers disagree: %s and %s answer different addresses, and serials cannot "
		       "order them (equal or missing)\n", hosts[vh[st.a]].name, hosts[vh[st.b]].name);
		break;
	}

	double wait = zone->timeout > 0 ? zone->timeout : cfg.timeout;
	printf("verdict:    ");
	if (resolves) {
		printf("the name resolves now; nothing to bypass\n");
		rc = 0;
	} else if (changed_path) {
		printf("a CNAME: nxretry follows it (nxretry --check its target)\n");
		rc = 0;
	} else if (nx_settle_uses(how)) {
		printf("stale negative answer: caches may keep it for up to %u s; nxretry returns ",
		       bound);
		print_found(views[st.use].addrs, views[st.use].naddrs);
		char from[64];
		nx_nameserver_format(&auth.servers[hosts[vh[st.use]].server], from, sizeof from);
		printf(" now (from %s)%s\n", from,
		       zone == &guessed ? ", once its zone is in NXRETRY_ZONES" : "");
		rc = 0;
	} else if (how == NX_SETTLE_NONE) {
		printf("the name exists nowhere yet: nxretry would wait up to %g s for it\n", wait);
	} else {
		printf("the servers disagree: nxretry would wait up to %g s for %s\n", wait,
		       how == NX_SETTLE_NEWEST_DENIES ? "the newest servers to have the name"
						     : "their addresses to agree");
	}
out:
	free(rr);
	free(hosts);
	return rc;
}
