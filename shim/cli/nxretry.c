/* nxretry, the program: runs a command with libnxretry.so preloaded, or
 * diagnoses one name (--check, shim/check.c). A compiled program rather than
 * a script, so that it runs where there is no shell at all (distroless
 * images) or only busybox's (Alpine).
 *
 * Options and the environment are checked in the order a user reads them,
 * each mistake one line on stderr and exit 2; then the library is found
 * (NXRETRY_LIB, else beside this program: the same directory in a build
 * tree, ../lib/nxretry/ when installed, ../build/ in a checkout), appended
 * to LD_PRELOAD, GODEBUG gains netdns=cgo, and the command is exec'd: its
 * PID, exit status and signals are the command's. */
#include "check.h"
#include "stub/stub.h"
#include "resolver.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char usage_text[] =
	"nxretry: run a command with freshly created DNS names resolving through\n"
	"stale negative caches.\n"
	"\n"
	"  nxretry [--zone SUFFIX]... [--config FILE] [--timeout SECONDS]\n"
	"          [--mode fallback|first] [-v|--verbose] [--] COMMAND [ARG]...\n"
	"  nxretry --resolver[=auto|namespace|rewrite] [OPTION]... [--] COMMAND [ARG]...\n"
	"                           the same, and COMMAND resolves through a stub\n"
	"                           resolver for its life (static programs, dig)\n"
	"  nxretry --check NAME [--zone SUFFIX]...   diagnose one name\n"
	"  nxretry --serve [--listen ADDR[:PORT]]... [--upstream ADDR[:PORT]]...\n"
	"          [--allow-remote] [--max-waits N] [--max-tcp N] [--zone SUFFIX]...\n"
	"          [--config FILE] [--timeout SECONDS] [--mode fallback|first] [-v]\n"
	"                                            a stub resolver (default 127.0.0.1:53)\n"
	"  nxretry -h|--help\n"
	"\n"
	"Sets LD_PRELOAD (appending to any present), the NXRETRY_* environment and\n"
	"GODEBUG=netdns=cgo (Go programs then resolve through libc), then execs\n"
	"COMMAND: its exit status and signals are the command's. Settings already in\n"
	"the environment (NXRETRY_ZONES...) are kept unless an option replaces them,\n"
	"which makes nxretry usable as a container entrypoint as it is. The library\n"
	"is NXRETRY_LIB, else libnxretry.so beside this program (../lib/nxretry/).\n"
	"\n"
	"--serve answers DNS on the listen addresses (loopback only unless\n"
	"--allow-remote), forwarding every question to the upstreams (default: the\n"
	"nameservers of /etc/resolv.conf) and asking the zones' authorities when an\n"
	"upstream denies a name under them. Exits 0 on SIGTERM or SIGINT.\n"
	"\n"
	"--resolver needs root (through sudo the command gets the invoker's identity\n"
	"back). namespace: a private mount namespace whose /etc/resolv.conf names the\n"
	"stub; rewrite: /etc/resolv.conf itself names the stub first, the original\n"
	"servers after it, and is restored when COMMAND ends (a root container\n"
	"without CAP_SYS_ADMIN); auto (the default): namespace, or rewrite where it\n"
	"is forbidden as root in a container. Without the privileges: one line says\n"
	"so and COMMAND runs with the preload alone.\n";

static const char lib_name[] = "libnxretry.so";

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...);

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("nxretry: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		die("out of memory");
	return p;
}

static void set(const char *name, const char *value)
{
	if (setenv(name, value, 1))
		die("cannot set %s: %s", name, strerror(errno));
}

/* A non-empty environment variable, or NULL (the script's ${VAR:-}). */
static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* DIGITS or DIGITS.DIGITS */
static bool is_seconds(const char *s)
{
	const char *p = s;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p == s)
		return false;
	if (*p == '.') {
		const char *frac = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == frac)
			return false;
	}
	return *p == '\0';
}

