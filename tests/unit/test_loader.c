/* loader.c: symbols read from an object's dynamic section as
 * dl_iterate_phdr shows it, on synthetic objects whose dynamic section holds
 * link-time addresses (an x86-64 vDSO before Linux 3.16), offsets (musl, a
 * current vDSO) or addresses relocated in place (glibc); and the objects
 * nx_next_symbol walks, against dlsym(RTLD_NEXT). */
#include "util.h"

#include "nxretry.h"

#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#ifndef STT_GNU_IFUNC
#define STT_GNU_IFUNC 10
#endif

/* The image's layout: headers, then the tables, all inside one PT_LOAD. */
enum { DYN_OFF = 64, SYM_OFF = 256, STR_OFF = 512, HASH_OFF = 640, FUNC_OFF = 1024, IMAGE = 4096 };
#define LINK_OLD_VDSO ((ElfW(Addr))0 - 0x900000) /* 0xffffffffff700000 on x86-64 */

enum dyn_style { LINK_TIME, OFFSETS, RELOCATED, OUTSIDE };

struct image {
	_Alignas(4096) unsigned char bytes[IMAGE];
	ElfW(Phdr) phdr[2];
	struct dl_phdr_info info;
};

static int resolver_calls;

static void ifunc_target(void)
{
}

/* An IFUNC resolver as glibc calls it on this architecture. */
static void *resolver(void)
{
	resolver_calls++;
	return (void *)ifunc_target;
}

/* Builds an object linked at link (0: a shared object), loaded at
 * img->bytes, defining "nx_probe" (type: STT_FUNC at FUNC_OFF, or an
 * IFUNC whose resolver is resolver()), and its d_ptr values in style. */
static const struct dl_phdr_info *build(struct image *img, enum dyn_style style, int type)
{
	memset(img, 0, sizeof *img);
	ElfW(Addr) link = style == LINK_TIME ? LINK_OLD_VDSO : 0;
	ElfW(Addr) load = (ElfW(Addr))img->bytes;
	ElfW(Addr) base = load - link; /* wraps for the old vDSO, as glibc's dlpi_addr does */
	ElfW(Addr) ptr_base = style == RELOCATED ? load : link;

	img->phdr[0] = (ElfW(Phdr)){.p_type = PT_LOAD, .p_vaddr = link, .p_memsz = IMAGE};
	img->phdr[1] = (ElfW(Phdr)){.p_type = PT_DYNAMIC, .p_vaddr = link + DYN_OFF};
	ElfW(Dyn) *dyn = (ElfW(Dyn) *)(img->bytes + DYN_OFF);
	dyn[0].d_tag = DT_SYMTAB;
	dyn[0].d_un.d_ptr = style == OUTSIDE ? 4 * IMAGE : ptr_base + SYM_OFF;
	dyn[1].d_tag = DT_STRTAB;
	dyn[1].d_un.d_ptr = ptr_base + STR_OFF;
	dyn[2].d_tag = DT_HASH;
	dyn[2].d_un.d_ptr = ptr_base + HASH_OFF;
	dyn[3].d_tag = DT_NULL;

	memcpy(img->bytes + STR_OFF, "\0nx_probe", sizeof "\0nx_probe");
	ElfW(Sym) *sym = (ElfW(Sym) *)(img->bytes + SYM_OFF);
	sym[1].st_name = 1;
	sym[1].st_shndx = 1;
#if __SIZEOF_POINTER__ == 8
	sym[1].st_info = ELF64_ST_INFO(STB_GLOBAL, type);
#else
	sym[1].st_info = ELF32_ST_INFO(STB_GLOBAL, type);
#endif
	/* st_value is link-time in every style: ld.so relocates d_ptr only. */
	sym[1].st_value = type == STT_GNU_IFUNC ? (ElfW(Addr))resolver - base : link + FUNC_OFF;
	/* SysV hash: one bucket holding symbol 1, two chain entries. */
	uint32_t *hash = (uint32_t *)(img->bytes + HASH_OFF);
	hash[0] = 1;
	hash[1] = 2;
	hash[2] = 1;

	img->info.dlpi_addr = base;
	img->info.dlpi_name = "synthetic";
	img->info.dlpi_phdr = img->phdr;
	img->info.dlpi_phnum = 2;
	return &img->info;
}

