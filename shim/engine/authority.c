/* A zone's authoritative servers: pinned in the configuration, or found
 * through the system resolver (SOA of the configured suffix gives the apex,
 * NS of the apex the server names, glue or A/AAAA lookups their addresses).
 * The new name itself is never sent to the system resolver: NXDOMAIN is
 * cached per name, for every type (RFC 2308 §5).
 * Found authorities are kept per process until their NS TTL runs out. */
#include "nxretry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESOLV_CONF "/etc/resolv.conf"
#define CACHE_MAX 64
#define TTL_MIN_S 5
#define TTL_MAX_S 3600
#define FAILED_MAX 16
#define FAILED_S 5 /* a zone not found is not looked for again sooner */

struct entry {
	char key[NX_NAMEMAX]; /* configured suffix, or a child zone's apex */
	struct nx_authority auth;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry cache[CACHE_MAX];
static int ncache;
/* Zones whose servers could not be found, each until then: a program
 * asking for many of their names meanwhile neither repeats the system
 * resolver's queries nor the warning that said why. */
static struct {
	char suffix[NX_NAMEMAX];
	int64_t until_ms;
} failed[FAILED_MAX];

void nx_authority_lock(void) { pthread_mutex_lock(&lock); }
void nx_authority_unlock(void) { pthread_mutex_unlock(&lock); }

void nx_authority_reset(void)
{
	pthread_mutex_init(&lock, NULL);
	ncache = 0;
	memset(failed, 0, sizeof failed);
}

void nx_authority_forget(const char *key)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < ncache; i++)
		if (!strcmp(cache[i].key, key)) {
			cache[i] = cache[--ncache];
			break;
		}
	pthread_mutex_unlock(&lock);
}

static void remember(const char *key, const struct nx_authority *a)
{
	pthread_mutex_lock(&lock);
	int slot = -1;
	for (int i = 0; i < ncache && slot < 0; i++)
		if (!strcmp(cache[i].key, key))
			slot = i;
	if (slot < 0)
		slot = ncache < CACHE_MAX ? ncache++ : (int)(nx_random_unit() * CACHE_MAX);
	snprintf(cache[slot].key, sizeof cache[slot].key, "%s", key);
	cache[slot].auth = *a;
	pthread_mutex_unlock(&lock);
}

static void remember_failure(const char *suffix)
{
	int64_t now = nx_now_ms();
	pthread_mutex_lock(&lock);
	int slot = 0; /* the same zone's, else the one expiring first */
	for (int i = 0; i < FAILED_MAX; i++) {
		if (!strcmp(failed[i].suffix, suffix)) {
			slot = i;
			break;
		}
		if (failed[i].until_ms < failed[slot].until_ms)
			slot = i;
	}
	snprintf(failed[slot].suffix, sizeof failed[slot].suffix, "%s", suffix);
	failed[slot].until_ms = now + FAILED_S * 1000;
	pthread_mutex_unlock(&lock);
}

static bool failed_lately(const char *suffix)
{
	int64_t now = nx_now_ms();
	bool lately = false;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < FAILED_MAX && !lately; i++)
		lately = failed[i].until_ms > now && !strcmp(failed[i].suffix, suffix);
	pthread_mutex_unlock(&lock);
	return lately;
}

/* The deepest live entry whose key holds name, within the zone's suffix. */
static bool recall(const char *suffix, const char *name, struct nx_authority *out)
{
	int64_t now = nx_now_ms();
	int best = -1;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < ncache; i++) {
		if (cache[i].auth.expires_ms <= now) {
			cache[i--] = cache[--ncache];
			continue;
		}
		if (nx_name_under(name, cache[i].key) && nx_name_under(cache[i].key, suffix) &&
		    (best < 0 || strlen(cache[i].key) > strlen(cache[best].key)))
			best = i;
	}
	if (best >= 0)
		*out = cache[best].auth;
	pthread_mutex_unlock(&lock);
	return best >= 0;
}

