/* The preloaded entry points. This library is loaded into every process a
 * test runner starts (sh, make, cc...), so it is thin: no constructor, no
 * c-ares, no libconfig, nothing but a call through to libc until libc
 * fails a lookup with "no such name" or "no data". Only then is the engine
 * (libnxretry-engine.so, beside this file) loaded. */
#include "nxretry.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define ENGINE_FILE "libnxretry-engine.so"

/* Set while this thread is inside nxretry: lookups made from there (the
 * engine's own, or a libc module's) go straight to libc. */
static __thread int inside;

static nx_gai_fn real_getaddrinfo(void)
{
	static void *fn;
	void *f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	if (!f) {
		f = dlsym(RTLD_NEXT, "getaddrinfo");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	nx_gai_fn out;
	memcpy(&out, &f, sizeof f);
	return out;
}

static nx_freeai_fn real_freeaddrinfo(void)
{
	static void *fn;
	void *f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
	if (!f) {
		f = dlsym(RTLD_NEXT, "freeaddrinfo");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	nx_freeai_fn out;
	memcpy(&out, &f, sizeof f);
	return out;
}

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

EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	nx_gai_fn real = real_getaddrinfo();
	if (!real)
		return EAI_SYSTEM;
	int rc = real(node, service, hints, res);
	if ((rc != EAI_NONAME && rc != EAI_NODATA) || !node || inside)
		return rc;
	inside = 1;
	pthread_once(&engine_once, load_engine);
	const struct nx_engine *e = __atomic_load_n(&engine, __ATOMIC_ACQUIRE);
	if (e)
		rc = e->getaddrinfo(node, service, hints, res, rc);
	inside = 0;
	return rc;
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
