/* hostile: programs that do to a lookup what real programs do, at the
 * worst moment, for nxretry's lab tests (tests/lab/t-hostile.sh). Each
 * mode prints one line per result on stdout; exit status 0 when the mode
 * ran (the lines say how it went), 1 on a usage or setup error.
 *
 *   hostile fork-init FIFO CONFIG
 *       NXRETRY_CONFIG names FIFO: a thread's first lookup (localhost)
 *       blocks in nxretry's initialisation reading it. Meanwhile the
 *       process forks; the child (NXRETRY_CONFIG=CONFIG, bounded by a
 *       5 s alarm) looks localhost up. Then FIFO gets CONFIG's bytes.
 *       "child rc=<code> ms=<ms>" or "child signal <n>", then
 *       "thread rc=<code>".
 *   hostile cancel-init
 *       A thread whose cancellation is pending makes its first lookup
 *       (gethostbyname_r of localhost), in nxretry's initialisation then;
 *       then the main
 *       thread looks localhost up, bounded by a 5 s alarm.
 *       "thread cancelled|not cancelled", "main rc=<code> ms=<ms>".
 *   hostile longjmp N US WARM WAITING NEXT
 *       Looks WARM up; then N lookups of WAITING (a name nxretry waits
 *       for), each left US microseconds in by siglongjmp out of a SIGALRM
 *       handler; then NEXT. "fds <before> <after>" (open descriptors
 *       around the N), "interrupted <count>", "next rc=<code> <address>",
 *       "cancel enabled|disabled" (this thread's state after them all).
 *   hostile errno NAME
 *       gethostbyname_r then gethostbyname of NAME, errno set to 123
 *       before each: "r rc=<ret> found=<0|1> errno=<n>",
 *       "static found=<0|1> errno=<n>".
 *   hostile heap
 *       Looks localhost up, then prints "inuse <bytes>": the heap in use
 *       (mallinfo2), which the preload must leave as libc alone leaves it.
 *   hostile stderr rdwr|after FILE NAME
 *       rdwr: closes fd 2 and opens FILE read-write (it becomes fd 2),
 *       then looks NAME up; after: looks localhost up first, then closes
 *       fd 2 and opens FILE write-only, appending, then looks NAME up.
 *       "rc=<code> fd=<FILE's descriptor>". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

/* getaddrinfo of name, {AF_INET, SOCK_STREAM}; the first address in addr. */
static int lookup(const char *name, char *addr, size_t len)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(name, NULL, &hints, &res);
	if (addr)
		snprintf(addr, len, "-");
	if (rc == 0) {
		if (addr)
			inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, addr,
				  (socklen_t)len);
		freeaddrinfo(res);
	}
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: hostile fork-init FIFO CONFIG | cancel-init | "
			"longjmp N US WARM WAITING NEXT | errno NAME | heap | stderr rdwr|after FILE NAME\n");
	return 1;
}

/* ---- fork-init ---- */

static void *first_lookup(void *arg)
{
	int *rc = arg;
	*rc = lookup("localhost", NULL, 0);
	return NULL;
}

static int fork_init(const char *fifo, const char *config)
{
	pthread_t t;
	int thread_rc = -100;
	if (pthread_create(&t, NULL, first_lookup, &thread_rc))
		return 1;
	/* A write end opens (without blocking) once the thread's read end is
	 * open: the thread is then inside the initialisation. */
	int w = -1;
	for (long long start = now_ms(); w < 0 && now_ms() - start < 5000;) {
		w = open(fifo, O_WRONLY | O_NONBLOCK);
		if (w < 0)
			usleep(1000);
	}
	if (w < 0) {
		perror("hostile: the lookup never opened the fifo");
		return 1;
	}
	usleep(50000); /* into the read */
	pid_t pid = fork();
	if (pid == 0) {
		close(w);
		setenv("NXRETRY_CONFIG", config, 1);
		alarm(5);
		long long start = now_ms();
		int rc = lookup("localhost", NULL, 0);
		printf("child rc=%d ms=%lld\n", rc, now_ms() - start);
		fflush(stdout);
		_exit(0);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	if (WIFSIGNALED(status))
		printf("child signal %d\n", WTERMSIG(status));
	fflush(stdout);
	int fd = open(config, O_RDONLY);
	char buf[4096];
	ssize_t n;
	while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0)
		if (write(w, buf, (size_t)n) != n)
			break;
	close(fd);
	close(w);
	pthread_join(t, NULL);
	printf("thread rc=%d\n", thread_rc);
	return 0;
}

/* ---- cancel-init ---- */

static int go;

