/* Finding libc's functions and loading the engine without libdl.
 *
 * The preload runs in every process of a test runner, on any glibc from
 * 2.17 and on musl. Importing dlsym/dlopen/dladdr would tie it to one of
 * two homes: glibc >= 2.34 defines them in libc.so.6 (version GLIBC_2.34),
 * older glibc only in libdl.so.2, which many programs never load, and
 * ld.so refuses to start a process whose preload needs a version its libc
 * lacks. Linking libdl as DT_NEEDED costs every process start more than
 * the whole preload does. So the preload imports dl_iterate_phdr alone
 * (glibc 2.2.4, musl) and reads the dynamic symbol tables of the loaded
 * objects itself, the way ld.so does: GNU hash or SysV hash, default
 * version only. Nothing here runs before the first lookup that needs it. */
#include "nxretry.h"

#include <dlfcn.h> /* RTLD_* values only: the same in glibc and musl */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/types.h>

#if __SIZEOF_POINTER__ == 8
#define ST_TYPE ELF64_ST_TYPE
#define ST_BIND ELF64_ST_BIND
#else
#define ST_TYPE ELF32_ST_TYPE
#define ST_BIND ELF32_ST_BIND
#endif

#ifndef STT_GNU_IFUNC
#define STT_GNU_IFUNC 10
#endif
#define VERSYM_HIDDEN 0x8000 /* a non-default version (name@V, not name@@V) */

struct object {
	ElfW(Addr) base;
	const ElfW(Sym) *symtab;
	const char *strtab;
	const uint32_t *gnu_hash;
	const uint32_t *sysv_hash;
	const ElfW(Half) *versym;
};

/* Whether the object holds address a (one of its PT_LOAD segments). */
static bool object_holds(const struct dl_phdr_info *info, ElfW(Addr) a)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		ElfW(Addr) start = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && a - start < ph->p_memsz)
			return true;
	}
	return false;
}

/* A d_ptr as an address: glibc relocates _DYNAMIC in place, musl and the
 * vDSO do not, and an x86-64 vDSO before Linux 3.16 holds link-time
 * addresses (its dlpi_addr wraps, base + p too). The one reading inside
 * the object's own segments is right; neither: NULL. */
static const void *dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) p)
{
	if (object_holds(info, p))
		return (const void *)p;
	if (object_holds(info, info->dlpi_addr + p))
		return (const void *)(info->dlpi_addr + p);
	return NULL;
}

static bool object_open(const struct dl_phdr_info *info, struct object *o)
{
	memset(o, 0, sizeof *o);
	o->base = info->dlpi_addr;
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB: o->symtab = dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_STRTAB: o->strtab = dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_GNU_HASH: o->gnu_hash = dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_HASH: o->sysv_hash = dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_VERSYM: o->versym = dyn_ptr(info, dyn->d_un.d_ptr); break;
		default: break;
		}
	}
	return o->symtab && o->strtab && (o->gnu_hash || o->sysv_hash);
}

/* Calls an IFUNC resolver with the arguments glibc's ld.so passes, which
 * resolvers read to choose: none on x86 (they read cpuid), hwcap on arm,
 * and on aarch64 hwcap | _IFUNC_ARG_HWCAP with the hwcap pair (glibc 2.30;
 * older resolvers see an unused bit). Elsewhere the convention differs
 * (riscv passes a function): no address rather than a wrong call. */
static void *ifunc_resolve(void *resolver)
{
#if defined(__x86_64__) || defined(__i386__)
	void *(*f)(void);
	memcpy(&f, &resolver, sizeof f);
	return f();
#elif defined(__aarch64__)
	struct { unsigned long size, hwcap, hwcap2; } arg = {sizeof arg, getauxval(AT_HWCAP),
							      getauxval(AT_HWCAP2)};
	void *(*f)(unsigned long, const void *);
	memcpy(&f, &resolver, sizeof f);
	return f(arg.hwcap | 1UL << 62, &arg);
#elif defined(__arm__)
	void *(*f)(unsigned long);
	memcpy(&f, &resolver, sizeof f);
	return f(getauxval(AT_HWCAP));
#else
	(void)resolver;
	return NULL;
#endif
}