/* Asks the system resolver (RD=1), server after server, for a definitive reply. */
static enum nx_status ask_system(const struct nx_config *c, const char *name, const int *qtypes,
				 int nq, int64_t deadline_ms, struct nx_reply *out)
{
	struct nx_nameserver sys[NX_MAXRESOLVERS];
	int n = c->nresolvers;
	if (n > 0) /* the stub's upstreams: resolv.conf may name the stub itself */
		memcpy(sys, c->resolvers, sizeof sys[0] * (size_t)n);
	else
		n = nx_system_servers(RESOLV_CONF, sys, 3); /* MAXNS in glibc's resolver */
	/* A recursive resolver may have to walk the tree: give it longer. */
	int timeout_ms = (int)(c->query_timeout * 1000 * 2.5);
	enum nx_status st = NX_TIMEOUT;
	for (int i = 0; i < n; i++) {
		if (nx_probe(&sys[i], name, qtypes, nq, true, timeout_ms, deadline_ms, out))
			return NX_ERROR;
		st = out[0].status;
		for (int q = 1; q < nq; q++)
			if (out[q].status == NX_ANSWER)
				st = NX_ANSWER;
		if (st == NX_ANSWER || st == NX_NXDOMAIN || st == NX_NODATA || st == NX_CNAME)
			return st;
	}
	return st;
}

/* An address of nameserver number host (rounds ask each host once). */
static void add_server(struct nx_authority *a, const struct nx_addr *addr, uint16_t port, int host)
{
	for (int i = 0; i < a->nservers; i++)
		if (a->servers[i].port == port && a->servers[i].addr.family == addr->family &&
		    !memcmp(a->servers[i].addr.bytes, addr->bytes, 16))
			return;
	if (a->nservers < NX_MAXSERVERS) {
		a->host[a->nservers] = host;
		a->servers[a->nservers++] = (struct nx_nameserver){*addr, port};
		if (host >= a->nhosts)
			a->nhosts = host + 1;
	}
}

/* Addresses of a nameserver's host name through the system resolver. */
static uint32_t resolve_host(const struct nx_config *c, const char *host, uint16_t port,
			     int number, int64_t deadline_ms, struct nx_authority *a)
{
	static const int both[] = {NX_T_A, NX_T_AAAA};
	struct nx_reply *r = calloc(2, sizeof *r); /* ~11 KiB: off small thread stacks */
	uint32_t ttl = TTL_MAX_S;
	if (!r)
		return ttl;
	ask_system(c, host, both, 2, deadline_ms, r);
	for (int q = 0; q < 2; q++) {
		if (r[q].status != NX_ANSWER)
			continue;
		for (int i = 0; i < r[q].naddrs; i++)
			add_server(a, &r[q].addrs[i], port, number);
		if (r[q].ttl < ttl)
			ttl = r[q].ttl;
	}
	free(r);
	return ttl;
}

_Static_assert(NX_MAXNS <= 32, "nx_authority_glue: one bit per NS name");

uint32_t nx_authority_glue(const struct nx_reply *ns, struct nx_authority *a)
{
	uint32_t unglued = 0;
	for (int i = 0; i < ns->nglue; i++)
		add_server(a, &ns->glue[i], 53, ns->glue_ns[i]);
	for (int i = 0; i < ns->nns; i++) {
		bool glued = false;
		for (int g = 0; g < ns->nglue; g++)
			glued |= ns->glue_ns[g] == i;
		if (!glued)
			unglued |= 1u << i;
	}
	return unglued;
}

/* Whether server i goes before server j: by nameserver, IPv4 first, then
 * by address. */
