/* gai: call getaddrinfo once and print what it returned, one line per node, in a
 * form the lab tests compare as text:
 *
 *   rc=<number> <EAI name or OK> ms=<elapsed milliseconds>
 *   <inet|inet6> <stream|dgram|raw|socktype> <protocol> <address> <port> [canon=<name>]
 *
 * With -r COUNT,INTERVAL_MS the lookup is repeated in the same process, up to COUNT times, the
 * starts INTERVAL_MS apart, until one succeeds; each failed one before the last prints
 *
 *   try rc=<number> <EAI name> ms=<elapsed milliseconds> end=<CLOCK_REALTIME milliseconds>
 *
 * and the last one prints as above, with " end=<ms>" after its ms= figure.
 *
 * With -F sublist the list is freed as POSIX allows a program to: freeaddrinfo(res->ai_next),
 * then the head alone. With -F relink:OTHER, OTHER's list (same hints) is spliced in after the
 * first node and the whole is freed at once. Either prints "freed" after the last free.
 *
 * Exit status: 0 when getaddrinfo succeeded, 2 when it failed, 1 on a usage error. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <locale.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static const struct name_value socktype_names[] = {
	{ "stream", SOCK_STREAM },
	{ "dgram", SOCK_DGRAM },
	{ "raw", SOCK_RAW },
	{ "0", 0 },
	{ NULL, 0 }
};

/* "nohints" is not an AI_ flag: it makes gai pass hints=NULL (glibc then uses
 * AI_V4MAPPED|AI_ADDRCONFIG), so it is handled apart. */
static const struct name_value flag_names[] = {
	{ "canonname", AI_CANONNAME },
	{ "v4mapped", AI_V4MAPPED },
	{ "all", AI_ALL },
	{ "addrconfig", AI_ADDRCONFIG },
	{ "numerichost", AI_NUMERICHOST },
	{ "passive", AI_PASSIVE },
	{ "numericserv", AI_NUMERICSERV },
#ifdef AI_IDN /* glibc's; musl has no IDN support */
	{ "idn", AI_IDN },
#endif
	{ NULL, 0 }
};

static const char *name_of(const struct name_value *table, int value)
{
	for (; table->name; table++)
		if (table->value == value)
			return table->name;
	return NULL;
}

static int value_of(const struct name_value *table, const char *name, int *value)
{
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0) {
			*value = table->value;
			return 0;
		}
	return -1;
}

static void usage(FILE *out)
{
	fputs("usage: gai [-4|-6] [-s stream|dgram|raw|0] [-f FLAG,...] [-S SERVICE]\n"
	      "           [-r COUNT,INTERVAL_MS] [-F sublist|relink:OTHER] NAME\n"
	      "FLAG: canonname v4mapped all addrconfig numerichost passive numericserv idn nohints\n"
	      "      (nohints passes hints=NULL)\n", out);
}

/* Parses "-f canonname,all" into AI_ flags; returns -1 on an unknown name. */
static int parse_flags(char *list, int *flags, int *nohints)
{
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int flag;

		if (strcmp(tok, "nohints") == 0)
			*nohints = 1;
		else if (value_of(flag_names, tok, &flag) == 0)
			*flags |= flag;
		else {
			fprintf(stderr, "gai: unknown flag '%s'\n", tok);
			return -1;
		}
	}
	return 0;
}

static void print_node(const struct addrinfo *ai)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	const char *family = NULL, *socktype = name_of(socktype_names, ai->ai_socktype);

	if (ai->ai_family == AF_INET && ai->ai_addr) {
		const struct sockaddr_in *sin = (const void *)ai->ai_addr;

		family = "inet";
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof addr);
		port = ntohs(sin->sin_port);
	} else if (ai->ai_family == AF_INET6 && ai->ai_addr) {
		const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;

		family = "inet6";
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof addr);
		port = ntohs(sin6->sin6_port);
	}
	if (family)
		printf("%s", family);
	else
		printf("%d", ai->ai_family);
	if (socktype)
		printf(" %s", socktype);
	else
		printf(" %d", ai->ai_socktype);
	printf(" %d %s %u", ai->ai_protocol, addr, port);
	if (ai->ai_canonname)
		printf(" canon=%s", ai->ai_canonname);
	putchar('\n');
}

static long long realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC }, *res = NULL;
	const char *service = NULL, *free_as = NULL;
	int opt, rc = 0, nohints = 0, count = 0, interval_ms = 0;
	long long start = 0;

	setlocale(LC_CTYPE, ""); /* -f idn: glibc reads the name in the locale's charset */
	while ((opt = getopt(argc, argv, "46s:f:S:r:F:h")) != -1) {
		switch (opt) {
		case '4':
			hints.ai_family = AF_INET;
			break;
		case '6':
			hints.ai_family = AF_INET6;
			break;
		case 's':
			if (value_of(socktype_names, optarg, &hints.ai_socktype) != 0) {
				fprintf(stderr, "gai: unknown socket type '%s'\n", optarg);
				return 1;
			}
			break;
		case 'f':
			if (parse_flags(optarg, &hints.ai_flags, &nohints) != 0)
				return 1;
			break;
		case 'S':
			service = optarg;
			break;
		case 'r':
			if (sscanf(optarg, "%d,%d", &count, &interval_ms) != 2 || count < 1 ||
			    interval_ms < 0) {
				fprintf(stderr, "gai: -r COUNT,INTERVAL_MS, not '%s'\n", optarg);
				return 1;
			}
			break;
		case 'F':
			free_as = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 1;
	}

	for (int k = 1; k < count; k++) {
		start = now_ns();
		rc = getaddrinfo(argv[optind], service, nohints ? NULL : &hints, &res);
		if (rc == 0)
			break;
		printf("try rc=%d %s ms=%lld end=%lld\n", rc, eai_name(rc), (now_ns() - start) / 1000000,
		       realtime_ms());
		fflush(stdout);
		long long left = start + (long long)interval_ms * 1000000 - now_ns();
		if (left > 0) {
			struct timespec ts = {left / 1000000000, left % 1000000000};
			nanosleep(&ts, NULL);
		}
	}
	if (!count || !res) {
		start = now_ns();
		rc = getaddrinfo(argv[optind], service, nohints ? NULL : &hints, &res);
	}
	printf("rc=%d %s ms=%lld", rc, eai_name(rc), (now_ns() - start) / 1000000);
	if (count)
		printf(" end=%lld", realtime_ms());
	putchar('\n');
	if (rc != 0)
		return 2;
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
		print_node(ai);
	if (!free_as) {
		freeaddrinfo(res);
		return 0;
	}
	if (strcmp(free_as, "sublist") == 0) {
		if (res->ai_next)
			freeaddrinfo(res->ai_next);
		res->ai_next = NULL;
	} else if (strncmp(free_as, "relink:", 7) == 0) {
		struct addrinfo *other = NULL, *last;
		rc = getaddrinfo(free_as + 7, service, nohints ? NULL : &hints, &other);
		if (rc != 0) {
			printf("relink: rc=%d %s\n", rc, eai_name(rc));
			return 2;
		}
		for (last = other; last->ai_next; last = last->ai_next)
			;
		last->ai_next = res->ai_next;
		res->ai_next = other;
	} else {
		usage(stderr);
		return 1;
	}
	freeaddrinfo(res);
	puts("freed");
	return 0;
}