/* The symbol's address when index i defines name (default version). */
static void *object_match(const struct object *o, uint32_t i, const char *name)
{
	const ElfW(Sym) *s = &o->symtab[i];
	int type = ST_TYPE(s->st_info), bind = ST_BIND(s->st_info);
	if (s->st_shndx == SHN_UNDEF || strcmp(o->strtab + s->st_name, name))
		return NULL;
	if (bind != STB_GLOBAL && bind != STB_WEAK)
		return NULL;
	if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT)
		return NULL;
	if (o->versym && (o->versym[i] & VERSYM_HIDDEN))
		return NULL;
	void *addr = (void *)(o->base + s->st_value);
	return type == STT_GNU_IFUNC ? ifunc_resolve(addr) : addr;
}

static void *object_lookup(const struct object *o, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	if (o->gnu_hash) {
		/* nbuckets, symoffset, bloom words, bloom shift; bloom;
		 * buckets; then one chain word per symbol from symoffset. */
		uint32_t h = 5381;
		for (; *p; p++)
			h = h * 33 + *p;
		const uint32_t *g = o->gnu_hash;
		uint32_t nbuckets = g[0], symoffset = g[1], bloom_words = g[2];
		const uint32_t *buckets =
			(const uint32_t *)((const ElfW(Addr) *)(g + 4) + bloom_words);
		const uint32_t *chain = buckets + nbuckets;
		if (!nbuckets)
			return NULL;
		uint32_t i = buckets[h % nbuckets];
		if (i < symoffset)
			return NULL;
		for (;; i++) {
			uint32_t ch = chain[i - symoffset];
			if ((ch | 1) == (h | 1)) {
				void *addr = object_match(o, i, name);
				if (addr)
					return addr;
			}
			if (ch & 1)
				return NULL;
		}
	}
	/* SysV hash: nbucket, nchain, buckets, chains. */
	uint32_t h = 0;
	for (; *p; p++) {
		h = (h << 4) + *p;
		uint32_t high = h & 0xf0000000u;
		if (high)
			h ^= high >> 24;
		h &= ~high;
	}
	const uint32_t *t = o->sysv_hash;
	uint32_t nbucket = t[0], nchain = t[1];
	if (!nbucket)
		return NULL;
	for (uint32_t i = t[2 + h % nbucket]; i && i < nchain; i = t[2 + nbucket + i]) {
		void *addr = object_match(o, i, name);
		if (addr)
			return addr;
	}
	return NULL;
}

void *nx_object_symbol(const struct dl_phdr_info *info, const char *name)
{
	struct object o;
	return object_open(info, &o) ? object_lookup(&o, name) : NULL;
}

enum walk { WALK_ALL, WALK_AFTER_SELF, WALK_PATH, WALK_SELF_PATH };

struct search {
	enum walk how;
	const char *name;  /* the symbol */
	const char *path;  /* WALK_PATH: the object's file name */
	bool seen_self;
	ElfW(Addr) vdso; /* its ELF header; no search scope of ld.so holds it */
	void *found;
	char *path_out; /* WALK_SELF_PATH */
	size_t path_size;
};

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct search *s = arg;
	(void)size;
	if (s->vdso && object_holds(info, s->vdso))
		return 0;
	bool self = object_holds(info, (ElfW(Addr))visit);
	if (s->how == WALK_SELF_PATH) {
		if (!self)
			return 0;
		const char *n = info->dlpi_name ? info->dlpi_name : "";
		size_t len = strlen(n);
		if (len < s->path_size) {
			memcpy(s->path_out, n, len + 1);
			s->found = s->path_out;
		}
		return 1;
	}
	if (self) {
		s->seen_self = true;
		return 0;
	}
	if (s->how == WALK_AFTER_SELF && !s->seen_self)
		return 0;
	if (s->how == WALK_PATH && (!info->dlpi_name || strcmp(info->dlpi_name, s->path)))
		return 0;
	s->found = nx_object_symbol(info, s->name);
	return s->found != NULL;
}

static void *walk(enum walk how, const char *name, const char *path)
{
	struct search s = {how, name, path, false, getauxval(AT_SYSINFO_EHDR), NULL, NULL, 0};
	dl_iterate_phdr(visit, &s);
	return s.found;
}

