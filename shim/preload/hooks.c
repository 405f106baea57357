/* The preloaded entry points. This library is loaded into every process a
 * test runner starts (sh, make, cc...), so it is thin: no constructor, no
 * c-ares, no libconfig, nothing but a call through to libc until libc
 * fails a lookup with "no such name" or "no data". Only then is the engine
 * (libnxretry-engine.so, beside this file) loaded. */
#include "nxretry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define COLD __attribute__((noinline, cold)) /* keeps the hooks' fast path short */
#define ENGINE_FILE "libnxretry-engine.so"
#define DEFAULT_CONFIG "/etc/nxretry.conf"
#define HOSTENT_BUF 8192 /* NX_MAXADDRS addresses and two names fit */

/* Set while this thread is inside nxretry: lookups made from there (the
 * engine's own, or a libc module's) go straight to libc. */
static __thread int inside __attribute__((tls_model("initial-exec")));

/* The next definition of a symbol (libc's), looked up once. */
static void *next_symbol(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!f) {
		f = nx_next_symbol(name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

#define REAL(type, name)                                                                  \
	static type real_##name(void)                                                    \
	{                                                                                 \
		static void *slot;                                                        \
		void *f = next_symbol(&slot, #name);                                      \
		type fn;                                                                  \
		memcpy(&fn, &f, sizeof fn);                                               \
		return fn;                                                                \
	}

typedef int (*gethostbyname2_r_fn)(const char *, int, struct hostent *, char *, size_t,
				   struct hostent **, int *);
typedef int (*gethostbyname_r_fn)(const char *, struct hostent *, char *, size_t,
				  struct hostent **, int *);
typedef struct hostent *(*gethostbyname2_fn)(const char *, int);
typedef struct hostent *(*gethostbyname_fn)(const char *);

REAL(nx_gai_fn, getaddrinfo)
REAL(nx_freeai_fn, freeaddrinfo)
REAL(gethostbyname2_r_fn, gethostbyname2_r)
REAL(gethostbyname_r_fn, gethostbyname_r)
REAL(gethostbyname2_fn, gethostbyname2)
REAL(gethostbyname_fn, gethostbyname)

static struct nx_once engine_once = {NX_ONCE_NEW, 1};
static const struct nx_engine *engine;
static void *free_fast; /* libc's freeaddrinfo, while the engine is not loaded */

static void say(const char *what, const char *detail)
{
	const char *level = secure_getenv("NXRETRY_LOG");
	if ((level && !strcmp(level, "off")) || !nx_log_usable())
		return;
	char safe[512], line[1024];
	nx_escape(safe, sizeof safe, detail); /* a path from LD_PRELOAD, dlerror()'s text */
	int n = snprintf(line, sizeof line, "nxretry: %s: %s\n", what, safe);
	if (n > 0) {
		ssize_t w = write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		(void)w;
	}
}

/* The engine is built for one libc: a library built for glibc, preloaded
 * into a musl program (or the reverse), passes every call through and
 * says so once, when a lookup first concerns it. */
static bool foreign_libc(void)
{
#ifdef __GLIBC__
	return !nx_libc_is_glibc();
#else
	return nx_libc_is_glibc();
#endif
}

static void load_engine(void)
{
	/* setuid/setgid: the environment belongs to someone else. */
	if (getauxval(AT_SECURE))
		return;
	if (foreign_libc()) {
		say("not built for this process's C library", "lookups go to libc unchanged");
		return;
	}
	char self[4096], path[4096];
	if (!nx_self_path(self, sizeof self)) {
		say("cannot locate libnxretry.so", "no absolute path (no /proc/self/maps)");
		return;
	}
	const char *slash = strrchr(self, '/');
	int dir = slash ? (int)(slash - self + 1) : 0;
	if (snprintf(path, sizeof path, "%.*s%s", dir, self, ENGINE_FILE) >= (int)sizeof path)
		return;
	nx_engine_open_fn open;
	const char *why;
	void *entry = nx_load_object(path, NX_ENGINE_SYMBOL, &why);
	if (!entry) {
		say("cannot load the engine", why);
		return;
	}
	memcpy(&open, &entry, sizeof entry);
	struct nx_libc libc = {real_getaddrinfo(), real_freeaddrinfo(), nx_log_usable};
	const struct nx_engine *e = open(&libc);
	if (!e)
		say("cannot start the engine", path);
	__atomic_store_n(&engine, e, __ATOMIC_SEQ_CST);
	/* From now on a list may be the engine's: freeaddrinfo asks it. */
	__atomic_store_n(&free_fast, NULL, __ATOMIC_SEQ_CST);
}

/* Marks this thread as inside nxretry and returns the engine, loading it
 * on first use; NULL when it is unavailable. The caller calls leave(). */
static const struct nx_engine *enter(void)
{
	inside = 1;
	nx_once(&engine_once, load_engine);
	return __atomic_load_n(&engine, __ATOMIC_ACQUIRE);
}

static void leave(void)
{
	inside = 0;
}

/* Whether this call is nested in nxretry's own work on this thread (an
 * NSS module's lookup, a signal handler's): it then goes to libc. A mark
 * left by a lookup the program left with siglongjmp is not: the engine
 * tells, and releases what that lookup held. */
static COLD bool nested_slow(void)
{
	const struct nx_engine *e = __atomic_load_n(&engine, __ATOMIC_ACQUIRE);
	if (e && !e->abandon(__builtin_frame_address(0)))
		return true;
	inside = 0;
	return false;
}

static inline bool nested(void)
{
	return inside && nested_slow();
}

/* What this process asked of nxretry, decided on its first lookup (never
 * at load time). Without a configuration file the environment says it
 * all: with no NXRETRY_ZONES nothing concerns nxretry, and names outside
 * them never load the engine. A file, or a value only the engine can
 * judge (and report), leaves each decision to the engine. */
enum scope_kind { SCOPE_NONE, SCOPE_ZONES, SCOPE_ENGINE };

struct scope {
	enum scope_kind kind;
	bool first; /* mode "first" */
	int nzones;
	/* In the library's own storage, never the program's heap: an
	 * allocation at the first lookup would move every later buffer of the
	 * program (and its cost: libc's string functions on other
	 * alignments). */
	char zones[NX_MAXZONES][NX_NAMEMAX];
	size_t lens[NX_MAXZONES];
};

static struct scope scope;
static struct nx_once scope_once = {NX_ONCE_NEW, 2};

/* The zones into s; the kind of scope they make. */
static enum scope_kind scope_from_zones(struct scope *s, const char *text)
{
	char why[NX_NAMEMAX + 64];
	int n = nx_zone_list(text, s->zones, NX_MAXZONES, why, sizeof why);
	if (n < 0)
		return SCOPE_ENGINE; /* the engine reports the mistake */
	for (int i = 0; i < n; i++)
		s->lens[i] = strlen(s->zones[i]);
	s->nzones = n;
	return n ? SCOPE_ZONES : SCOPE_NONE;
}

/* Fills scope in place (8 KB: not on the stack of a thread a program may
 * have made small), its kind last: a lookup nested in this one reads
 * SCOPE_NONE until then. */
static void decide_scope(void)
{
	struct scope *s = &scope;
	nx_log_usable(); /* records what fd 2 is at the first lookup */
	/* setuid/setgid: the environment belongs to someone else. */
	if (getauxval(AT_SECURE))
		return;
	/* Blank values are unset, as the engine reads them. */
	const char *mode = secure_getenv("NXRETRY_MODE");
	const char *file = secure_getenv("NXRETRY_CONFIG");
	const char *zones = secure_getenv("NXRETRY_ZONES");
	mode = nx_env_blank(mode) ? NULL : mode;
	file = nx_env_blank(file) ? NULL : file;
	zones = nx_env_blank(zones) ? NULL : zones;
	bool mode_known = !mode || !strcmp(mode, "fallback") || !strcmp(mode, "first");
	enum scope_kind kind = SCOPE_NONE;
	if (file || access(DEFAULT_CONFIG, F_OK) == 0 || !mode_known) {
		kind = SCOPE_ENGINE;
		const struct nx_engine *e = enter();
		s->first = e && e->first();
		leave();
	} else {
		s->first = mode && !strcmp(mode, "first");
		if (zones)
			kind = scope_from_zones(s, zones);
	}
	s->kind = kind;
}

static const struct scope *get_scope(void)
{
	nx_once(&scope_once, decide_scope);
	return &scope;
}

/* Whether a name may concern nxretry at all. */
static bool concerns(const char *node)
{
	const struct scope *s = get_scope();
	if (!node || s->kind == SCOPE_NONE)
		return false;
	if (s->kind == SCOPE_ENGINE)
		return true;
	/* A suffix compare in place, no copy: this runs on every failed
	 * lookup of the process. The engine checks the name in full. */
	size_t len = strlen(node);
	if (len && node[len - 1] == '.')
		len--;
	for (int i = 0; i < s->nzones; i++) {
		size_t zl = s->lens[i];
		if (len >= zl && !strncasecmp(node + len - zl, s->zones[i], zl) &&
		    (len == zl || node[len - zl - 1] == '.'))
			return true;
	}
	return false;
}

static bool first_mode(void)
{
	return get_scope()->first;
}

/* Whether a lookup with these hints can succeed at all, whatever the name:
 * libc is asked the same with a numeric host. glibc refuses AI_NUMERICSERV
 * with a named service ("http"), an unknown service or a socket type the
 * service lacks before any lookup, some of them with EAI_NONAME: such a
 * failure is not about the name, and no authority can change it.
 * AI_ADDRCONFIG is left out: whether the host has an address of the family
 * is libc's to apply to the answer, not a property of the hints. */
static COLD bool hints_can_succeed(const char *service, const struct addrinfo *hints)
{
	struct addrinfo h = {.ai_flags = AI_V4MAPPED}; /* glibc's for NULL hints, less ADDRCONFIG */
	if (hints) {
		h.ai_flags = hints->ai_flags;
		h.ai_family = hints->ai_family;
		h.ai_socktype = hints->ai_socktype;
		h.ai_protocol = hints->ai_protocol;
	}
	h.ai_flags = (h.ai_flags | AI_NUMERICHOST) & ~(AI_ADDRCONFIG | AI_CANONNAME);
	struct addrinfo *r = NULL;
	int rc = real_getaddrinfo()(h.ai_family == AF_INET6 ? "::1" : "127.0.0.1", service, &h, &r);
	if (rc == 0)
		real_freeaddrinfo()(r);
	return rc == 0;
}

/* Mode first, before libc: true when the engine's answer is the caller's
 * (*rc its code); false when libc must answer. */
static COLD bool getaddrinfo_first(const char *node, const char *service,
				   const struct addrinfo *hints, struct addrinfo **res, int *rc)
{
	if (!concerns(node) || !hints_can_succeed(service, hints))
		return false;
	const struct nx_engine *e = enter();
	struct nx_verdict v = {.final = false};
	if (e)
		v = e->getaddrinfo(node, service, hints, res, NULL);
	leave();
	*rc = v.rc;
	return v.final;
}

/* After libc said "no such name" or "no data". */
static COLD int getaddrinfo_after(const char *node, const char *service,
				  const struct addrinfo *hints, struct addrinfo **res, int rc)
{
	if (!concerns(node) || !hints_can_succeed(service, hints))
		return rc;
	const struct nx_engine *e = enter();
	if (e) {
		struct nx_verdict v = e->getaddrinfo(node, service, hints, res, &rc);
		if (v.final)
			rc = v.rc;
	}
	leave();
	return rc;
}

/* The pass-through path runs on every lookup of every process: a few loads,
 * the call, two compares. The arguments wait for a failure in this
 * thread's storage rather than in saved registers; a lookup nested inside
 * libc's (an NSS module's) overwrites them, which the failure path detects
 * by res and then leaves libc's answer alone. */
struct gai_call {
	const char *node, *service;
	const struct addrinfo *hints;
	struct addrinfo **res;
};
static __thread struct gai_call gai_call __attribute__((tls_model("initial-exec")));

/* libc's getaddrinfo once the process's mode is known to be fallback. */
static void *gai_fast;

static COLD int getaddrinfo_slow(const char *node, const char *service,
				 const struct addrinfo *hints, struct addrinfo **res)
{
	nx_gai_fn real = real_getaddrinfo();
	if (!real)
		return EAI_SYSTEM;
	bool first = first_mode();
	if (!first)
		__atomic_store_n(&gai_fast, (void *)real, __ATOMIC_RELEASE);
	int rc;
	if (node && first && !nested()) {
		if (getaddrinfo_first(node, service, hints, res, &rc))
			return rc;
		/* The authority had its turn, within the deadline: libc's
		 * answer is final, or the deadline would be paid twice. */
		return real(node, service, hints, res);
	}
	rc = real(node, service, hints, res);
	if ((rc != EAI_NONAME && rc != EAI_NODATA) || !node || nested())
		return rc;
	return getaddrinfo_after(node, service, hints, res, rc);
}

static COLD int getaddrinfo_failed(struct addrinfo **res, int rc)
{
	struct gai_call c = gai_call;
	if (c.res != res || !c.node || nested())
		return rc;
	return getaddrinfo_after(c.node, c.service, c.hints, c.res, rc);
}

EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	void *f = __atomic_load_n(&gai_fast, __ATOMIC_ACQUIRE);
	if (__builtin_expect(!f, 0))
		return getaddrinfo_slow(node, service, hints, res);
	nx_gai_fn real;
	memcpy(&real, &f, sizeof f);
	gai_call = (struct gai_call){node, service, hints, res};
	int rc = real(node, service, hints, res);
	if (__builtin_expect(rc != EAI_NONAME && rc != EAI_NODATA, 1))
		return rc;
	return getaddrinfo_failed(res, rc);
}

/* Asks the engine for a hostent; libc_herr is the h_errno of libc's
 * failure, or NULL in first mode (libc not asked yet). */
static COLD struct nx_verdict engine_hostent(const char *name, int af, struct hostent *ret,
					     char *buf, size_t buflen, const int *libc_herr)
{
	struct nx_verdict v = {.final = false};
	if (!concerns(name))
		return v;
	const struct nx_engine *e = enter();
	if (e)
		v = e->hostent(name, af, ret, buf, buflen, libc_herr);
	leave();
	return v;
}

/* glibc's gethostbyname*_r end with errno 0 when they found the name, or
 * found it missing; musl's leave it. */
#ifdef __GLIBC__
#define HOSTENT_CLEARS_ERRNO true
#else
#define HOSTENT_CLEARS_ERRNO false
#endif

/* errno as the caller of gethostbyname*(_r) sees it after nxretry had its
 * say: ERANGE or EAGAIN where glibc fails with them; libc's own answer in
 * first mode (libc not asked) as libc would leave it; else what libc left
 * (loading the engine, its sockets and files leave their own behind). */
static void hostent_errno(const struct nx_verdict *v, bool libc_asked, int saved)
{
	if (v->final && (v->rc == ERANGE || v->rc == EAGAIN))
		errno = v->rc;
	else if (v->final && !libc_asked && HOSTENT_CLEARS_ERRNO)
		errno = 0;
	else
		errno = saved;
}

/* The reentrant forms. libc_rc is libc's return, or NULL in first mode
 * (libc not asked yet): libc found nothing when it returned
 * NX_HOSTENT_R_MISS (glibc 0, musl ENOENT) with a NULL result, and
 * h_errno says whether the name or only the data is missing. True when
 * the engine's answer is the caller's, *rc its return. */
static bool hostent_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
		      struct hostent **result, int *h_errnop, const int *libc_rc, int *rc)
{
	int saved = errno;
	if (!name || nested())
		return false;
	if (!libc_rc ? !first_mode()
		     : *libc_rc != NX_HOSTENT_R_MISS || *result ||
			       (*h_errnop != HOST_NOT_FOUND && *h_errnop != NO_DATA))
		return false;
	int libc_herr = libc_rc ? *h_errnop : 0;
	struct nx_verdict v = engine_hostent(name, af, ret, buf, buflen, libc_rc ? &libc_herr : NULL);
	hostent_errno(&v, libc_rc != NULL, saved);
	if (!v.final)
		return false;
	*result = v.rc == 0 ? ret : NULL;
	*h_errnop = v.herr;
	if (v.rc == ERANGE || v.rc == EAGAIN) { /* EAGAIN: glibc's CNAME without an address */
		*rc = v.rc;
	} else {
		*rc = v.rc == 0 ? 0 : NX_HOSTENT_R_MISS;
	}
	return true;
}

EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
			    size_t buflen, struct hostent **result, int *h_errnop)
{
	int rc;
	if (hostent_r(name, af, ret, buf, buflen, result, h_errnop, NULL, &rc))
		return rc;
	int libc_rc = real_gethostbyname2_r()(name, af, ret, buf, buflen, result, h_errnop);
	if (!first_mode() && hostent_r(name, af, ret, buf, buflen, result, h_errnop, &libc_rc, &rc))
		return rc;
	return libc_rc;
}

EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
			   struct hostent **result, int *h_errnop)
{
	int rc;
	if (hostent_r(name, AF_INET, ret, buf, buflen, result, h_errnop, NULL, &rc))
		return rc;
	int libc_rc = real_gethostbyname_r()(name, ret, buf, buflen, result, h_errnop);
	if (!first_mode() &&
	    hostent_r(name, AF_INET, ret, buf, buflen, result, h_errnop, &libc_rc, &rc))
		return rc;
	return libc_rc;
}

/* The non-reentrant forms return per-thread storage, as glibc's do.
 * asked: libc's answer was libc_result (fallback mode); else first mode,
 * before libc. True when the engine's answer is the caller's (*out). */
static bool hostent_static(const char *name, int af, bool asked, struct hostent *libc_result,
			   struct hostent **out)
{
	static __thread struct hostent he __attribute__((tls_model("initial-exec")));
	int saved = errno;
	if (!name || nested())
		return false;
	if (!asked ? !first_mode()
		   : libc_result || (h_errno != HOST_NOT_FOUND && h_errno != NO_DATA))
		return false;
	if (!concerns(name))
		return false;
	const struct nx_engine *e = enter(); /* its per-thread buffer, freed at thread exit */
	char *buf = e ? e->thread_buffer(HOSTENT_BUF) : NULL;
	leave();
	if (!buf) {
		errno = saved;
		return false;
	}
	int libc_herr = h_errno;
	struct nx_verdict v = engine_hostent(name, af, &he, buf, HOSTENT_BUF, asked ? &libc_herr : NULL);
	hostent_errno(&v, asked, saved);
	if (!v.final) {
		h_errno = libc_herr; /* as libc left it: the engine's own lookups may set it */
		return false;
	}
	if (v.rc == 0) {
		/* glibc's own success leaves h_errno as its files module set it,
		 * HOST_NOT_FOUND: after libc's failure it already is; in first
		 * mode it is set so. musl's success says NETDB_SUCCESS. */
#ifdef __GLIBC__
		h_errno = HOST_NOT_FOUND;
#else
		h_errno = NETDB_SUCCESS;
#endif
		*out = &he;
		return true;
	}
	h_errno = v.herr;
	*out = NULL;
	return true;
}

EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	struct hostent *he;
	if (hostent_static(name, af, false, NULL, &he))
		return he;
	struct hostent *libc_he = real_gethostbyname2()(name, af);
	if (!first_mode() && hostent_static(name, af, true, libc_he, &he))
		return he;
	return libc_he;
}

EXPORT struct hostent *gethostbyname(const char *name)
{
	struct hostent *he;
	if (hostent_static(name, AF_INET, false, NULL, &he))
		return he;
	struct hostent *libc_he = real_gethostbyname()(name);
	if (!first_mode() && hostent_static(name, AF_INET, true, libc_he, &he))
		return he;
	return libc_he;
}

static COLD void freeaddrinfo_slow(struct addrinfo *ai)
{
	/* Lists the engine built go back to it; libc's go to libc. */
	const struct nx_engine *e = __atomic_load_n(&engine, __ATOMIC_ACQUIRE);
	if (e && e->release(ai))
		return;
	nx_freeai_fn real = real_freeaddrinfo();
	if (!e) {
		/* The engine may be loading in another thread meanwhile: store,
		 * then look again (both sides sequentially consistent), so the
		 * fast path never outlives its loading. */
		__atomic_store_n(&free_fast, (void *)real, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&engine, __ATOMIC_SEQ_CST))
			__atomic_store_n(&free_fast, NULL, __ATOMIC_SEQ_CST);
	}
	if (real)
		real(ai);
}

EXPORT void freeaddrinfo(struct addrinfo *ai)
{
	void *f = __atomic_load_n(&free_fast, __ATOMIC_ACQUIRE);
	if (__builtin_expect(!f, 0)) {
		freeaddrinfo_slow(ai);
		return;
	}
	nx_freeai_fn real;
	memcpy(&real, &f, sizeof f);
	real(ai);
}