static bool server_before(const struct nx_authority *a, int i, int j)
{
	const struct nx_nameserver *x = &a->servers[i], *y = &a->servers[j];
	if (a->host[i] != a->host[j])
		return a->host[i] < a->host[j];
	if (x->addr.family != y->addr.family)
		return x->addr.family == AF_INET;
	int c = memcmp(x->addr.bytes, y->addr.bytes, 16);
	return c ? c < 0 : x->port < y->port;
}

/* One order for the same servers, whatever order the resolver sent the
 * glue and addresses in (Unbound rotates RRsets; A and AAAA lookups end in
 * either order): rounds and `nxretry --check` then see the same list. */
static void sort_servers(struct nx_authority *a)
{
	for (int i = 1; i < a->nservers; i++)
		for (int j = i; j > 0 && server_before(a, j, j - 1); j--) {
			struct nx_nameserver s = a->servers[j];
			int h = a->host[j];
			a->servers[j] = a->servers[j - 1];
			a->host[j] = a->host[j - 1];
			a->servers[j - 1] = s;
			a->host[j - 1] = h;
		}
}

/* Glue first, then lookups for the names without glue. */
static uint32_t servers_of(const struct nx_config *c, const struct nx_reply *ns,
			   int64_t deadline_ms, struct nx_authority *a)
{
	uint32_t ttl = ns->ns_ttl, unglued = nx_authority_glue(ns, a);
	for (int i = 0; i < ns->nns; i++) {
		if (!(unglued >> i & 1))
			continue;
		uint32_t t = resolve_host(c, ns->ns[i], 53, i, deadline_ms, a);
		if (t < ttl)
			ttl = t;
	}
	sort_servers(a);
	return ttl;
}

static void set_expiry(struct nx_authority *a, uint32_t ttl_s)
{
	if (ttl_s < TTL_MIN_S)
		ttl_s = TTL_MIN_S;
	if (ttl_s > TTL_MAX_S)
		ttl_s = TTL_MAX_S;
	a->expires_ms = nx_now_ms() + (int64_t)ttl_s * 1000;
}

static int pinned(const struct nx_config *c, const struct nx_zone *z, int64_t deadline_ms,
		  struct nx_authority *a)
{
	uint32_t ttl = TTL_MAX_S;
	snprintf(a->apex, sizeof a->apex, "%s", z->suffix);
	for (int i = 0; i < z->nservers; i++) /* each numeric one a host of its own */
		add_server(a, &z->servers[i].addr, z->servers[i].port, i);
	for (int i = 0; i < z->nserver_names; i++) {
		uint32_t t = resolve_host(c, z->server_names[i], z->server_name_ports[i],
					  z->nservers + i, deadline_ms, a);
		if (t < ttl)
			ttl = t;
	}
	set_expiry(a, ttl);
	if (!a->nservers) {
		nx_log(NX_LOG_WARN, "%s: none of the pinned nameservers has an address", z->suffix);
		return -1;
	}
	return 0;
}

enum nx_apex nx_authority_apex(const char *suffix, enum nx_status st, const struct nx_reply *r,
				char apex[NX_NAMEMAX])
{
	bool definitive = st == NX_ANSWER || st == NX_NODATA || st == NX_NXDOMAIN;
	/* Only the suffix's own zone or one above it holds the suffix's names:
	 * the zone of a CNAME target elsewhere does not. */
	if (definitive && r->has_soa && nx_name_under(suffix, r->soa_owner)) {
		/* A configured zone is never the root: its SOA says no zone
		 * holds the name (a TLD the resolver does not know). */
		if (!r->soa_owner[0])
			return NX_APEX_ROOT;
		snprintf(apex, NX_NAMEMAX, "%s", r->soa_owner);
		return NX_APEX_FOUND;
	}
	/* The name asked is an alias: no zone starts at it (RFC 1034 §3.6.2),
	 * its own is above it. */
	if ((st == NX_ANSWER && r->chain > 0) || st == NX_CNAME)
		return NX_APEX_PARENT;
	return NX_APEX_NONE;
}

