/* conform: the conformance matrix of tests/lab/t-conform.sh, in one process.
 *
 *   conform [-g] [-h] [-s STRIDE -o OFFSET] [-S STRIDE -O OFFSET] NAME...
 *
 * For each NAME, every getaddrinfo call of the matrix (-g): families
 * UNSPEC/INET/INET6 x socket types 0/STREAM/DGRAM/RAW x protocols 0/TCP/UDP x
 * all 128 combinations of AI_CANONNAME, AI_V4MAPPED, AI_ALL, AI_ADDRCONFIG,
 * AI_NUMERICSERV, AI_PASSIVE, AI_CANONIDN x services NULL, "80", "http",
 * "domain", "no-such", "0", plus hints=NULL with each service; then (-h)
 * gethostbyname, gethostbyname2 (AF_INET, AF_INET6) and the _r forms over
 * every buffer size 0-1200 (the buffer starting size % 8 bytes past an
 * aligned address, so that glibc's alignment padding is exercised too).
 *
 * One line per call, everything the caller can see, in a form two runs
 * compare as text: the same records through glibc alone and through
 * nxretry must print the same lines. Lines begin with "G" (getaddrinfo) or
 * "H" (gethostbyname*), then the call, then its outcome. A last line
 * "# calls G H" counts them. */
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

#include "client.h"

static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
static const int socktypes[] = {0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW};
static const int protocols[] = {0, IPPROTO_TCP, IPPROTO_UDP};
static const int flag_bits[] = {AI_CANONNAME, AI_V4MAPPED, AI_ALL, AI_ADDRCONFIG,
				AI_NUMERICSERV, AI_PASSIVE, AI_CANONIDN};
static const char *const services[] = {NULL, "80", "http", "domain", "no-such", "0"};
#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAXBUF 1200

static long gcalls, hcalls;
/* -s STRIDE -o OFFSET: only the getaddrinfo calls whose index % STRIDE is
 * OFFSET (each configuration a different slice, all of them together the
 * whole matrix); -S and -O the same for the gethostbyname*_r calls.
 * gethostbyname and gethostbyname2 are always called. */
struct slice {
	unsigned long stride, offset, index;
};
static struct slice gslice = {1, 0, 0}, hslice = {1, 0, 0};

static int chosen(struct slice *s)
{
	return s->index++ % s->stride == s->offset;
}

static void put_addr(FILE *out, int family, const void *bytes)
{
	char text[INET6_ADDRSTRLEN];
	if (!inet_ntop(family, bytes, text, sizeof text))
		snprintf(text, sizeof text, "?");
	fputs(text, out);
}

static void put_node(FILE *out, const struct addrinfo *ai)
{
	fprintf(out, " | %x %d %d %d %u ", (unsigned)ai->ai_flags, ai->ai_family, ai->ai_socktype,
		ai->ai_protocol, (unsigned)ai->ai_addrlen);
	if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)ai->ai_addr;
		put_addr(out, AF_INET, &in->sin_addr);
		fprintf(out, " %u", ntohs(in->sin_port));
	} else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)ai->ai_addr;
		put_addr(out, AF_INET6, &in6->sin6_addr);
		fprintf(out, " %u %u %u", ntohs(in6->sin6_port), (unsigned)in6->sin6_flowinfo,
			(unsigned)in6->sin6_scope_id);
	}
	if (ai->ai_canonname)
		fprintf(out, " canon=%s", ai->ai_canonname);
}

static void one_gai(FILE *out, const char *name, const struct addrinfo *hints, const char *svc)
{
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(name, svc, hints, &res);
	gcalls++;
	if (hints)
		fprintf(out, "G %s %d %d %d %x %s rc=%s", name, hints->ai_family, hints->ai_socktype,
			hints->ai_protocol, (unsigned)hints->ai_flags, svc ? svc : "NULL", eai_name(rc));
	else
		fprintf(out, "G %s nohints %s rc=%s", name, svc ? svc : "NULL", eai_name(rc));
	if (rc == 0) {
		for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
			put_node(out, ai);
		freeaddrinfo(res);
	}
	fputc('\n', out);
}

static void gai_matrix(FILE *out, const char *name)
{
	for (size_t s = 0; s < N(services); s++)
		one_gai(out, name, NULL, services[s]);
	for (size_t f = 0; f < N(families); f++)
		for (size_t t = 0; t < N(socktypes); t++)
			for (size_t p = 0; p < N(protocols); p++)
				for (unsigned m = 0; m < 1u << N(flag_bits); m++)
					for (size_t s = 0; s < N(services); s++) {
						if (!chosen(&gslice))
							continue;
						struct addrinfo h = {.ai_family = families[f],
								     .ai_socktype = socktypes[t],
								     .ai_protocol = protocols[p]};
						for (size_t b = 0; b < N(flag_bits); b++)
							if (m & 1u << b)
								h.ai_flags |= flag_bits[b];
						one_gai(out, name, &h, services[s]);
					}
}

static const char *herr_text(int h)
{
	static char other[16];
	switch (h) {
	case NETDB_INTERNAL:
		return "NETDB_INTERNAL";
	case NETDB_SUCCESS:
		return "NETDB_SUCCESS";
	case HOST_NOT_FOUND:
		return "HOST_NOT_FOUND";
	case TRY_AGAIN:
		return "TRY_AGAIN";
	case NO_RECOVERY:
		return "NO_RECOVERY";
	case NO_DATA:
		return "NO_DATA";
	}
	snprintf(other, sizeof other, "%d", h);
	return other;
}