struct symbol_case {
	const char *name;
	enum dyn_style style;
	int type;
	bool found;
};

static const struct symbol_case symbol_cases[] = {
	{"symbol: link-time addresses (x86-64 vDSO before Linux 3.16)", LINK_TIME, STT_FUNC, true},
	{"symbol: offsets from the base (musl, a current vDSO)", OFFSETS, STT_FUNC, true},
	{"symbol: addresses relocated in place (glibc)", RELOCATED, STT_FUNC, true},
	{"symbol: a table outside the object is refused", OUTSIDE, STT_FUNC, false},
	{"symbol: IFUNC, link-time addresses", LINK_TIME, STT_GNU_IFUNC, true},
	{"symbol: IFUNC, relocated in place", RELOCATED, STT_GNU_IFUNC, true},
};

static void test_symbol(void **state)
{
	const struct symbol_case *c = *state;
	static struct image img;
	const struct dl_phdr_info *info = build(&img, c->style, c->type);
	resolver_calls = 0;
	void *want = !c->found ? NULL
		     : c->type == STT_GNU_IFUNC ? (void *)ifunc_target
						: (void *)(img.bytes + FUNC_OFF);
	assert_ptr_equal(nx_object_symbol(info, "nx_probe"), want);
	assert_int_equal(resolver_calls, c->found && c->type == STT_GNU_IFUNC);
	assert_null(nx_object_symbol(info, "nx_absent"));
}

/* nx_next_symbol finds what dlsym(RTLD_NEXT) finds from this program: libc's
 * functions, and never the vDSO's (no search scope holds it). */
static const char *const next_names[] = {
	"getaddrinfo", "gnu_get_libc_version", "__vdso_clock_gettime", "__vdso_gettimeofday",
	"__kernel_clock_gettime", "nx_no_such_symbol",
};

static void test_next_symbol(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(next_names); i++) {
		void *want = dlsym(RTLD_NEXT, next_names[i]);
		void *got = nx_next_symbol(next_names[i]);
		if (got != want)
			fail_msg("%s: nx_next_symbol %p, dlsym(RTLD_NEXT) %p", next_names[i], got, want);
	}
	assert_non_null(nx_next_symbol("getaddrinfo"));
}

/* The vDSO's own symbols exist (so the case above can fail). */
static int vdso_defines(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	ElfW(Addr) ehdr = getauxval(AT_SYSINFO_EHDR);
	for (int i = 0; ehdr && i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && ehdr - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
			return nx_object_symbol(info, arg) != NULL;
	}
	return 0;
}

static void test_vdso_present(void **state)
{
	(void)state;
	if (!getauxval(AT_SYSINFO_EHDR))
		skip();
	assert_int_equal(dl_iterate_phdr(vdso_defines, (void *)"__vdso_clock_gettime") |
				 dl_iterate_phdr(vdso_defines, (void *)"__kernel_clock_gettime"),
			 1);
}

/* The file holding nx_self_path (this program, loader.c compiled in) by
 * the kernel's absolute name, whatever the working directory; a buffer
 * too small for it is no answer. */
static void test_self_path(void **state)
{
	(void)state;
	char want[PATH_MAX], got[PATH_MAX], cwd[PATH_MAX];
	assert_non_null(realpath("/proc/self/exe", want));
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir("/"), 0);
	bool found = nx_self_path(got, sizeof got);
	assert_int_equal(chdir(cwd), 0);
	assert_true(found);
	assert_string_equal(got, want);
	assert_false(nx_self_path(got, strlen(want)));
	assert_false(nx_self_path(got, 0));
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(symbol_cases) + 3];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_symbol, symbol_cases);
	UTIL_ADD_TEST(tests, n, test_vdso_present);
	UTIL_ADD_TEST(tests, n, test_next_symbol);
	UTIL_ADD_TEST(tests, n, test_self_path);
	return UTIL_RUN("loader", tests, n);
}
