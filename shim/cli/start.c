/* The start of nxretry's own programs, for glibc 2.17 and later.
 *
 * glibc 2.34 changed how a program starts: its Scrt1.o calls
 * __libc_start_main@GLIBC_2.34 and no longer passes the function that runs
 * the program's constructors, which older glibc needs. Programs are linked
 * with --wrap=__libc_start_main: this wrapper calls the architecture's
 * first version (x86-64 GLIBC_2.2.5, aarch64 GLIBC_2.17, i386 GLIBC_2.0:
 * scripts/glibc-compat reads it from libc.so.6), which every glibc since
 * has defined, and hands it the constructors itself. glibc >= 2.34 then
 * runs them through the legacy path, once; destructors stay with ld.so's
 * _dl_fini on every version. */
typedef int (*main_fn)(int, char **, char **);
typedef void (*init_fn)(int, char **, char **);

#define HIDDEN __attribute__((visibility("hidden")))
extern init_fn __preinit_array_start[] HIDDEN, __preinit_array_end[] HIDDEN;
extern init_fn __init_array_start[] HIDDEN, __init_array_end[] HIDDEN;

int nx_libc_start_main(main_fn, int, char **, init_fn, void (*)(void), void (*)(void), void *);
#ifndef NX_LIBC_START_MAIN_VERSION
#error "compile with -include of scripts/glibc-compat's header"
#endif
__asm__(".symver nx_libc_start_main,__libc_start_main@" NX_LIBC_START_MAIN_VERSION);

static void run_constructors(int argc, char **argv, char **envp)
{
	for (init_fn *f = __preinit_array_start; f < __preinit_array_end; f++)
		(*f)(argc, argv, envp);
	for (init_fn *f = __init_array_start; f < __init_array_end; f++)
		(*f)(argc, argv, envp);
}

int __wrap___libc_start_main(main_fn main, int argc, char **argv, init_fn init,
			     void (*fini)(void), void (*rtld_fini)(void), void *stack_end);

int __wrap___libc_start_main(main_fn main, int argc, char **argv, init_fn init, void (*fini)(void),
			 void (*rtld_fini)(void), void *stack_end)
{
	(void)init;
	(void)fini;
	return nx_libc_start_main(main, argc, argv, run_constructors, 0, rtld_fini, stack_end);
}
