/* hostent: one gethostbyname-family call, printed as text for the lab tests
 * (built for glibc and for musl, whose return codes differ).
 *
 *   hostent [-r] [-4|-6] NAME
 *
 * Without -4/-6: gethostbyname (or gethostbyname_r with -r); with them,
 * gethostbyname2 (gethostbyname2_r) for AF_INET or AF_INET6. Output:
 *
 *   ret=<0|ENOENT|ERANGE|EAGAIN|...> herr=<HOST_NOT_FOUND|NO_DATA|...>   (-r)
 *   ret=<hostent|NULL> herr=<...>                                        (no -r)
 *   name <h_name>
 *   alias <alias>          one line per alias
 *   addr <address>         one line per address, in the order given
 *
 * herr is h_errno (or the _r form's *h_errnop) when nothing was found, "-"
 * otherwise. Exit status: 0 found, 2 not found, 1 on a usage error. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *herr_name(int herr)
{
	switch (herr) {
	case HOST_NOT_FOUND:
		return "HOST_NOT_FOUND";
	case NO_DATA:
		return "NO_DATA";
	case TRY_AGAIN:
		return "TRY_AGAIN";
	case NO_RECOVERY:
		return "NO_RECOVERY";
	case 0:
		return "0";
	default:
		return "OTHER";
	}
}

static const char *errno_name(int e)
{
	static char other[32];
	switch (e) {
	case 0:
		return "0";
	case ENOENT:
		return "ENOENT";
	case ERANGE:
		return "ERANGE";
	case EAGAIN:
		return "EAGAIN";
	case EBADMSG:
		return "EBADMSG";
	default:
		snprintf(other, sizeof other, "%d", e);
		return other;
	}
}

static void print_hostent(const struct hostent *he)
{
	printf("name %s\n", he->h_name);
	for (char **a = he->h_aliases; a && *a; a++)
		printf("alias %s\n", *a);
	for (char **p = he->h_addr_list; *p; p++) {
		char text[INET6_ADDRSTRLEN];
		if (!inet_ntop(he->h_addrtype, *p, text, sizeof text))
			snprintf(text, sizeof text, "?");
		printf("addr %s\n", text);
	}
}

int main(int argc, char **argv)
{
	int reentrant = 0, af = 0, c;
	while ((c = getopt(argc, argv, "r46")) != -1) {
		switch (c) {
		case 'r':
			reentrant = 1;
			break;
		case '4':
			af = AF_INET;
			break;
		case '6':
			af = AF_INET6;
			break;
		default:
			fprintf(stderr, "usage: hostent [-r] [-4|-6] NAME\n");
			return 1;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: hostent [-r] [-4|-6] NAME\n");
		return 1;
	}
	const char *name = argv[optind];
	struct hostent *he = NULL, ret; /* he may point at ret until printed */
	if (reentrant) {
		static char buf[16384];
		int herr = 0, rc;
		if (af)
			rc = gethostbyname2_r(name, af, &ret, buf, sizeof buf, &he, &herr);
		else
			rc = gethostbyname_r(name, &ret, buf, sizeof buf, &he, &herr);
		printf("ret=%s herr=%s\n", errno_name(rc), he ? "-" : herr_name(herr));
	} else {
		he = af ? gethostbyname2(name, af) : gethostbyname(name);
		printf("ret=%s herr=%s\n", he ? "hostent" : "NULL", he ? "-" : herr_name(h_errno));
	}
	if (!he)
		return 2;
	print_hostent(he);
	return 0;
}
