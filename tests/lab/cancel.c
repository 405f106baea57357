/* cancel: pthread_cancel of a thread blocked in getaddrinfo, for nxretry's
 * lab tests of cancellation: what the process asks afterwards must not hang.
 *
 *   cancel [-d MS] leader|waiter PENDING OTHER
 *
 * leader: a thread (the worker) looks up PENDING, a name whose lookup waits
 * (one never created); MS milliseconds later (default 500) it is cancelled.
 * waiter: a first thread (the leader) looks up PENDING; MS later a second
 * one (the waiter) does too, so it waits on the leader's lookup; MS later
 * the waiter is cancelled. Then, in both, the main thread looks up OTHER,
 * then PENDING, and joins the cancelled thread (and the leader). Hints
 * {AF_INET, SOCK_STREAM}: one node per address. Output, a line each, as it
 * happens:
 *
 *   busy <role>                     the cancelled thread was still in getaddrinfo
 *   <name> rc=<code> <EAI name or OK> [<address>...] ms=<its time>
 *   (for OTHER, then PENDING)
 *   <role> cancelled                or "<role> not cancelled"
 *   leader <PENDING> rc=<code> <EAI name or OK> [<address>...]   (waiter only)
 *
 * The cancelled thread calls pthread_testcancel after its getaddrinfo: a
 * cancellation held off inside the lookup still ends it. Exit status 0, 1
 * on a usage error. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define LINE 1024

struct job {
	pthread_t thread;
	const char *name;
	int returned; /* atomic: getaddrinfo has returned */
	int rc;
	char line[LINE];
};

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Looks NAME up; LINE gets "<name> rc=... <addresses>". */
static int lookup(const char *name, char *line, size_t len)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(name, NULL, &hints, &res);
	size_t used = (size_t)snprintf(line, len, "%s rc=%d %s", name, rc, eai_name(rc));
	for (const struct addrinfo *ai = rc ? NULL : res; ai && used < len; ai = ai->ai_next) {
		char addr[INET6_ADDRSTRLEN] = "?";
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr, sizeof addr);
		used += (size_t)snprintf(line + used, len - used, " %s", addr);
	}
	if (rc == 0)
		freeaddrinfo(res);
	return rc;
}

static void *run(void *arg)
{
	struct job *j = arg;
	j->rc = lookup(j->name, j->line, sizeof j->line);
	__atomic_store_n(&j->returned, 1, __ATOMIC_RELEASE);
	pthread_testcancel();
	return NULL;
}

static void start(struct job *j, const char *name)
{
	j->name = name;
	if (pthread_create(&j->thread, NULL, run, j)) {
		fprintf(stderr, "cancel: cannot start a thread\n");
		exit(1);
	}
}

static void cancel(struct job *j, const char *role)
{
	if (!__atomic_load_n(&j->returned, __ATOMIC_ACQUIRE))
		printf("busy %s\n", role);
	pthread_cancel(j->thread);
}

static void main_lookup(const char *name)
{
	char line[LINE];
	long long t = now_ms();
	lookup(name, line, sizeof line);
	printf("%s ms=%lld\n", line, now_ms() - t);
}

static void join(struct job *j, const char *role)
{
	void *ret;
	pthread_join(j->thread, &ret);
	printf("%s %s\n", role, ret == PTHREAD_CANCELED ? "cancelled" : "not cancelled");
}

int main(int argc, char **argv)
{
	long ms = 500;
	int opt;
	while ((opt = getopt(argc, argv, "d:h")) != -1) {
		switch (opt) {
		case 'd':
			ms = strtol(optarg, NULL, 10);
			break;
		case 'h':
			puts("usage: cancel [-d MS] leader|waiter PENDING OTHER");
			return 0;
		default:
			fputs("usage: cancel [-d MS] leader|waiter PENDING OTHER\n", stderr);
			return 1;
		}
	}
	if (argc - optind != 3 || ms < 0 ||
	    (strcmp(argv[optind], "leader") && strcmp(argv[optind], "waiter"))) {
		fputs("usage: cancel [-d MS] leader|waiter PENDING OTHER\n", stderr);
		return 1;
	}
	bool waiter = !strcmp(argv[optind], "waiter");
	const char *pending = argv[optind + 1], *other = argv[optind + 2];
	setvbuf(stdout, NULL, _IOLBF, 0); /* a hang shows how far it got */

	static struct job leader, second;
	struct job *victim = &leader;
	start(&leader, pending);
	sleep_ms(ms);
	if (waiter) {
		start(&second, pending);
		sleep_ms(ms);
		victim = &second;
	}
	cancel(victim, waiter ? "waiter" : "worker");
	main_lookup(other);
	main_lookup(pending);
	join(victim, waiter ? "waiter" : "worker");
	if (waiter) {
		pthread_join(leader.thread, NULL);
		printf("leader %s\n", leader.line);
	}
	return 0;
}