void *nx_next_symbol(const char *name)
{
	return walk(WALK_AFTER_SELF, name, NULL);
}

bool nx_libc_is_glibc(void)
{
	return walk(WALK_ALL, "gnu_get_libc_version", NULL) != NULL;
}

/* The file the kernel mapped at address a, from its line in
 * /proc/self/maps ("lo-hi perms offset dev inode   path", the path to the
 * end of the line), read a piece at a time: no line is held whole, and
 * the other mappings' lines are skipped past their range. */
static bool mapped_path(ElfW(Addr) a, char *out, size_t size)
{
	/* libc's, found now: as imports, open, read and close would cost
	 * every process start a relocation each, for this one call. */
	int (*open_)(const char *, int, ...);
	ssize_t (*read_)(int, void *, size_t);
	int (*close_)(int);
	void *o = walk(WALK_ALL, "open", NULL), *r = walk(WALK_ALL, "read", NULL);
	void *cl = walk(WALK_ALL, "close", NULL);
	if (!o || !r || !cl)
		return false;
	memcpy(&open_, &o, sizeof o);
	memcpy(&read_, &r, sizeof r);
	memcpy(&close_, &cl, sizeof cl);
	int fd = open_("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[256];
	int field = 0; /* 0 the range, 1-4 perms to inode, 5 the path; -1 another line */
	bool upper = false, gap = false, done = false, full = false;
	ElfW(Addr) lo = 0, hi = 0;
	size_t len = 0;
	while (!done) {
		ssize_t n = read_(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (const char *p = buf, *end = buf + n; p < end && !done; p++) {
			while (field < 0 && p < end && *p != '\n')
				p++;
			if (p == end)
				break;
			char c = *p;
			if (c == '\n') {
				done = field > 0;
				field = 0;
				upper = false;
				lo = hi = 0;
			} else if (field == 0 && c == ' ') {
				field = lo <= a && a < hi ? 1 : -1;
			} else if (field == 0 && c == '-') {
				upper = true;
			} else if (field == 0) {
				ElfW(Addr) *x = upper ? &hi : &lo;
				*x = *x << 4 | (ElfW(Addr))(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
			} else if (field < 5 && c == ' ') {
				gap = true;
			} else {
				field += gap;
				gap = false;
				if (field == 5 && len + 1 < size)
					out[len++] = c;
				else if (field == 5)
					full = true;
			}
		}
	}
	close_(fd);
	out[len] = '\0';
	return done && !full && out[0] == '/';
}

/* This library's absolute file name: the kernel's, since the name ld.so
 * was given (dlpi_name) may be relative to a directory the program has
 * left; without /proc, that name when it is absolute. */
bool nx_self_path(char *out, size_t size)
{
	if (size && mapped_path((ElfW(Addr))nx_self_path, out, size))
		return true;
	struct search s = {WALK_SELF_PATH, NULL, NULL, false, 0, NULL, out, size};
	dl_iterate_phdr(visit, &s);
	return s.found != NULL && *out == '/';
}

/* glibc >= 2.34 and musl define dlopen in libc; older glibc in libdl.so.2
 * when the program loaded it, and always __libc_dlopen_mode in libc.so.6
 * (what its NSS uses to load modules). */
void *nx_load_object(const char *path, const char *symbol, const char **why)
{
	void *(*open)(const char *, int);
	char *(*error)(void);
	*why = "not an absolute path"; /* dlopen would search, or read the working directory */
	if (path[0] != '/')
		return NULL;
	void *f = walk(WALK_ALL, "dlopen", NULL);
	if (!f)
		f = walk(WALK_ALL, "__libc_dlopen_mode", NULL);
	*why = "no dlopen in this process";
	if (!f)
		return NULL;
	memcpy(&open, &f, sizeof f);
	if (!open(path, RTLD_NOW | RTLD_LOCAL)) {
		/* __libc_dlopen_mode leaves no message for dlerror. */
		void *e = walk(WALK_ALL, "dlerror", NULL);
		memcpy(&error, &e, sizeof e);
		const char *msg = e ? error() : NULL;
		*why = msg ? msg : "dlopen failed";
		return NULL;
	}
	*why = "no entry point";
	return walk(WALK_PATH, symbol, path);
}
