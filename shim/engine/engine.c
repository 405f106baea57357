/* The engine: loaded by hooks.c on the first lookup that needs it. For
 * each lookup it reads as a sequence: does the engine take it at all
 * (configuration, hosts file, the host's families), what the authority
 * says of the name (lookup.c), and what that outcome means for the caller
 * (conclude). In fallback mode anything short of an answer leaves libc's
 * own answer standing; in first mode libc is asked only when the
 * authority cannot settle the question. */
#include "nxretry.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTS_FILE "/etc/hosts"

static struct nx_once load_once = {NX_ONCE_NEW, 1};
static struct nx_config cfg;
static bool ready;
static struct nx_libc libc;

static const char *env_get(const char *name) { return secure_getenv(name); }

/* fork() while another thread is inside one of the shared tables (the
 * result registry mid-realloc, say) would give the child a table half
 * written. The tables' locks are taken before fork, always in this order
 * (the one nesting, a flight looking in the memo, follows it too),
 * released after it in the parent, and set up anew in the child. */
static void before_fork(void)
{
	nx_flight_lock();
	nx_memo_lock();
	nx_authority_lock();
	nx_result_lock();
}

static void after_fork_parent(void)
{
	nx_result_unlock();
	nx_authority_unlock();
	nx_memo_unlock();
	nx_flight_unlock();
}

static void after_fork_child(void)
{
	nx_nameserver_reset();
	nx_authority_reset();
	nx_result_reset();
	nx_memo_reset();
	nx_flight_reset();
}

static void load(void)
{
	if (nx_config_load(&cfg, env_get) != 0) {
		nx_log(NX_LOG_ERROR, "configuration rejected: lookups go to libc alone");
		return;
	}
	/* Once per process image: a fork child that runs load again (its
	 * parent's thread was inside it) inherits the handlers. */
	static bool handlers;
	if (!handlers)
		handlers = pthread_atfork(before_fork, after_fork_parent, after_fork_child) == 0;
	ready = cfg.enabled;
}

