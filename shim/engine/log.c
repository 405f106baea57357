/* One line per event on stderr, prefixed "nxretry:". The line is formatted
 * first and written with one write(2), so lines from threads never mix.
 * Every line goes through nx_escape: names from replies and values from
 * the environment cannot put control characters on a terminal or forge a
 * second line. */
#include "nxretry.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum nx_level nx_log_level = NX_LOG_WARN;

bool nx_log_parse_level(const char *text, enum nx_level *out)
{
	static const char *const names[] = {"off", "error", "warn", "info", "debug"};
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(text, names[i])) {
			*out = (enum nx_level)i;
			return true;
		}
	return false;
}

/* fstat(2) itself: libc's fstat is GLIBC_2.33 (before, an inline wrapper
 * of __fxstat), and the preload and engine run on glibc 2.17. */
static int fd_stat(int fd, struct stat *st)
{
#ifdef SYS_fstat
	return (int)syscall(SYS_fstat, fd, st);
#else
	return fstat(fd, st);
#endif
}

/* fd 2 as the preload first found it, if it looked like a log then. */
enum { FD2_UNKNOWN, FD2_LOG, FD2_NOT_LOG };
static int fd2_state;
static uint64_t fd2_dev, fd2_ino;

/* What a program's stderr is, rather than a descriptor it reused: a
 * terminal or device, a pipe, a local socket (the journal's), a file
 * opened write-only ("2>file", "2>>file"), or an unlinked one opened
 * read-write (a test runner's capture: tmpfile, mkstemp then unlink).
 * A named file opened read-write, or a network socket, is the program's
 * data. */
static bool looks_like_log(const struct stat *st, int flags)
{
	if (S_ISCHR(st->st_mode) || S_ISFIFO(st->st_mode))
		return true;
	if (S_ISSOCK(st->st_mode)) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof sa;
		return getsockname(STDERR_FILENO, (struct sockaddr *)&sa, &len) == 0 &&
		       sa.ss_family == AF_UNIX;
	}
	return S_ISREG(st->st_mode) && ((flags & O_ACCMODE) == O_WRONLY || st->st_nlink == 0);
}

bool nx_log_usable(void)
{
	int flags = fcntl(STDERR_FILENO, F_GETFL);
	struct stat st;
	if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY || fd_stat(STDERR_FILENO, &st))
		return false;
	int state = __atomic_load_n(&fd2_state, __ATOMIC_ACQUIRE);
	if (state == FD2_UNKNOWN) {
		/* Racing first callers store the same values. */
		__atomic_store_n(&fd2_dev, (uint64_t)st.st_dev, __ATOMIC_RELAXED);
		__atomic_store_n(&fd2_ino, (uint64_t)st.st_ino, __ATOMIC_RELAXED);
		state = looks_like_log(&st, flags) ? FD2_LOG : FD2_NOT_LOG;
		__atomic_store_n(&fd2_state, state, __ATOMIC_RELEASE);
	}
	if (state == FD2_LOG && (uint64_t)st.st_dev == __atomic_load_n(&fd2_dev, __ATOMIC_RELAXED) &&
	    (uint64_t)st.st_ino == __atomic_load_n(&fd2_ino, __ATOMIC_RELAXED))
		return true;
	return S_ISCHR(st.st_mode) && isatty(STDERR_FILENO);
}

/* The nxretry program and the tests own their fd 2: open is enough. */
static bool stderr_open(void)
{
	return fcntl(STDERR_FILENO, F_GETFD) >= 0;
}

static bool (*usable)(void) = stderr_open;

void nx_log_check_with(bool (*check)(void))
{
	usable = check;
}

void nx_log(enum nx_level level, const char *fmt, ...)
{
	if (level > nx_log_level || level == NX_LOG_OFF)
		return;
	if (!usable())
		return; /* stderr closed, or its number reused for something else */
	char text[1024], line[1024];
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	static const char prefix[] = "nxretry: ";
	memcpy(line, prefix, sizeof prefix - 1);
	size_t len = sizeof prefix - 1;
	len += nx_escape(line + len, sizeof line - len - 1, text); /* room for the newline */
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w; /* nothing sensible to do when stderr is gone */
}
