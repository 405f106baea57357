/* threads: N threads call getaddrinfo at the same moment, for nxretry's lab
 * tests of shared waits, and many lookups in one process, for its tests of
 * descriptor and memory leaks.
 *
 *   threads [-4|-6] [-n LOOPS] N NAME [NAME...]
 *
 * The threads wait at a barrier, then each makes LOOPS lookups (default 1):
 * thread t's i-th lookup asks NAME number (t + i) modulo their count, with
 * hints {family from -4/-6, SOCK_STREAM} (one node per address). Output:
 *
 *   thread <t> rc=<code> <EAI name or OK> ms=<from the barrier to its last return> end=<the
 *          last return, CLOCK_REALTIME milliseconds, to compare with the shell's clock>
 *   result <name> rc=<code> <EAI name or OK> [<address>...] count=<lookups>
 *   fds <open descriptors before the first lookup> <after the last>
 *
 * one "thread" line per thread in order, then one "result" line per distinct
 * outcome (addresses in the order getaddrinfo gave them), sorted. Exit
 * status: 0 when every lookup succeeded, 2 otherwise, 1 on a usage error. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define MAXTHREADS 256
#define MAXOUTCOMES 64
#define LINE 2048

struct outcome {
	char line[LINE]; /* "<name> rc=... addresses" */
	long count;
};

struct worker {
	pthread_t thread;
	int index;
	int rc;
	long long ms, end; /* end: CLOCK_REALTIME ms */
	struct outcome outcomes[MAXOUTCOMES];
	int noutcomes;
	int overflow;
};

static pthread_barrier_t barrier;
static int family = AF_UNSPEC;
static long loops = 1;
static char **names;
static int nnames;

static void describe(const char *name, int rc, const struct addrinfo *res, char *line, size_t len)
{
	size_t used = (size_t)snprintf(line, len, "%s rc=%d %s", name, rc, eai_name(rc));
	for (const struct addrinfo *ai = rc ? NULL : res; ai && used < len; ai = ai->ai_next) {
		char addr[INET6_ADDRSTRLEN] = "?";
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr, sizeof addr);
		else if (ai->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, addr,
				  sizeof addr);
		used += (size_t)snprintf(line + used, len - used, " %s", addr);
	}
}

static void tally(struct worker *w, const char *line)
{
	for (int i = 0; i < w->noutcomes; i++)
		if (!strcmp(w->outcomes[i].line, line)) {
			w->outcomes[i].count++;
			return;
		}
	if (w->noutcomes == MAXOUTCOMES) {
		w->overflow++;
		return;
	}
	snprintf(w->outcomes[w->noutcomes].line, LINE, "%s", line);
	w->outcomes[w->noutcomes++].count = 1;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM};
	char line[LINE];
	pthread_barrier_wait(&barrier);
	long long start = now_ms();
	for (long i = 0; i < loops; i++) {
		const char *name = names[(w->index + i) % nnames];
		struct addrinfo *res = NULL;
		w->rc = getaddrinfo(name, NULL, &hints, &res);
		describe(name, w->rc, res, line, sizeof line);
		if (w->rc == 0)
			freeaddrinfo(res);
		tally(w, line);
	}
	w->ms = now_ms() - start;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	w->end = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return NULL;
}

static int by_line(const void *a, const void *b)
{
	return strcmp(((const struct outcome *)a)->line, ((const struct outcome *)b)->line);
}

static void usage(FILE *out)
{
	fputs("usage: threads [-4|-6] [-n LOOPS] N NAME [NAME...]\n", out);
}

int main(int argc, char **argv)
{
	int opt;
	while ((opt = getopt(argc, argv, "46n:h")) != -1) {
		switch (opt) {
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'n':
			loops = strtol(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind < 2 || loops < 1) {
		usage(stderr);
		return 1;
	}
	int n = atoi(argv[optind]);
	if (n < 1 || n > MAXTHREADS) {
		fprintf(stderr, "threads: N must be 1..%d\n", MAXTHREADS);
		return 1;
	}
	names = argv + optind + 1;
	nnames = argc - optind - 1;

	struct worker *w = calloc((size_t)n, sizeof *w);
	if (!w)
		return 1;
	int fds_before = count_fds();
	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (int t = 0; t < n; t++) {
		w[t].index = t;
		if (pthread_create(&w[t].thread, NULL, run, &w[t])) {
			fprintf(stderr, "threads: cannot start thread %d\n", t);
			return 1;
		}
	}
	for (int t = 0; t < n; t++)
		pthread_join(w[t].thread, NULL);
	pthread_barrier_destroy(&barrier);
	int fds_after = count_fds();

	/* Merge the threads' tallies. */
	struct outcome *all = calloc(MAXOUTCOMES, sizeof *all);
	int nall = 0, overflow = 0, failed = 0;
	if (!all)
		return 1;
	for (int t = 0; t < n; t++) {
		printf("thread %d rc=%d %s ms=%lld end=%lld\n", t, w[t].rc, eai_name(w[t].rc), w[t].ms,
		       w[t].end);
		overflow += w[t].overflow;
		for (int i = 0; i < w[t].noutcomes; i++) {
			const struct outcome *o = &w[t].outcomes[i];
			int k = 0;
			while (k < nall && strcmp(all[k].line, o->line))
				k++;
			if (k == nall) {
				if (nall == MAXOUTCOMES) {
					overflow += (int)o->count;
					continue;
				}
				snprintf(all[nall++].line, LINE, "%s", o->line);
			}
			all[k].count += o->count;
			if (!strstr(o->line, " rc=0 "))
				failed = 1;
		}
	}
	qsort(all, (size_t)nall, sizeof *all, by_line);
	for (int k = 0; k < nall; k++)
		printf("result %s count=%ld\n", all[k].line, all[k].count);
	if (overflow)
		printf("result more than %d distinct outcomes: %d lookups not shown\n", MAXOUTCOMES,
		       overflow);
	printf("fds %d %d\n", fds_before, fds_after);
	free(all);
	free(w);
	return failed || overflow ? 2 : 0;
}
