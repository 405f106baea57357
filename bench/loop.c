/* loop: getaddrinfo clients for bench/run. Hints: AF_UNSPEC, SOCK_STREAM.
 *
 *   loop run N NAME [ok|fail]  N lookups (and frees) in one process; exit 0 when
 *                              every call succeeded (ok, the default) or every
 *                              call failed with EAI_NONAME/EAI_NODATA (fail)
 *   loop once NAME             one lookup, no retry; prints "RC START END"
 *                              (CLOCK_REALTIME seconds); exit 0 on success
 *   loop poll MS LIMIT NAME    a plain program polled every MS milliseconds until
 *                              it succeeds or LIMIT seconds pass; prints
 *                              "RC START END ATTEMPTS", END the successful try's
 *   loop mem N NAME            prints "rss0 hwm0 anon0 rss1 hwm1 anon1 rssN hwmN
 *                              anonN": VmRSS, VmHWM and RssAnon (KiB, from
 *                              /proc/self/status) before any lookup, after the
 *                              first and after N; exit 0 when all succeeded
 *   loop ns N NAME             prints the CLOCK_MONOTONIC nanoseconds N lookups
 *                              took; exit 0 when all succeeded
 *
 * Exit status 1 on a usage error, 2 when the lookups did not go as asked. */
#define _GNU_SOURCE
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static int lookup(const char *name)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc == 0)
		freeaddrinfo(res);
	return rc;
}

static int failed(int rc)
{
	return rc == EAI_NONAME || rc == EAI_NODATA;
}

static void stamp(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

static void print_stamp(const struct timespec *ts)
{
	printf(" %lld.%09ld", (long long)ts->tv_sec, ts->tv_nsec);
}

static long long mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* VmRSS, VmHWM and RssAnon in KiB, -1 when unreadable. */
static void memory(long kib[3])
{
	static const char *const keys[3] = {"VmRSS:", "VmHWM:", "RssAnon:"};
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	kib[0] = kib[1] = kib[2] = -1;
	if (!f)
		return;
	while (fgets(line, sizeof line, f))
		for (int k = 0; k < 3; k++)
			if (!strncmp(line, keys[k], strlen(keys[k])))
				kib[k] = strtol(line + strlen(keys[k]), NULL, 10);
	fclose(f);
}

static long count(const char *text)
{
	char *end;
	long n = strtol(text, &end, 10);
	return *end || n < 1 ? -1 : n;
}

static int usage(void)
{
	fputs("usage: loop run N NAME [ok|fail] | once NAME | poll MS LIMIT NAME | mem N NAME"
	      " | ns N NAME\n", stderr);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *mode = argv[1];
	if (!strcmp(mode, "once") && argc == 3) {
		struct timespec start, end;
		stamp(&start);
		int rc = lookup(argv[2]);
		stamp(&end);
		printf("%d", rc);
		print_stamp(&start);
		print_stamp(&end);
		putchar('\n');
		return rc ? 2 : 0;
	}
	if (!strcmp(mode, "poll") && argc == 5) {
		long period = count(argv[2]), limit = count(argv[3]);
		if (period < 0 || limit < 0)
			return usage();
		struct timespec start, end, next;
		stamp(&start);
		clock_gettime(CLOCK_MONOTONIC, &next);
		long long stop = mono_ns() + limit * 1000000000LL;
		long attempts = 0;
		int rc;
		for (;;) {
			attempts++;
			rc = lookup(argv[4]);
			stamp(&end);
			if (rc == 0 || mono_ns() >= stop)
				break;
			next.tv_nsec += (period % 1000) * 1000000;
			next.tv_sec += period / 1000 + next.tv_nsec / 1000000000;
			next.tv_nsec %= 1000000000;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL))
				;
		}
		printf("%d", rc);
		print_stamp(&start);
		print_stamp(&end);
		printf(" %ld\n", attempts);
		return rc ? 2 : 0;
	}
	if (argc < 4)
		return usage();
	long n = count(argv[2]);
	const char *name = argv[3];
	if (n < 0)
		return usage();
	if (!strcmp(mode, "run") && argc <= 5) {
		int want_fail = argc == 5 && !strcmp(argv[4], "fail");
		if (argc == 5 && !want_fail && strcmp(argv[4], "ok"))
			return usage();
		long bad = 0;
		for (long i = 0; i < n; i++) {
			int rc = lookup(name);
			bad += want_fail ? !failed(rc) : rc != 0;
		}
		if (bad)
			fprintf(stderr, "loop: %ld of %ld lookups of %s did not %s\n", bad, n, name,
				want_fail ? "fail" : "succeed");
		return bad ? 2 : 0;
	}
	if (!strcmp(mode, "ns") && argc == 4) {
		long bad = 0;
		long long t0 = mono_ns();
		for (long i = 0; i < n; i++)
			bad += lookup(name) != 0;
		printf("%lld\n", mono_ns() - t0);
		return bad ? 2 : 0;
	}
	if (!strcmp(mode, "mem") && argc == 4) {
		long kib[3][3], bad = 0;
		memory(kib[0]);
		bad += lookup(name) != 0;
		memory(kib[1]);
		for (long i = 1; i < n; i++)
			bad += lookup(name) != 0;
		memory(kib[2]);
		for (int s = 0; s < 3; s++)
			printf("%ld %ld %ld%c", kib[s][0], kib[s][1], kib[s][2], s == 2 ? '\n' : ' ');
		if (bad)
			fprintf(stderr, "loop: %ld of %ld lookups of %s failed\n", bad, n, name);
		return bad || kib[0][0] < 0 ? 2 : 0;
	}
	return usage();
}