#ifdef __SANITIZE_ADDRESS__
void __asan_handle_no_return(void);
/* A cancelled thread's frames are unwound with their redzones still
 * poisoned, and ASan's own thread exit then writes into them. */
static void unpoison_stack(void *arg)
{
	(void)arg;
	__asan_handle_no_return();
}
#else
static void unpoison_stack(void *arg)
{
	(void)arg;
}
#endif

/* gethostbyname_r, not getaddrinfo: ThreadSanitizer's getaddrinfo
 * ignores the thread's accesses until it returns, and a thread cancelled
 * inside it (at libc's first cancellation point) ends with them ignored. */
static void *cancelled_lookup(void *arg)
{
	(void)arg;
	struct hostent he, *r;
	char buf[1024];
	int herr;
	pthread_cleanup_push(unpoison_stack, NULL);
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		; /* no cancellation point: the cancel stays pending */
	gethostbyname_r("localhost", &he, buf, sizeof buf, &r, &herr);
	pthread_testcancel();
	pthread_cleanup_pop(0);
	return NULL;
}

static int cancel_init(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, cancelled_lookup, NULL))
		return 1;
	pthread_cancel(t);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	void *ret;
	pthread_join(t, &ret);
	printf("thread %s\n", ret == PTHREAD_CANCELED ? "cancelled" : "not cancelled");
	fflush(stdout);
	alarm(5);
	long long start = now_ms();
	int rc = lookup("localhost", NULL, 0);
	printf("main rc=%d ms=%lld\n", rc, now_ms() - start);
	return 0;
}

/* ---- longjmp ---- */

static sigjmp_buf jump;

static void on_alarm(int sig)
{
	(void)sig;
	siglongjmp(jump, 1);
}

static int interrupted_lookups(int n, long us, const char *warm, const char *waiting,
			       const char *next)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL))
		return 1;
	lookup(warm, NULL, 0);
	int before = count_fds();
	volatile int jumped = 0; /* kept across siglongjmp */
	for (volatile int i = 0; i < n; i++) {
		struct itimerval it = {.it_value = {us / 1000000, us % 1000000}};
		if (sigsetjmp(jump, 1)) {
			jumped++;
			continue;
		}
		setitimer(ITIMER_REAL, &it, NULL);
		lookup(waiting, NULL, 0);
		struct itimerval off = {{0, 0}, {0, 0}};
		setitimer(ITIMER_REAL, &off, NULL);
	}
	int after = count_fds(), state;
	printf("fds %d %d\n", before, after);
	printf("interrupted %d\n", jumped);
	char addr[INET_ADDRSTRLEN];
	int rc = lookup(next, addr, sizeof addr);
	printf("next rc=%d %s\n", rc, addr);
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &state);
	printf("cancel %s\n", state == PTHREAD_CANCEL_ENABLE ? "enabled" : "disabled");
	return 0;
}

/* ---- errno ---- */

static int errno_after(const char *name)
{
	struct hostent he, *r = NULL;
	char buf[8192];
	int herr;
	errno = 123;
	int rc = gethostbyname_r(name, &he, buf, sizeof buf, &r, &herr);
	int e = errno;
	printf("r rc=%d found=%d errno=%d\n", rc, r != NULL, e);
	errno = 123;
	struct hostent *s = gethostbyname(name);
	e = errno;
	printf("static found=%d errno=%d\n", s != NULL, e);
	return 0;
}

/* ---- heap ---- */

static int heap_after_lookup(void)
{
	lookup("localhost", NULL, 0);
	printf("inuse %zu\n", mallinfo2().uordblks);
	return 0;
}

/* ---- stderr ---- */

static int stderr_reused(const char *how, const char *file, const char *name)
{
	bool after = !strcmp(how, "after");
	if (!after && strcmp(how, "rdwr"))
		return usage();
	if (after)
		lookup("localhost", NULL, 0);
	close(STDERR_FILENO);
	int fd = open(file, after ? O_WRONLY | O_APPEND : O_RDWR);
	int rc = lookup(name, NULL, 0);
	printf("rc=%d fd=%d\n", rc, fd);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "fork-init"))
		return fork_init(argv[2], argv[3]);
	if (argc == 2 && !strcmp(argv[1], "cancel-init"))
		return cancel_init();
	if (argc == 7 && !strcmp(argv[1], "longjmp"))
		return interrupted_lookups(atoi(argv[2]), atol(argv[3]), argv[4], argv[5], argv[6]);
	if (argc == 3 && !strcmp(argv[1], "errno"))
		return errno_after(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "heap"))
		return heap_after_lookup();
	if (argc == 5 && !strcmp(argv[1], "stderr"))
		return stderr_reused(argv[2], argv[3], argv[4]);
	return usage();
}