static void put_hostent(FILE *out, const struct hostent *he)
{
	if (!he) {
		fputs(" result=NULL", out);
		return;
	}
	fprintf(out, " name=%s aliases=[", he->h_name ? he->h_name : "(null)");
	for (char **a = he->h_aliases; a && *a; a++)
		fprintf(out, "%s%s", a == he->h_aliases ? "" : ",", *a);
	fprintf(out, "] type=%d len=%d addrs=[", he->h_addrtype, he->h_length);
	for (char **a = he->h_addr_list; a && *a; a++) {
		if (a != he->h_addr_list)
			fputc(',', out);
		put_addr(out, he->h_addrtype, *a);
	}
	fputc(']', out);
}

static void hostent_matrix(FILE *out, const char *name)
{
	/* 16-aligned storage; each call's buffer starts size % 8 bytes in. */
	static union {
		char bytes[MAXBUF + 16];
		long double align;
	} storage;
	const int afs[] = {AF_INET, AF_INET6};

	errno = 0;
	h_errno = 0;
	struct hostent *he = gethostbyname(name);
	int e = errno, h = h_errno;
	hcalls++;
	fprintf(out, "H gethostbyname %s errno=%s herr=%s", name, strerrorname_np(e) ? strerrorname_np(e) : "0",
		herr_text(h));
	put_hostent(out, he);
	fputc('\n', out);
	for (size_t i = 0; i < N(afs); i++) {
		errno = 0;
		h_errno = 0;
		he = gethostbyname2(name, afs[i]);
		e = errno, h = h_errno;
		hcalls++;
		fprintf(out, "H gethostbyname2 %s %d errno=%s herr=%s", name, afs[i],
			strerrorname_np(e) ? strerrorname_np(e) : "0", herr_text(h));
		put_hostent(out, he);
		fputc('\n', out);
	}
	for (int fn = 0; fn < 3; fn++)
		for (size_t len = 0; len <= MAXBUF; len++) {
			if (!chosen(&hslice))
				continue;
			char *buf = storage.bytes + len % 8;
			struct hostent ret, *result = (struct hostent *)1;
			int herr = -12345, rc;
			memset(storage.bytes, 0xa5, sizeof storage.bytes);
			errno = 0;
			if (fn == 0)
				rc = gethostbyname_r(name, &ret, buf, len, &result, &herr);
			else
				rc = gethostbyname2_r(name, afs[fn - 1], &ret, buf, len, &result, &herr);
			e = errno;
			hcalls++;
			fprintf(out, "H %s %s %d %zu rc=%s errno=%s herr=%s",
				fn ? "gethostbyname2_r" : "gethostbyname_r", name, fn ? afs[fn - 1] : 0, len,
				rc ? (strerrorname_np(rc) ? strerrorname_np(rc) : "?") : "0",
				strerrorname_np(e) ? strerrorname_np(e) : "0", herr_text(herr));
			if (result == (struct hostent *)1)
				fputs(" result=unset", out);
			else if (result && result != &ret)
				fputs(" result=other", out);
			else
				put_hostent(out, result);
			/* Every pointer must lie inside the caller's buffer. */
			if (result == &ret) {
				const char *lo = buf, *hi = buf + len;
				int outside = !(ret.h_name >= lo && ret.h_name < hi);
				for (char **a = ret.h_aliases; a && *a; a++)
					outside |= !(*a >= lo && *a < hi);
				for (char **a = ret.h_addr_list; a && *a; a++)
					outside |= !(*a >= lo && *a < hi);
				if (outside)
					fputs(" OUTSIDE-BUFFER", out);
			}
			fputc('\n', out);
		}
}

int main(int argc, char **argv)
{
	int gai = 0, host = 0, opt;
	while ((opt = getopt(argc, argv, "ghs:o:S:O:")) != -1) {
		if (opt == 'g')
			gai = 1;
		else if (opt == 'h')
			host = 1;
		else if (opt == 's')
			gslice.stride = strtoul(optarg, NULL, 10);
		else if (opt == 'o')
			gslice.offset = strtoul(optarg, NULL, 10);
		else if (opt == 'S')
			hslice.stride = strtoul(optarg, NULL, 10);
		else if (opt == 'O')
			hslice.offset = strtoul(optarg, NULL, 10);
		else
			return 1;
	}
	if (optind >= argc || (!gai && !host) || !gslice.stride || gslice.offset >= gslice.stride ||
	    !hslice.stride || hslice.offset >= hslice.stride) {
		fputs("usage: conform [-g] [-h] [-s STRIDE -o OFFSET] [-S STRIDE -O OFFSET] NAME...\n",
		      stderr);
		return 1;
	}
	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	for (int i = optind; i < argc; i++) {
		if (gai)
			gai_matrix(stdout, argv[i]);
		if (host)
			hostent_matrix(stdout, argv[i]);
	}
	printf("# calls %ld %ld\n", gcalls, hcalls);
	return fflush(stdout) ? 1 : 0;
}