static int discover(const struct nx_config *c, const struct nx_zone *z, int64_t deadline_ms,
		    struct nx_authority *a)
{
	static const int soa[] = {NX_T_SOA}, ns[] = {NX_T_NS};
	struct nx_reply r;
	const char *asked = z->suffix;
	for (;;) {
		enum nx_status st = ask_system(c, asked, soa, 1, deadline_ms, &r);
		enum nx_apex found = nx_authority_apex(z->suffix, st, &r, a->apex);
		if (found == NX_APEX_FOUND)
			break;
		const char *dot = strchr(asked, '.');
		if (found == NX_APEX_PARENT && dot) {
			nx_log(NX_LOG_DEBUG, "%s: %s is an alias (of %s): asking for the zone above it",
			       z->suffix, asked, r.canon);
			asked = dot + 1;
			continue;
		}
		if (found == NX_APEX_ROOT)
			nx_log(NX_LOG_WARN, "%s: cannot find the zone: the system resolver gave the "
			       "root's SOA for %s (no such zone there, or a broken resolver)",
			       z->suffix, asked);
		else if (r.has_soa && (st == NX_ANSWER || st == NX_NODATA || st == NX_NXDOMAIN))
			nx_log(NX_LOG_WARN, "%s: cannot find the zone: the system resolver's SOA for %s "
			       "is that of %s, not of %s or a zone above it", z->suffix, asked,
			       r.soa_owner, z->suffix);
		else
			nx_log(NX_LOG_WARN, "%s: cannot find the zone: the system resolver's SOA query "
			       "gave %s", z->suffix, nx_status_name(st));
		return -1;
	}
	enum nx_status st = ask_system(c, a->apex, ns, 1, deadline_ms, &r);
	if (st != NX_ANSWER || !r.nns) {
		nx_log(NX_LOG_WARN, "%s: cannot find the nameservers of %s: NS query gave %s",
		       z->suffix, a->apex, nx_status_name(st));
		return -1;
	}
	set_expiry(a, servers_of(c, &r, deadline_ms, a));
	if (!a->nservers) {
		nx_log(NX_LOG_WARN, "%s: no address for any nameserver of %s", z->suffix, a->apex);
		return -1;
	}
	return 0;
}

int nx_authority_for(const struct nx_config *c, const struct nx_zone *zone, const char *name,
		     int64_t deadline_ms, struct nx_authority *out)
{
	if (recall(zone->suffix, name, out))
		return 0;
	memset(out, 0, sizeof *out);
	if (failed_lately(zone->suffix)) {
		nx_log(NX_LOG_DEBUG, "%s: %s: its servers could not be found moments ago (said then)",
		       name, zone->suffix);
		return -1;
	}
	int rc = (zone->nservers || zone->nserver_names) ? pinned(c, zone, deadline_ms, out)
							 : discover(c, zone, deadline_ms, out);
	/* Not when the deadline was spent before it could finish (a CNAME
	 * target's lookup late in its name's wait): the zone is not at fault. */
	if (rc && nx_now_ms() < deadline_ms)
		remember_failure(zone->suffix);
	if (rc == 0) {
		char list[256] = "";
		size_t used = 0;
		for (int i = 0; i < out->nservers && used < sizeof list - 48; i++) {
			char s[64];
			nx_nameserver_format(&out->servers[i], s, sizeof s);
			used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? " " : "", s);
		}
		nx_log(NX_LOG_DEBUG, "%s: zone %s, servers %s", zone->suffix, out->apex, list);
		remember(zone->suffix, out);
	}
	return rc;
}

int nx_authority_from_referral(const struct nx_config *c, const struct nx_reply *r,
			       int64_t deadline_ms, struct nx_authority *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->apex, sizeof out->apex, "%s", r->next);
	set_expiry(out, servers_of(c, r, deadline_ms, out));
	if (!out->nservers)
		return -1;
	remember(out->apex, out);
	return 0;
}
