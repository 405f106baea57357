/* The preloaded entry points. This library is loaded into every process a
 * test runner starts (sh, make, cc...), so it is thin: no constructor, no
 * c-ares, no libconfig, nothing but a call through to libc until libc
 * fails a lookup with "no such name" or "no data". Only then is the engine
 * (libnxretry-engine.so, beside this file) loaded. */
#include "nxretry.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define ENGINE_FILE "libnxretry-engine.so"
#define HOSTENT_BUF 8192 /* NX_MAXADDRS addresses and two names fit */

/* Set while this thread is inside nxretry: lookups made from there (the
 * engine's own, or a libc module's) go straight to libc. */
static __thread int inside;

/* The next definition of a symbol (libc's), looked up once. */
static void *next_symbol(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!f) {
		f = dlsym(RTLD_NEXT, name);
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

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static const struct nx_engine *engine;

static void say(const char *what, const char *detail)
{
	const char *level = secure_getenv("NXRETRY_LOG");
	if (level && !strcmp(level, "off"))
		return;
	char line[1024];
	int n = snprintf(line, sizeof line, "nxretry: %s: %s\n", what, detail);
	if (n > 0) {
		ssize_t w = write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		(void)w;
	}
}

static void load_engine(void)
{
	/* setuid/setgid: the environment belongs to someone else. */
	if (getauxval(AT_SECURE))
		return;
	Dl_info self;
	char path[4096];
	if (!dladdr((void *)load_engine, &self) || !self.dli_fname) {
		say("cannot locate libnxretry.so", "dladdr failed");
		return;
	}
	const char *slash = strrchr(self.dli_fname, '/');
	int dir = slash ? (int)(slash - self.dli_fname + 1) : 0;
	if (snprintf(path, sizeof path, "%.*s%s", dir, self.dli_fname, ENGINE_FILE) >= (int)sizeof path)
		return;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		say("cannot load the engine", dlerror());
		return;
	}
	nx_engine_open_fn open;
	*(void **)&open = dlsym(h, NX_ENGINE_SYMBOL);
	struct nx_libc libc = {real_getaddrinfo(), real_freeaddrinfo()};
	const struct nx_engine *e = open ? open(&libc) : NULL;
	if (!e)
		say("cannot start the engine", path);
	__atomic_store_n(&engine, e, __ATOMIC_RELEASE);
}

/* Marks this thread as inside nxretry and returns the engine, loading it
 * on first use; NULL when it is unavailable. The caller clears `inside`. */
static const struct nx_engine *enter(void)
{
	inside = 1;
	pthread_once(&engine_once, load_engine);
	return __atomic_load_n(&engine, __ATOMIC_ACQUIRE);
}

EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	nx_gai_fn real = real_getaddrinfo();
	if (!real)
		return EAI_SYSTEM;
	int rc = real(node, service, hints, res);
	if ((rc != EAI_NONAME && rc != EAI_NODATA) || !node || inside)
		return rc;
	const struct nx_engine *e = enter();
	if (e)
		rc = e->getaddrinfo(node, service, hints, res, rc);
	inside = 0;
	return rc;
}

/* The reentrant forms: libc found nothing when it returned 0 with a NULL
 * result; h_errno says whether the name or only the data is missing. */
static int hostent_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
		     struct hostent **result, int *h_errnop, int rc)
{
	if (rc != 0 || *result || !name || inside ||
	    (*h_errnop != HOST_NOT_FOUND && *h_errnop != NO_DATA))
		return rc;
	const struct nx_engine *e = enter();
	int got = e ? e->hostent(name, af, ret, buf, buflen, h_errnop) : -1;
	inside = 0;
	if (got == 0) {
		*result = ret;
		*h_errnop = NETDB_SUCCESS;
		return 0;
	}
	if (got == ERANGE) {
		*h_errnop = NETDB_INTERNAL;
		errno = ERANGE;
		return ERANGE;
	}
	return rc;
}

EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
			    size_t buflen, struct hostent **result, int *h_errnop)
{
	int rc = real_gethostbyname2_r()(name, af, ret, buf, buflen, result, h_errnop);
	return hostent_r(name, af, ret, buf, buflen, result, h_errnop, rc);
}

EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
			   struct hostent **result, int *h_errnop)
{
	int rc = real_gethostbyname_r()(name, ret, buf, buflen, result, h_errnop);
	return hostent_r(name, AF_INET, ret, buf, buflen, result, h_errnop, rc);
}

/* The non-reentrant forms return per-thread storage, as glibc's do. */
static struct hostent *hostent_static(const char *name, int af, struct hostent *libc_result)
{
	static __thread struct hostent he;
	static __thread char *buf;
	if (libc_result || !name || inside || (h_errno != HOST_NOT_FOUND && h_errno != NO_DATA))
		return libc_result;
	int herr = h_errno;
	const struct nx_engine *e = enter();
	int got = -1;
	if (e) {
		if (!buf)
			buf = malloc(HOSTENT_BUF);
		got = buf ? e->hostent(name, af, &he, buf, HOSTENT_BUF, &herr) : -1;
	}
	inside = 0;
	h_errno = got == 0 ? NETDB_SUCCESS : herr;
	return got == 0 ? &he : NULL;
}

EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	return hostent_static(name, af, real_gethostbyname2()(name, af));
}

EXPORT struct hostent *gethostbyname(const char *name)
{
	return hostent_static(name, AF_INET, real_gethostbyname()(name));
}

EXPORT void freeaddrinfo(struct addrinfo *ai)
{
	/* Lists the engine built go back to it; libc's go to libc. */
	const struct nx_engine *e = __atomic_load_n(&engine, __ATOMIC_ACQUIRE);
	if (e && e->release(ai))
		return;
	nx_freeai_fn real = real_freeaddrinfo();
	if (real)
		real(ai);
}
