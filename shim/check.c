/* nxretry --check NAME: what the system resolver says about a name, what
 * the zone's authoritative servers say, how long caches may keep a negative
 * answer, and what nxretry would return. Linked into the nxretry program
 * (shim/wrapper.c), which has set the NXRETRY_* environment first. */
#include "check.h"
#include "nxretry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name) { return getenv(name); }

static const int both[] = {NX_T_A, NX_T_AAAA};

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
	int64_t deadline = nx_now_ms() + 10000; /* a diagnosis, not a wait */

	printf("name:       %s\n", name);
	/* The resolvers in turn, as libc would: the first definitive answer. */
	struct nx_server sys[3];
	int nsys = nx_system_servers("/etc/resolv.conf", sys, 3);
	struct nx_reply rr[2];
	char who[64] = "?";
	for (int i = 0; i < nsys; i++) {
		nx_server_format(&sys[i], who, sizeof who);
		nx_probe(&sys[i], name, both, 2, true, 3000, deadline, rr);
		enum nx_status st = rr[0].status;
		if (st == NX_ANSWER || st == NX_NXDOMAIN || st == NX_NODATA || st == NX_CNAME)
			break;
	}
	printf("resolver:   %s says %s", who, verdict_of(rr));
	if (has_addrs(rr)) {
		printf(": ");
		print_addrs(rr, 2);
	} else if (rr[0].has_soa) {
		printf(" (this answer may stay cached %u s more, from its SOA)", rr[0].ttl);
	}
	printf("\n");

	const struct nx_zone *zone = nx_config_zone_for(&cfg, name);
	struct nx_zone guessed;
	if (!zone) {
		/* No configured zone: take the zone the resolver's denial names. */
		if (!rr[0].has_soa) {
			printf("zone:       not under a configured zone (NXRETRY_ZONES), and the "
			       "resolver's reply names none\n");
			return has_addrs(rr) ? 0 : 1;
		}
		memset(&guessed, 0, sizeof guessed);
		snprintf(guessed.suffix, sizeof guessed.suffix, "%s", rr[0].soa_owner);
		zone = &guessed;
		printf("zone:       %s (from the resolver's SOA; not a configured zone, so "
		       "nxretry leaves this name alone)\n", zone->suffix);
	}
	struct nx_authority auth;
	if (nx_authority_for(&cfg, zone, name, deadline, &auth)) {
		printf("authority:  cannot be found (see the line above)\n");
		return has_addrs(rr) ? 0 : 1;
	}
	if (zone == &guessed)
		printf("zone apex:  %s (from the resolver's SOA)\n", auth.apex);
	else
		printf("zone apex:  %s (configured suffix %s)\n", auth.apex, zone->suffix);
	printf("servers:   ");
	for (int i = 0; i < auth.nservers; i++) {
		char s[64];
		nx_server_format(&auth.servers[i], s, sizeof s);
		printf(" %s", s);
	}
	printf("\n");

	struct nx_reply best[2] = {{.status = NX_TIMEOUT}, {.status = NX_TIMEOUT}};
	char best_server[64] = "";
	for (int i = 0; i < auth.nservers; i++) {
		struct nx_reply ar[2];
		char s[64];
		nx_server_format(&auth.servers[i], s, sizeof s);
		nx_probe(&auth.servers[i], name, both, 2, false, 2000, deadline, ar);
		printf("  %-22s %s", s, verdict_of(ar));
		if (has_addrs(ar)) {
			printf(": ");
			print_addrs(ar, 2);
			if (!best_server[0]) {
				memcpy(best, ar, sizeof best);
				snprintf(best_server, sizeof best_server, "%s", s);
			}
		}
		printf("\n");
	}

	/* RFC 2308 §5: caches keep a denial min(SOA TTL, SOA MINIMUM). */
	static const int soa[] = {NX_T_SOA};
	struct nx_reply sr;
	uint32_t bound = 0;
	for (int i = 0; i < auth.nservers && !bound; i++) {
		nx_probe(&auth.servers[i], auth.apex, soa, 1, false, 2000, deadline, &sr);
		if (sr.status == NX_ANSWER && sr.has_soa) {
			bound = sr.soa_ttl < sr.soa_minimum ? sr.soa_ttl : sr.soa_minimum;
			printf("negative:   caches keep a denial min(SOA TTL %u, MINIMUM %u) = %u s\n",
			       sr.soa_ttl, sr.soa_minimum, bound);
		}
	}

	printf("verdict:    ");
	if (has_addrs(rr)) {
		printf("the name resolves now; nothing to bypass\n");
		return 0;
	}
	if (best_server[0]) {
		printf("stale negative answer: caches may keep it for up to %u s; nxretry returns ",
		       bound);
		print_addrs(best, 2);
		printf(" now (from %s)%s\n", best_server,
		       zone == &guessed ? ", once its zone is in NXRETRY_ZONES" : "");
		return 0;
	}
	printf("the name exists nowhere yet: nxretry would wait up to %g s for it\n",
	       zone->timeout > 0 ? zone->timeout : cfg.timeout);
	return 1;
}