/* stat(2) itself: libc's stat is GLIBC_2.33 (before, an inline wrapper of
 * __xstat), and this program must run on glibc 2.17. */
static int stat_path(const char *path, struct stat *st)
{
#ifdef SYS_newfstatat
	return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, 0);
#else
	return stat(path, st);
#endif
}

static bool is_executable_file(const char *path)
{
	struct stat st;
	return stat_path(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The file execvp would run for CMD (a malloc'd path), or NULL. PATH unset
 * means confstr's default, as for execvp. */
static char *find_command(const char *cmd)
{
	if (strchr(cmd, '/'))
		return is_executable_file(cmd) ? strdup(cmd) : NULL;
	const char *path = getenv("PATH");
	char fallback[256];
	if (!path) {
		size_t n = confstr(_CS_PATH, fallback, sizeof fallback);
		path = n > 0 && n <= sizeof fallback ? fallback : "/bin:/usr/bin";
	}
	size_t clen = strlen(cmd);
	for (const char *p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t dlen = end ? (size_t)(end - p) : strlen(p);
		char *file = xmalloc(dlen + clen + 3);
		if (dlen == 0) /* an empty entry is the current directory */
			snprintf(file, dlen + clen + 3, "./%s", cmd);
		else
			snprintf(file, dlen + clen + 3, "%.*s/%s", (int)dlen, p, cmd);
		if (is_executable_file(file))
			return file;
		free(file);
		if (!end)
			return NULL;
		p = end;
	}
}

/* 1: an ELF file without a program interpreter (PT_INTERP), which no
 * preload reaches; 0: anything else, or unreadable. */
static int is_static_elf(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int verdict = 0;
	unsigned char ident[EI_NIDENT];
	if (pread(fd, ident, sizeof ident, 0) != (ssize_t)sizeof ident ||
	    memcmp(ident, ELFMAG, SELFMAG) != 0)
		goto out;
	const unsigned char native = *(const unsigned char *)&(const uint16_t){1} ? ELFDATA2LSB
										     : ELFDATA2MSB;
	if (ident[EI_DATA] != native)
		goto out;
	uint64_t phoff;
	unsigned phnum, phentsize;
	if (ident[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
			goto out;
		phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize;
	} else if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;
		if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
			goto out;
		phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize;
	} else {
		goto out;
	}
	/* p_type is the first word of both classes' program headers. */
	verdict = 1;
	for (unsigned i = 0; i < phnum; i++) {
		uint32_t type;
		if (phentsize < sizeof type ||
		    pread(fd, &type, sizeof type, (off_t)(phoff + (uint64_t)i * phentsize)) !=
			    (ssize_t)sizeof type) {
			verdict = 0;
			break;
		}
		if (type == PT_INTERP) {
			verdict = 0;
			break;
		}
	}
out:
	close(fd);
	return verdict;
}

/* The directory holding this program, symbolic links resolved (malloc'd). */
static char *self_dir(const char *argv0)
{
	char buf[PATH_MAX];
	char *self = NULL;
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = '\0';
		self = strdup(buf);
	} else { /* no /proc: what argv[0] names */
		char *found = find_command(argv0);
		if (found) {
			self = realpath(found, NULL);
			free(found);
		}
	}
	if (!self)
		return NULL;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	return self;
}

/* The library to preload (malloc'd), or exit 2 saying why there is none. */
static char *find_lib(const char *argv0)
{
	const char *given = env("NXRETRY_LIB");
	if (given) {
		/* Absolute: the preload finds its engine beside this path. */
		char *real = access(given, R_OK) == 0 ? realpath(given, NULL) : NULL;
		if (!real)
			die("NXRETRY_LIB=%s: not readable", given);
		return real;
	}
	static const char *const places[] = {"", "/../lib/nxretry", "/../build"};
	char *dir = self_dir(argv0);
	for (size_t i = 0; dir && i < sizeof places / sizeof *places; i++) {
		size_t n = strlen(dir) + strlen(places[i]) + sizeof lib_name + 1;
		char *candidate = xmalloc(n);
		snprintf(candidate, n, "%s%s/%s", dir, places[i], lib_name);
		char *real = access(candidate, R_OK) == 0 ? realpath(candidate, NULL) : NULL;
		free(candidate);
		if (real) {
			free(dir);
			return real;
		}
	}
	free(dir);
	die("cannot find %s (build it with 'make', or set NXRETRY_LIB)", lib_name);
}

/* NAME=VALUE, VALUE appended to the variable's non-empty value after SEP. */
static void append(const char *name, const char *sep, const char *value)
{
	const char *old = env(name);
	if (!old) {
		set(name, value);
		return;
	}
	size_t n = strlen(old) + strlen(sep) + strlen(value) + 1;
	char *joined = xmalloc(n);
	snprintf(joined, n, "%s%s%s", old, sep, value);
	set(name, joined);
	free(joined);
}

/* One --listen, --upstream, --max-waits or --max-tcp of --serve. */
static void stub_option(struct nx_stub_options *o, const char *opt, const char *val)
{
	if (!strcmp(opt, "--listen") || !strcmp(opt, "--upstream")) {
		bool listen = opt[2] == 'l';
		int *n = listen ? &o->nlisten : &o->nupstream;
		int max = listen ? NX_STUB_MAXLISTEN : NX_STUB_MAXUPSTREAM;
		if (*n >= max)
			die("%s: at most %d", opt, max);
		struct nx_nameserver *at = listen ? &o->listen[*n] : &o->upstream[*n];
		if (nx_nameserver_parse(val, at) || !at->port)
			die("%s: '%s' is not IP, IP:PORT, [IPv6] or [IPv6]:PORT", opt, val);
		(*n)++;
		return;
	}
	char *end;
	errno = 0;
	long v = strtol(val, &end, 10);
	if (errno || *end || v < 1 || v > 65536)
		die("%s: '%s' is not a number from 1 to 65536", opt, val);
	if (!strcmp(opt, "--max-waits"))
		o->max_waits = (int)v;
	else
		o->max_tcp = (int)v;
}

/* nxretry --serve: the settings as the preload reads them, then the stub
 * (shim/stub/) until a signal. 2: usage; 1: a socket that cannot be bound. */
static int serve(struct nx_stub_options *o)
{
	struct nx_config cfg;
	if (nx_config_load(&cfg, env))
		return 2; /* said by nx_config_load */
	nx_log_level = cfg.log;
	if (!cfg.enabled)
		nx_log(NX_LOG_WARN, "no zone configured (--zone, NXRETRY_ZONES): every question is "
		       "only forwarded");
	int n = nx_stub_settle_options(o, "/etc/resolv.conf");
	if (n < 0)
		return 2;
	if (n == 0)
		die("no upstream resolver left to forward to (give --upstream ADDR)");
	struct nx_stub *s;
	if (nx_stub_open(&cfg, o, &s))
		return 1;
	return nx_stub_run(s) ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *config_from = "NXRETRY_CONFIG", *timeout_from = "NXRETRY_TIMEOUT",
		   *mode_from = "NXRETRY_MODE", *check = NULL;
	char *zones = NULL;
	size_t zones_len = 0;
	bool verbose = false, serving = false, resolver = false;
	struct nx_stub_options stub = {0};
	const char *stub_options = NULL;
	enum nx_resolver_way way = NX_RESOLVER_AUTO;
	int i = 1;

	while (i < argc) {
		const char *arg = argv[i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			verbose = true;
			i++;
			continue;
		}
		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (!strcmp(arg, "--resolver") || !strncmp(arg, "--resolver=", 11)) {
			if (arg[10] && !nx_resolver_parse_way(arg + 11, &way))
				die("--resolver: '%s' is not auto, namespace or rewrite", arg + 11);
			resolver = true;
			i++;
			continue;
		}
		if (arg[0] != '-')
			break;
		if (!strcmp(arg, "--serve") || !strcmp(arg, "--allow-remote")) {
			if (arg[2] == 's')
				serving = true;
			else
				stub.allow_remote = true;
			i++;
			continue;
		}
		static const char *const valued[] = {"--zone",   "--config",   "--timeout",
						     "--mode",   "--check",    "--listen",
						     "--upstream", "--max-waits", "--max-tcp"};
		const char *opt = NULL, *val = NULL;
		for (size_t k = 0; k < sizeof valued / sizeof *valued && !opt; k++) {
			size_t len = strlen(valued[k]);
			if (!strcmp(arg, valued[k])) {
				opt = valued[k];
				val = i + 1 < argc ? argv[i + 1] : NULL;
				i += 2;
			} else if (!strncmp(arg, valued[k], len) && arg[len] == '=') {
				opt = valued[k];
				val = arg + len + 1;
				i++;
			}
		}
		if (!opt)
			die("unknown option '%s' (see nxretry --help)", arg);
		if (!val || !*val)
			die("%s needs a value (see nxretry --help)", opt);
		if (!strcmp(opt, "--zone")) {
			size_t n = strlen(val);
			char *grown = realloc(zones, zones_len + n + 2);
			if (!grown)
				die("out of memory");
			zones = grown;
			if (zones_len)
				zones[zones_len++] = ',';
			memcpy(zones + zones_len, val, n + 1);
			zones_len += n;
		} else if (!strcmp(opt, "--config")) {
			set("NXRETRY_CONFIG", val);
			config_from = opt;
		} else if (!strcmp(opt, "--timeout")) {
			set("NXRETRY_TIMEOUT", val);
			timeout_from = opt;
		} else if (!strcmp(opt, "--mode")) {
			set("NXRETRY_MODE", val);
			mode_from = opt;
		} else if (!strcmp(opt, "--check")) {
			check = val;
		} else {
			stub_option(&stub, opt, val);
			stub_options = opt;
		}
	}
	if (stub_options && !serving)
		die("%s is an option of --serve (see nxretry --help)", stub_options);
	if (resolver && (serving || check))
		die("--resolver runs a command: not with %s", serving ? "--serve" : "--check");

	if (zones) {
		set("NXRETRY_ZONES", zones);
		free(zones);
	}
	const char *v;
	if ((v = env("NXRETRY_CONFIG")) && access(v, R_OK) != 0)
		die("%s: %s: cannot read the configuration", config_from, v);
	if ((v = env("NXRETRY_TIMEOUT")) && !is_seconds(v))
		die("%s: '%s' is not a number of seconds", timeout_from, v);
	if ((v = env("NXRETRY_MODE")) && strcmp(v, "fallback") && strcmp(v, "first"))
		die("%s: '%s' is not fallback or first", mode_from, v);
	if (verbose)
		set("NXRETRY_LOG", "info");

	if (check) /* built in: no library, no exec */
		return nx_check(check);
	if (serving) {
		if (i < argc)
			die("--serve runs no command ('%s')", argv[i]);
		return serve(&stub);
	}
	if (i >= argc)
		die("no command given (see nxretry --help)");

	char *lib = find_lib(argv[0]);
	append("LD_PRELOAD", " ", lib);
	append("GODEBUG", ",", "netdns=cgo");
	free(lib);
	fflush(stdout);
	if (resolver) { /* -1: the preload alone, as said */
		int rc = nx_resolver_run(way, argv + i);
		if (rc >= 0)
			return rc;
	}
	char *path = find_command(argv[i]);
	if (path && is_static_elf(path))
		fprintf(stderr,
			"nxretry: warning: %s is statically linked; nxretry cannot reach its lookups\n",
			path);
	free(path);

	execvp(argv[i], argv + i);
	int err = errno;
	fprintf(stderr, "nxretry: %s: %s\n", argv[i], strerror(err));
	return err == ENOENT || err == ENOTDIR ? 127 : 126;
}
