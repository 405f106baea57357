/* dnsq: raw DNS clients for the stub resolver's lab tests and benchmarks
 * (tests/lab/t-stub-*.sh, bench/run).
 *
 *   dnsq cmp [-t] [-b SIZE] [-D] [-W] [-v] A B NAME TYPE
 *       Sends one query (RD=1; -b SIZE: with an EDNS0 OPT of that UDP size,
 *       -D: and DO set) to A, then the same bytes but the id to B, over UDP
 *       (-t: TCP), and compares the replies from byte 2 on (the id left out).
 *       -W first asks A once and drops the reply, so that a cache at A holds
 *       the answer, then waits for the start of the next wall-clock second:
 *       both replies then come within one second, so TTLs counted down in
 *       whole seconds agree. Prints
 *         equal RCODE flags=HEX an=N ns=N ar=N len=N
 *       or
 *         differ at byte K of LEN_A/LEN_B: A 0xXX B 0xXX
 *       (-v: both replies in hex too). Exit 0 equal, 3 differ, 2 no reply.
 *   dnsq load [-t] [-w MS] [-n N] SERVER NAME TYPE
 *       N clients at once (default 1): N UDP sockets, or N TCP connections,
 *       each sends one query for NAME ('#' in NAME replaced by the client's
 *       number), then waits up to MS (default 5000) for its reply. Prints
 *         sent N answered N noreply N RCODE=N... p50=MS max=MS
 *       and with -a the first answer's A/AAAA records ("addr=...").
 *   dnsq garbage [-t] SERVER COUNT
 *       COUNT datagrams (-t: TCP connections, each one frame) of random bytes,
 *       0 to 600 long, some of them a valid header with garbage after it;
 *       waits 1 s and prints "sent N replies N" (what came back is not judged:
 *       FORMERR or nothing are both fine).
 *   dnsq half SERVER SECONDS
 *       Opens a TCP connection, sends a frame length of 100 and 10 bytes of
 *       the frame, then holds it SECONDS or until the server closes it:
 *       prints "closed after MS" or "held SECONDS".
 *
 * SERVER, A, B: IPv4[:PORT] or [IPv6][:PORT], port 53 by default. Exit 1 on a
 * usage error. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXMSG 65535
#define MAXCLIENTS 20000
#define MAXNAME 256

struct server {
	struct sockaddr_storage ss;
	socklen_t len;
};

static const struct {
	const char *name;
	int value;
} types[] = {
	{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 }, { "PTR", 12 }, { "MX", 15 },
	{ "TXT", 16 }, { "AAAA", 28 }, { "SRV", 33 }, { "DS", 43 }, { "RRSIG", 46 },
	{ "DNSKEY", 48 }, { "HTTPS", 65 }, { "ANY", 255 }, { "CAA", 257 },
};

static const char *const rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

static void usage(FILE *out)
{
	fputs("usage: dnsq cmp [-t] [-b SIZE] [-D] [-W] [-v] A B NAME TYPE\n"
	      "       dnsq load [-t] [-a] [-w MS] [-n N] SERVER NAME TYPE\n"
	      "       dnsq garbage [-t] SERVER COUNT\n"
	      "       dnsq half SERVER SECONDS\n", out);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int parse_server(const char *text, struct server *s)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL, *end;
	size_t n;
	memset(s, 0, sizeof *s);
	if (text[0] == '[') {
		end = strchr(text, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -1;
		n = (size_t)(end - text - 1);
		if (end[1])
			port = end + 2;
		text++;
	} else {
		end = strchr(text, ':');
		n = end ? (size_t)(end - text) : strlen(text);
		if (end)
			port = end + 1;
	}
	if (n >= sizeof host)
		return -1;
	memcpy(host, text, n);
	host[n] = 0;
	long p = 53;
	if (port) {
		char *stop;
		p = strtol(port, &stop, 10);
		if (*stop || p <= 0 || p > 65535)
			return -1;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)&s->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		s->len = sizeof *sin;
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		s->len = sizeof *sin6;
	} else {
		return -1;
	}
	return 0;
}

static int parse_type(const char *text)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (!strcasecmp(text, types[i].name))
			return types[i].value;
	char *end;
	long v = strtol(text, &end, 10);
	return *text && !*end && v > 0 && v < 65536 ? (int)v : -1;
}

static uint16_t random_id(void)
{
	uint16_t id = 0;
	if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
		id = (uint16_t)now_ms();
	return id;
}

/* A query for NAME (dotted, trailing dot optional) and TYPE with RD=1 and,
 * when edns > 0, an OPT record of that UDP size (DO when dnssec). Returns its
 * length, or -1 when the name does not fit or has an empty label. */