static bool configured(void)
{
	nx_once(&load_once, load);
	return ready;
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

/* The codes glibc gives for the outcomes the authority can correct: an
 * EAI_* for getaddrinfo, an h_errno for gethostbyname*. */
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

static const struct nx_verdict to_libc = {.final = false};

static struct nx_verdict final(int rc, int herr)
{
	return (struct nx_verdict){.final = true, .rc = rc, .herr = herr};
}

/* What an outcome other than addresses means for the caller: final with
 * the code (getaddrinfo's rc, or the hostent forms' herr), or libc's.
 * libc_asked: fallback mode, where libc's own "no such name" stands unless
 * the authority says better. */
static struct nx_verdict conclude(enum nx_outcome o, bool libc_asked, const struct codes *c)
{
	switch (o) {
	case NX_OUT_NODATA: /* the stale NXDOMAIN corrected, or (first mode) said first */
		return final(c->nodata, c->nodata);
	case NX_OUT_ALIAS_NODATA:
		return final(c->alias_nodata, c->alias_nodata);
	case NX_OUT_ABSENT:
		return libc_asked ? to_libc : final(c->absent, c->absent);
	default:
		return to_libc; /* the authority could not settle it */
	}
}

static struct nx_verdict getaddrinfo_uncancellable(const char *node, const char *service,
						   const struct addrinfo *hints,
						   struct addrinfo **res, const int *libc_rc)
{
	/* 1. Does the engine take this lookup? */
	if (!configured() || !node || (hints && (hints->ai_flags & AI_NUMERICHOST)))
		return to_libc;
	if (libc_rc && *libc_rc != EAI_NONAME && *libc_rc != EAI_NODATA)
		return to_libc;
	if (in_hosts(node))
		return to_libc;
	int flags = hints ? hints->ai_flags : (AI_V4MAPPED | AI_ADDRCONFIG);
	/* AI_ADDRCONFIG on a host with one family: glibc asks for that one. */
	int family = nx_result_family(hints ? hints->ai_family : AF_UNSPEC, flags, libc.getaddrinfo,
				      libc.freeaddrinfo);
	if (!family_configured(family, flags))
		return to_libc;

	/* 2. What the authority says. */
	struct nx_found f;
	nx_lookup(&cfg, &libc, node, family, flags, !libc_rc, &f);

	/* 3. What that means for the caller. */
	if (f.outcome != NX_OUT_FOUND) {
		struct codes c = gai_codes(family, flags);
		return conclude(f.outcome, libc_rc != NULL, &c);
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
		return to_libc;
	}
	return final(0, 0);
}

static struct nx_verdict hostent_uncancellable(const char *name, int af, struct hostent *ret,
					       char *buf, size_t buflen, const int *libc_herr)
{
	/* 1. Does the engine take this lookup? */
	if (!configured() || !name)
		return to_libc;
	if (libc_herr && *libc_herr != HOST_NOT_FOUND && *libc_herr != NO_DATA)
		return to_libc;
	if (in_hosts(name))
		return to_libc;
	/* First mode: glibc's own check of the buffer comes before any
	 * lookup (fallback: libc made it already). */
	if (!libc_herr && !nx_result_hostent_room(name, buflen))
		return final(ERANGE, NETDB_INTERNAL);

	/* 2. What the authority says. */
	struct nx_found f;
	nx_lookup(&cfg, &libc, name, af, 0, !libc_herr, &f);

	/* 3. What that means for the caller. */
	if (f.outcome != NX_OUT_FOUND) {
		struct nx_verdict v = conclude(f.outcome, libc_herr != NULL, &herr_codes);
		v.rc = -1;
		/* glibc's nss_dns: a CNAME and no address is TRYAGAIN with
		 * NO_RECOVERY, so the call fails with EAGAIN (errno too); musl
		 * says NO_DATA. */
		if (f.outcome == NX_OUT_ALIAS_NODATA)
#ifdef __GLIBC__
			v.rc = EAGAIN;
#else
			v.herr = NO_DATA;
#endif
		return v;
	}
	int rc = nx_result_hostent_chain(f.addrs, f.naddrs, name,
					 (const char(*)[NX_NAMEMAX])f.aliases, f.naliases, af, ret, buf,
					 buflen);
	if (rc == -1)
		return to_libc; /* no address of this family: libc's answer */
	return final(rc, rc ? NETDB_INTERNAL : NETDB_SUCCESS);
}

/* The entry points are not cancellation points: a thread cancelled
 * mid-wait would leave locks held and a shared wait without its leader.
 * A pending cancel takes effect at the caller's next cancellation point.
 * Nor do signal handlers run inside them but in their waits (call.c). */
static struct nx_verdict engine_getaddrinfo(const char *node, const char *service,
					    const struct addrinfo *hints, struct addrinfo **res,
					    const int *libc_rc)
{
	if (!nx_call_begin())
		return to_libc;
	struct nx_verdict v = getaddrinfo_uncancellable(node, service, hints, res, libc_rc);
	nx_call_end();
	return v;
}

static struct nx_verdict engine_hostent(const char *name, int af, struct hostent *ret, char *buf,
					size_t buflen, const int *libc_herr)
{
	if (!nx_call_begin())
		return to_libc;
	struct nx_verdict v = hostent_uncancellable(name, af, ret, buf, buflen, libc_herr);
	nx_call_end();
	return v;
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
	if (!nx_call_begin())
		return false;
	bool first = configured() && cfg.mode == NX_MODE_FIRST;
	nx_call_end();
	return first;
}

static bool engine_release(struct addrinfo *ai)
{
	return nx_result_release(ai, libc.freeaddrinfo);
}

static const struct nx_engine engine = {
	.getaddrinfo = engine_getaddrinfo,
	.release = engine_release,
	.hostent = engine_hostent,
	.first = engine_first,
	.thread_buffer = engine_thread_buffer,
	.abandon = nx_call_abandon,
};

__attribute__((visibility("default"))) const struct nx_engine *
nxretry_engine_v3(const struct nx_libc *real)
{
	libc = *real;
	if (libc.log_usable)
		nx_log_check_with(libc.log_usable);
	return &engine;
}
