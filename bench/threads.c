/* threads: T threads of one process look the same name up at once
 * (getaddrinfo, AF_UNSPEC, SOCK_STREAM), released together by a barrier.
 *
 *   threads T NAME   prints "OK START LAST": how many succeeded, when the
 *                    threads were released and when the last one returned
 *                    (CLOCK_REALTIME seconds); exit 0 when all succeeded,
 *                    2 otherwise, 1 on a usage error. */
#define _GNU_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_THREADS 1024

static pthread_barrier_t barrier;
static const char *name;
static struct timespec released;

struct slot {
	pthread_t id;
	int rc;
	struct timespec end;
};

static void *run(void *arg)
{
	struct slot *s = arg;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
		clock_gettime(CLOCK_REALTIME, &released);
	s->rc = getaddrinfo(name, NULL, &hints, &res);
	clock_gettime(CLOCK_REALTIME, &s->end);
	if (s->rc == 0)
		freeaddrinfo(res);
	return NULL;
}

static int later(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

int main(int argc, char **argv)
{
	char *end;
	long t = argc == 3 ? strtol(argv[1], &end, 10) : 0;
	if (argc != 3 || *end || t < 1 || t > MAX_THREADS) {
		fputs("usage: threads T NAME\n", stderr);
		return 1;
	}
	name = argv[2];
	struct slot *slots = calloc((size_t)t, sizeof *slots);
	if (!slots || pthread_barrier_init(&barrier, NULL, (unsigned)t)) {
		perror("threads");
		return 2;
	}
	for (long i = 0; i < t; i++)
		if (pthread_create(&slots[i].id, NULL, run, &slots[i])) {
			perror("threads: pthread_create");
			return 2;
		}
	long ok = 0;
	struct timespec last = {0, 0};
	for (long i = 0; i < t; i++) {
		pthread_join(slots[i].id, NULL);
		ok += slots[i].rc == 0;
		if (later(&slots[i].end, &last))
			last = slots[i].end;
	}
	printf("%ld %lld.%09ld %lld.%09ld\n", ok, (long long)released.tv_sec, released.tv_nsec,
	       (long long)last.tv_sec, last.tv_nsec);
	free(slots);
	return ok == t ? 0 : 2;
}