static int build_query(unsigned char *q, const char *name, int type, int edns, bool dnssec)
{
	uint16_t id = random_id();
	int n = 12;
	memset(q, 0, 12);
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	q[2] = 0x01; /* RD */
	q[5] = 1;
	q[11] = edns > 0;
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || len > 63 || n + 1 + (int)len > 12 + 254)
			return -1;
		q[n++] = (unsigned char)len;
		memcpy(q + n, p, len);
		n += (int)len;
		p += len;
		if (*p == '.')
			p++;
	}
	q[n++] = 0;
	q[n++] = (unsigned char)(type >> 8);
	q[n++] = (unsigned char)type;
	q[n++] = 0;
	q[n++] = 1; /* IN */
	if (edns > 0) {
		unsigned char opt[11] = { 0, 0, 41, (unsigned char)(edns >> 8), (unsigned char)edns,
					  0, 0, (unsigned char)(dnssec ? 0x80 : 0), 0, 0, 0 };
		memcpy(q + n, opt, sizeof opt);
		n += (int)sizeof opt;
	}
	return n;
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Waits until fd is ready for events or the deadline (monotonic ms) passes. */
static bool wait_fd(int fd, short events, long deadline)
{
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0)
			return false;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
	}
}

/* One exchange: the reply's length in reply (at most MAXMSG), or -1 when
 * none came before the deadline. Over UDP, datagrams whose id is not the
 * query's are skipped. */
static int exchange(const struct server *s, bool tcp, const unsigned char *q, int qlen,
		    unsigned char *reply, long timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	int fd = socket(s->ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	int got = -1;
	if (fd < 0)
		return -1;
	if (set_nonblock(fd) || (connect(fd, (const struct sockaddr *)&s->ss, s->len) && errno != EINPROGRESS))
		goto out;
	if (tcp) {
		unsigned char frame[2 + MAXMSG];
		frame[0] = (unsigned char)(qlen >> 8);
		frame[1] = (unsigned char)qlen;
		memcpy(frame + 2, q, (size_t)qlen);
		if (!wait_fd(fd, POLLOUT, deadline) || send(fd, frame, (size_t)qlen + 2, MSG_NOSIGNAL) != qlen + 2)
			goto out;
		int have = 0, want = -1;
		while (want < 0 || have < want + 2) {
			if (!wait_fd(fd, POLLIN, deadline))
				goto out;
			ssize_t r = recv(fd, frame + have, sizeof frame - (size_t)have, 0);
			if (r <= 0) {
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				goto out;
			}
			have += (int)r;
			if (want < 0 && have >= 2)
				want = frame[0] << 8 | frame[1];
		}
		memcpy(reply, frame + 2, (size_t)want);
		got = want;
	} else {
		if (send(fd, q, (size_t)qlen, 0) != qlen)
			goto out;
		while (wait_fd(fd, POLLIN, deadline)) {
			ssize_t r = recv(fd, reply, MAXMSG, 0);
			if (r >= 2 && reply[0] == q[0] && reply[1] == q[1]) {
				got = (int)r;
				break;
			}
		}
	}
out:
	close(fd);
	return got;
}

static const char *rcode_name(int rcode)
{
	return rcode < (int)(sizeof rcodes / sizeof rcodes[0]) ? rcodes[rcode] : "RCODE?";
}

static void hex(const char *label, const unsigned char *m, int n)
{
	printf("%s (%d bytes):", label, n);
	for (int i = 0; i < n; i++)
		printf("%s%02x", i % 32 ? " " : "\n  ", m[i]);
	putchar('\n');
}

static void sleep_to_next_second(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	/* 5 ms into the next second: the two queries then have 995 ms. */
	long ns = 1000000000L - now.tv_nsec + 5000000L;
	struct timespec d = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L };
	while (nanosleep(&d, &d) && errno == EINTR)
		;
}

static int cmd_cmp(int argc, char **argv)
{
	bool tcp = false, dnssec = false, warm = false, verbose = false;
	int edns = 0, opt;
	while ((opt = getopt(argc, argv, "tb:DWv")) != -1) {
		switch (opt) {
		case 't': tcp = true; break;
		case 'b': edns = atoi(optarg); break;
		case 'D': dnssec = true; break;
		case 'W': warm = true; break;
		case 'v': verbose = true; break;
		default: usage(stderr); return 1;
		}
	}
	if (argc - optind != 4 || edns < 0 || edns > 65535 || (dnssec && edns == 0)) {
		usage(stderr);
		return 1;
	}
	struct server a, b;
	int type = parse_type(argv[optind + 3]);
	if (parse_server(argv[optind], &a) || parse_server(argv[optind + 1], &b) || type < 0) {
		fprintf(stderr, "dnsq: bad server or type\n");
		return 1;
	}
	static unsigned char q[512], ra[MAXMSG], rb[MAXMSG];
	int qlen = build_query(q, argv[optind + 2], type, edns, dnssec);
	if (qlen < 0) {
		fprintf(stderr, "dnsq: bad name '%s'\n", argv[optind + 2]);
		return 1;
	}
	if (warm) {
		if (exchange(&a, tcp, q, qlen, ra, 3000) < 0) {
			printf("no reply from %s (warm-up)\n", argv[optind]);
			return 2;
		}
		sleep_to_next_second();
	}
	uint16_t id = random_id();
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	int la = exchange(&a, tcp, q, qlen, ra, 3000);
	id = (uint16_t)(id + 1);
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	int lb = la < 0 ? -1 : exchange(&b, tcp, q, qlen, rb, 3000);
	if (la < 12 || lb < 12) {
		printf("no reply from %s\n", argv[optind + (la < 12 ? 0 : 1)]);
		return 2;
	}
	if (verbose) {
		hex("A", ra, la);
		hex("B", rb, lb);
	}
	int n = la < lb ? la : lb;
	for (int i = 2; i < n || (i == n && la != lb); i++) {
		if (i == n || ra[i] != rb[i]) {
			printf("differ at byte %d of %d/%d: A 0x%02x B 0x%02x\n", i, la, lb,
			       i < la ? ra[i] : 0, i < lb ? rb[i] : 0);
			return 3;
		}
	}
	printf("equal %s flags=%02x%02x an=%d ns=%d ar=%d len=%d\n", rcode_name(ra[3] & 15), ra[2], ra[3],
	       ra[6] << 8 | ra[7], ra[8] << 8 | ra[9], ra[10] << 8 | ra[11], la);
	return 0;
}

/* The name of client i: NAME with each '#' replaced by i. */
static void client_name(char *out, size_t size, const char *pattern, int i)
{
	size_t n = 0;
	for (const char *p = pattern; *p && n + 12 < size; p++) {
		if (*p == '#')
			n += (size_t)snprintf(out + n, size - n, "%d", i);
		else
			out[n++] = *p;
	}
	out[n] = 0;
}

struct client {
	int fd;
	bool done;
	int have, want; /* TCP: bytes of the reply frame read, its length */
	long took;
	unsigned char q[300];
	int qlen;
	unsigned char buf[2 + 4096];
};

static int cmp_long(const void *x, const void *y)
{
	long a = *(const long *)x, b = *(const long *)y;
	return (a > b) - (a < b);
}

/* The A and AAAA records of the answer section, space separated. */
static void print_addresses(const unsigned char *m, int len)
{
	int an = m[6] << 8 | m[7], qd = m[4] << 8 | m[5], p = 12;
	for (int i = 0; i < qd + an && p < len; i++) {
		while (p < len && m[p] && (m[p] & 0xc0) != 0xc0)
			p += m[p] + 1;
		p += p < len && (m[p] & 0xc0) == 0xc0 ? 2 : 1;
		if (i < qd) {
			p += 4;
			continue;
		}
		if (p + 10 > len)
			return;
		int type = m[p] << 8 | m[p + 1], rdlen = m[p + 8] << 8 | m[p + 9];
		p += 10;
		if (p + rdlen > len)
			return;
		char text[INET6_ADDRSTRLEN];
		if ((type == 1 && rdlen == 4 && inet_ntop(AF_INET, m + p, text, sizeof text)) ||
		    (type == 28 && rdlen == 16 && inet_ntop(AF_INET6, m + p, text, sizeof text)))
			printf(" addr=%s", text);
		p += rdlen;
	}
}

static int cmd_load(int argc, char **argv)
{
	bool tcp = false, addrs = false;
	long wait_ms = 5000;
	int n = 1, opt;
	while ((opt = getopt(argc, argv, "taw:n:")) != -1) {
		switch (opt) {
		case 't': tcp = true; break;
		case 'a': addrs = true; break;
		case 'w': wait_ms = atol(optarg); break;
		case 'n': n = atoi(optarg); break;
		default: usage(stderr); return 1;
		}
	}
	struct server s;
	int type = argc - optind == 3 ? parse_type(argv[optind + 2]) : -1;
	if (type < 0 || n < 1 || n > MAXCLIENTS || wait_ms < 1 || parse_server(argv[optind], &s)) {
		usage(stderr);
		return 1;
	}
	struct client *c = calloc((size_t)n, sizeof *c);
	struct pollfd *p = calloc((size_t)n, sizeof *p);
	long *took = calloc((size_t)n, sizeof *took);
	int counts[16] = { 0 }, sent = 0, answered = 0, first = -1;
	if (!c || !p || !took)
		return 1;
	long start = now_ms(), deadline = start + wait_ms;
	for (int i = 0; i < n; i++) {
		char name[MAXNAME];
		client_name(name, sizeof name, argv[optind + 1], i);
		c[i].qlen = build_query(c[i].q, name, type, 1232, false);
		c[i].fd = socket(s.ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
		if (c[i].qlen < 0 || c[i].fd < 0 || set_nonblock(c[i].fd) ||
		    (connect(c[i].fd, (const struct sockaddr *)&s.ss, s.len) && errno != EINPROGRESS)) {
			fprintf(stderr, "dnsq: client %d: %s\n", i, c[i].qlen < 0 ? "bad name" : strerror(errno));
			return 1;
		}
		if (!tcp && send(c[i].fd, c[i].q, (size_t)c[i].qlen, 0) == c[i].qlen)
			sent++;
		c[i].want = -1;
	}
	/* TCP: each connection sends its frame once writable. */
	bool *wrote = calloc((size_t)n, sizeof *wrote);
	if (!wrote)
		return 1;
	for (;;) {
		int live = 0;
		for (int i = 0; i < n; i++) {
			p[i].fd = c[i].done ? -1 : c[i].fd;
			p[i].events = tcp && !wrote[i] ? POLLOUT : POLLIN;
			p[i].revents = 0;
			live += !c[i].done;
		}
		long left = deadline - now_ms();
		if (!live || left <= 0)
			break;
		if (poll(p, (nfds_t)n, (int)left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			if (!p[i].revents)
				continue;
			struct client *k = &c[i];
			if (tcp && !wrote[i]) {
				unsigned char frame[2 + sizeof k->q];
				frame[0] = (unsigned char)(k->qlen >> 8);
				frame[1] = (unsigned char)k->qlen;
				memcpy(frame + 2, k->q, (size_t)k->qlen);
				wrote[i] = true;
				if (send(k->fd, frame, (size_t)k->qlen + 2, MSG_NOSIGNAL) == k->qlen + 2)
					sent++;
				else
					k->done = true;
				continue;
			}
			ssize_t r;
			if (tcp) {
				r = recv(k->fd, k->buf + k->have, sizeof k->buf - (size_t)k->have, 0);
				if (r <= 0) {
					if (r < 0 && errno == EAGAIN)
						continue;
					k->done = true;
					continue;
				}
				k->have += (int)r;
				if (k->want < 0 && k->have >= 2)
					k->want = k->buf[0] << 8 | k->buf[1];
				if (k->want < 0 || k->have < k->want + 2) {
					if (k->have == (int)sizeof k->buf)
						k->done = true;
					continue;
				}
			} else {
				r = recv(k->fd, k->buf + 2, sizeof k->buf - 2, 0);
				if (r < 12 || k->buf[2] != k->q[0] || k->buf[3] != k->q[1])
					continue;
				k->want = (int)r;
			}
			const unsigned char *m = k->buf + 2;
			if (k->want < 12 || m[0] != k->q[0] || m[1] != k->q[1]) {
				k->done = true;
				continue;
			}
			k->done = true;
			k->took = now_ms() - start;
			took[answered++] = k->took;
			counts[m[3] & 15]++;
			if (first < 0)
				first = i;
		}
	}
	printf("sent %d answered %d noreply %d", sent, answered, n - answered);
	for (int r = 0; r < 16; r++)
		if (counts[r])
			printf(" %s=%d", rcode_name(r), counts[r]);
	if (answered) {
		qsort(took, (size_t)answered, sizeof *took, cmp_long);
		printf(" p50=%ld max=%ld", took[(answered - 1) / 2], took[answered - 1]);
	}
	if (addrs && first >= 0)
		print_addresses(c[first].buf + 2, c[first].want);
	putchar('\n');
	for (int i = 0; i < n; i++)
		close(c[i].fd);
	free(c);
	free(p);
	free(took);
	free(wrote);
	return 0;
}

static int cmd_garbage(int argc, char **argv)
{
	bool tcp = argc > 1 && !strcmp(argv[1], "-t");
	struct server s;
	int count = argc == 3 + tcp ? atoi(argv[2 + tcp]) : -1;
	if (count < 1 || count > MAXCLIENTS || parse_server(argv[1 + tcp], &s)) {
		usage(stderr);
		return 1;
	}
	int replies = 0, sent = 0;
	int udp = tcp ? -1 : socket(s.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int i = 0; i < count; i++) {
		unsigned char m[2 + 600];
		uint16_t len = 0;
		if (getrandom(&len, sizeof len, 0) != (ssize_t)sizeof len || getrandom(m + 2, 600, 0) != 600)
			return 1;
		len %= 601;
		/* A third of them look like a query header: QR=0, one question. */
		if (i % 3 == 0 && len >= 12) {
			m[2 + 2] &= 0x7f;
			m[2 + 4] = 0;
			m[2 + 5] = 1;
		}
		if (tcp) {
			int fd = socket(s.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0 || connect(fd, (const struct sockaddr *)&s.ss, s.len))
				return 1;
			m[0] = (unsigned char)(len >> 8);
			m[1] = (unsigned char)len;
			if (send(fd, m, (size_t)len + 2, MSG_NOSIGNAL) == len + 2)
				sent++;
			unsigned char r[MAXMSG];
			if (set_nonblock(fd) == 0 && wait_fd(fd, POLLIN, now_ms() + 200) && recv(fd, r, sizeof r, 0) > 0)
				replies++;
			close(fd);
		} else if (sendto(udp, m + 2, len, 0, (const struct sockaddr *)&s.ss, s.len) == len) {
			sent++;
		}
	}
	if (!tcp) {
		unsigned char r[MAXMSG];
		long deadline = now_ms() + 1000;
		set_nonblock(udp);
		while (wait_fd(udp, POLLIN, deadline))
			if (recv(udp, r, sizeof r, 0) >= 0)
				replies++;
		close(udp);
	}
	printf("sent %d replies %d\n", sent, replies);
	return 0;
}

static int cmd_half(int argc, char **argv)
{
	struct server s;
	long seconds = argc == 3 ? atol(argv[2]) : -1;
	if (seconds < 0 || parse_server(argv[1], &s)) {
		usage(stderr);
		return 1;
	}
	int fd = socket(s.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&s.ss, s.len)) {
		printf("connect: %s\n", strerror(errno));
		return 2;
	}
	unsigned char part[12] = { 0, 100, 0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0 };
	if (send(fd, part, sizeof part, MSG_NOSIGNAL) != (ssize_t)sizeof part) {
		printf("send: %s\n", strerror(errno));
		return 2;
	}
	long start = now_ms();
	set_nonblock(fd);
	while (wait_fd(fd, POLLIN, start + seconds * 1000)) {
		unsigned char r[512];
		ssize_t got = recv(fd, r, sizeof r, 0);
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
			printf("closed after %ld\n", now_ms() - start);
			close(fd);
			return 0;
		}
	}
	printf("held %ld\n", seconds);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "cmp"))
		return cmd_cmp(argc - 1, argv + 1);
	if (!strcmp(argv[1], "load"))
		return cmd_load(argc - 1, argv + 1);
	if (!strcmp(argv[1], "garbage"))
		return cmd_garbage(argc - 1, argv + 1);
	if (!strcmp(argv[1], "half"))
		return cmd_half(argc - 1, argv + 1);
	usage(stderr);
	return 1;
}
