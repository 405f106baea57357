/* faultdns: a DNS server that answers in one chosen, usually wrong, way, for
 * nxretry's lab tests of pinned nameservers that misbehave.
 *
 *   faultdns [-d] [-l LOG] [-z ZONE] ADDR:PORT MODE [NAME=ADDRESS...]
 *
 * ADDR is an IPv4 address or a bracketed IPv6 one ([fd00:53::9]:53). It
 * listens there over UDP and TCP and answers every query as MODE says:
 *
 *   good       a correct authoritative (AA) answer from the table
 *   blackhole  never answers (TCP connections are accepted, then ignored)
 *   garbage    random bytes (the first two are the query's id)
 *   refused    RCODE REFUSED
 *   servfail   RCODE SERVFAIL
 *   lame       the table's answer without the AA bit
 *   wrongid    the table's answer with another message id
 *   slow=MS    waits MS milliseconds, then the table's answer
 *   tc         over UDP an empty reply with TC set, over TCP the answer
 *   decoy      over UDP, before the table's answer, two replies from the
 *              same address a resolver must ignore: the answer with
 *              another id, then with the right id and another question
 *              (its first letter changed)
 *   upref      a referral to ZONE itself, not AA: no answer, ZONE's NS
 *              (ns.ZONE) in the authority section and this server's own
 *              address as its glue; what a lame server that has only the
 *              parent's delegation says, whatever the name
 *
 * The table: NAME=ADDRESS pairs, an A or AAAA record (TTL 60) each; a name
 * may be given several times. Names in no pair are NXDOMAIN, other types of
 * a listed name NODATA, both with ZONE's SOA (default lab.test, negative
 * TTL 60) in the authority section. UDP replies over 512 bytes are cut to
 * the header and the question, with TC set (queries carry no EDNS here).
 *
 * Every query received is logged on stdout, one line each:
 * "udp|tcp NAME TYPE". -d: bind, then run in the background and print the
 * server's pid (the parent exits 0 once the sockets listen); -l LOG sends
 * the query log to LOG instead of stdout. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
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

#define MAXNAME 256
#define MAXRECORDS 256
#define MAXMSG 65535
#define UDP_LIMIT 512
#define TTL 60

enum mode { GOOD, BLACKHOLE, GARBAGE, REFUSED, SERVFAIL, LAME, WRONGID, SLOW, TC, UPREF, DECOY };

static const char *const mode_names[] = {
	[GOOD] = "good", [BLACKHOLE] = "blackhole", [GARBAGE] = "garbage",
	[REFUSED] = "refused", [SERVFAIL] = "servfail", [LAME] = "lame",
	[WRONGID] = "wrongid", [SLOW] = "slow", [TC] = "tc", [UPREF] = "upref",
	[DECOY] = "decoy",
};

struct record {
	char name[MAXNAME]; /* lower case, no trailing dot */
	int type;           /* 1 (A) or 28 (AAAA) */
	unsigned char data[16];
};

static enum mode mode;
static long slow_ms;
static struct record records[MAXRECORDS];
static int nrecords;
static char zone[MAXNAME] = "lab.test";
static int udp_fd = -1;
static struct sockaddr_storage listen_addr; /* upref: the glue */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void usage(FILE *out)
{
	fputs("usage: faultdns [-d] [-l LOG] [-z ZONE] ADDR:PORT MODE [NAME=ADDRESS...]\n"
	      "MODE: good blackhole garbage refused servfail lame wrongid slow=MS tc upref\n", out);
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

static void strip_dot(char *s)
{
	size_t n = strlen(s);
	if (n > 1 && s[n - 1] == '.')
		s[n - 1] = 0;
}

static int parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port;
	memset(ss, 0, sizeof *ss);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
			return -1;
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = 0;
		port = close + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof host)
			return -1;
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = 0;
		port = colon + 1;
	}
	char *end;
	long p = strtol(port, &end, 10);
	if (*end || p <= 0 || p > 65535)
		return -1;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		*len = sizeof *sin;
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		*len = sizeof *sin6;
	} else {
		return -1;
	}
	return 0;
}

static int parse_mode(const char *text)
{
	for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
		if (i != SLOW && !strcmp(text, mode_names[i])) {
			mode = (enum mode)i;
			return 0;
		}
	if (!strncmp(text, "slow=", 5)) {
		char *end;
		slow_ms = strtol(text + 5, &end, 10);
		if (*end || end == text + 5 || slow_ms < 0 || slow_ms > 600000)
			return -1;
		mode = SLOW;
		return 0;
	}
	return -1;
}

static int parse_record(const char *text)
{
	const char *eq = strchr(text, '=');
	if (!eq || eq == text || (size_t)(eq - text) >= MAXNAME || nrecords >= MAXRECORDS)
		return -1;
	struct record *r = &records[nrecords];
	memcpy(r->name, text, (size_t)(eq - text));
	r->name[eq - text] = 0;
	lower(r->name);
	strip_dot(r->name);
	if (inet_pton(AF_INET, eq + 1, r->data) == 1)
		r->type = 1;
	else if (inet_pton(AF_INET6, eq + 1, r->data) == 1)
		r->type = 28;
	else
		return -1;
	nrecords++;
	return 0;
}

/* ---- messages ---- */

struct query {
	uint16_t id;
	uint8_t flags1; /* opcode and RD, as received */
	char name[MAXNAME];
	int qtype, qclass;
	const unsigned char *question; /* wire form of the question */
	size_t qlen;
};

/* Parses a query: one question, uncompressed name. */
static int parse_query(const unsigned char *msg, size_t len, struct query *q)
{
	if (len < 12 || (msg[2] & 0x80) || msg[4] != 0 || msg[5] != 1)
		return -1;
	q->id = (uint16_t)(msg[0] << 8 | msg[1]);
	q->flags1 = msg[2];
	size_t p = 12, o = 0;
	for (;;) {
		if (p >= len)
			return -1;
		unsigned n = msg[p++];
		if (n == 0)
			break;
		if (n > 63 || p + n > len || o + n + 2 >= MAXNAME)
			return -1;
		if (o)
			q->name[o++] = '.';
		memcpy(q->name + o, msg + p, n);
		o += n;
		p += n;
	}
	q->name[o] = 0;
	lower(q->name);
	if (p + 4 > len)
		return -1;
	q->qtype = msg[p] << 8 | msg[p + 1];
	q->qclass = msg[p + 2] << 8 | msg[p + 3];
	q->question = msg + 12;
	q->qlen = p + 4 - 12;
	return 0;
}

static const char *type_name(int type, char *buf, size_t len)
{
	switch (type) {
	case 1: return "A";
	case 2: return "NS";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 28: return "AAAA";
	default: snprintf(buf, len, "TYPE%d", type); return buf;
	}
}

struct writer {
	unsigned char *buf;
	size_t len, cap;
	bool full;
};

static void put(struct writer *w, const void *data, size_t n)
{
	if (w->len + n > w->cap) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
}

static void put16(struct writer *w, unsigned v)
{
	unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	put(w, b, 2);
}

static void put32(struct writer *w, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};
	put(w, b, 4);
}

static void put_name(struct writer *w, const char *name)
{
	char copy[MAXNAME];
	snprintf(copy, sizeof copy, "%s", name);
	for (char *label = copy; *label;) {
		char *dot = strchr(label, '.');
		size_t n = dot ? (size_t)(dot - label) : strlen(label);
		unsigned char len = (unsigned char)n;
		put(w, &len, 1);
		put(w, label, n);
		label += n + (dot ? 1 : 0);
	}
	put(w, "", 1);
}

static bool name_known(const char *name)
{
	for (int i = 0; i < nrecords; i++)
		if (!strcmp(records[i].name, name))
			return true;
	return false;
}

/* The reply the table gives, with the header bits this mode asks for.
 * Returns its length. */
static size_t build_reply(const struct query *q, bool udp, unsigned char *out, size_t cap)
{
	struct writer w = {out, 0, cap, false};
	int rcode = 0;
	bool aa = mode != LAME && mode != REFUSED && mode != SERVFAIL;
	bool tc = mode == TC && udp;
	int answers = 0;
	bool known = name_known(q->name);

	if (mode == REFUSED)
		rcode = 5;
	else if (mode == SERVFAIL)
		rcode = 2;
	else if (!known)
		rcode = 3;
	if (rcode == 0 && !tc)
		for (int i = 0; i < nrecords; i++)
			answers += !strcmp(records[i].name, q->name) && records[i].type == q->qtype;
	bool soa = (rcode == 0 || rcode == 3) && !tc && answers == 0;

	uint16_t id = mode == WRONGID ? (uint16_t)(q->id ^ 0x5a5a) : q->id;
	put16(&w, id);
	unsigned char flags[2] = {(unsigned char)(0x80 | (q->flags1 & 0x79) | (aa ? 0x04 : 0) | (tc ? 0x02 : 0)),
				  (unsigned char)rcode};
	put(&w, flags, 2);
	put16(&w, 1);
	put16(&w, (unsigned)answers);
	put16(&w, soa ? 1 : 0);
	put16(&w, 0);
	put(&w, q->question, q->qlen);
	size_t header_and_question = w.len;
	for (int i = 0; i < nrecords && answers; i++) {
		const struct record *r = &records[i];
		if (strcmp(r->name, q->name) || r->type != q->qtype)
			continue;
		put16(&w, 0xc00c); /* the question's name */
		put16(&w, (unsigned)r->type);
		put16(&w, 1);
		put32(&w, TTL);
		put16(&w, r->type == 1 ? 4 : 16);
		put(&w, r->data, r->type == 1 ? 4 : 16);
	}
	if (soa) {
		char mname[MAXNAME + 8], rname[MAXNAME + 16];
		snprintf(mname, sizeof mname, "ns.%s", zone);
		snprintf(rname, sizeof rname, "hostmaster.%s", zone);
		put_name(&w, zone);
		put16(&w, 6);
		put16(&w, 1);
		put32(&w, TTL);
		size_t rdlen_at = w.len;
		put16(&w, 0);
		size_t start = w.len;
		put_name(&w, mname);
		put_name(&w, rname);
		put32(&w, 1);
		put32(&w, 3600);
		put32(&w, 600);
		put32(&w, 86400);
		put32(&w, TTL);
		if (!w.full) {
			size_t rdlen = w.len - start;
			out[rdlen_at] = (unsigned char)(rdlen >> 8);
			out[rdlen_at + 1] = (unsigned char)rdlen;
		}
	}
	if (w.full || (udp && w.len > UDP_LIMIT)) {
		/* Too long: the header and the question, TC set, no records. */
		w.len = header_and_question;
		out[2] |= 0x02;
		memset(out + 6, 0, 6);
	}
	return w.len;
}

/* upref: NOERROR, not AA, no answer; ZONE NS ns.ZONE, and ns.ZONE's
 * address (this server's) in the additional section. */
static size_t build_upref(const struct query *q, unsigned char *out, size_t cap)
{
	struct writer w = {out, 0, cap, false};
	char ns[MAXNAME + 8];
	snprintf(ns, sizeof ns, "ns.%s", zone);
	bool v6 = listen_addr.ss_family == AF_INET6;
	put16(&w, q->id);
	unsigned char flags[2] = {(unsigned char)(0x80 | (q->flags1 & 0x79)), 0};
	put(&w, flags, 2);
	put16(&w, 1);
	put16(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	put(&w, q->question, q->qlen);
	put_name(&w, zone);
	put16(&w, 2); /* NS */
	put16(&w, 1);
	put32(&w, TTL);
	put16(&w, (unsigned)strlen(ns) + 2);
	put_name(&w, ns);
	put_name(&w, ns);
	put16(&w, v6 ? 28 : 1);
	put16(&w, 1);
	put32(&w, TTL);
	if (v6) {
		put16(&w, 16);
		put(&w, &((const struct sockaddr_in6 *)&listen_addr)->sin6_addr, 16);
	} else {
		put16(&w, 4);
		put(&w, &((const struct sockaddr_in *)&listen_addr)->sin_addr, 4);
	}
	return w.full ? 0 : w.len;
}

static size_t build_garbage(const struct query *q, unsigned char *out, size_t cap)
{
	uint16_t r16;
	if (getrandom(&r16, sizeof r16, 0) != (ssize_t)sizeof r16)
		r16 = (uint16_t)rand();
	size_t len = 2 + r16 % 500;
	if (len > cap)
		len = cap;
	if (getrandom(out, len, 0) != (ssize_t)len)
		for (size_t i = 0; i < len; i++)
			out[i] = (unsigned char)rand();
	out[0] = (unsigned char)(q->id >> 8);
	out[1] = (unsigned char)q->id;
	return len;
}

static void log_query(const struct query *q, bool udp)
{
	char tbuf[16];
	pthread_mutex_lock(&log_lock);
	printf("%s %s %s\n", udp ? "udp" : "tcp", q->name[0] ? q->name : ".",
	       type_name(q->qtype, tbuf, sizeof tbuf));
	fflush(stdout);
	pthread_mutex_unlock(&log_lock);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The reply to send, or 0 for none. */
static size_t respond(const struct query *q, bool udp, unsigned char *out, size_t cap)
{
	switch (mode) {
	case BLACKHOLE:
		return 0;
	case UPREF:
		return build_upref(q, out, cap);
	case GARBAGE:
		return build_garbage(q, out, cap);
	case SLOW:
		sleep_ms(slow_ms);
		return build_reply(q, udp, out, cap);
	default:
		return build_reply(q, udp, out, cap);
	}
}

/* ---- UDP ---- */

struct udp_job {
	struct query q;
	unsigned char msg[MAXMSG];
	struct sockaddr_storage from;
	socklen_t fromlen;
};

static void *udp_slow_reply(void *arg)
{
	struct udp_job *j = arg;
	unsigned char out[MAXMSG];
	size_t n = respond(&j->q, true, out, sizeof out);
	if (n && mode == DECOY && n > 13) {
		out[0] ^= 0x5a; /* another id */
		sendto(udp_fd, out, n, 0, (struct sockaddr *)&j->from, j->fromlen);
		out[0] ^= 0x5a;
		out[13] ^= 0x01; /* the first letter of the question's name */
		sendto(udp_fd, out, n, 0, (struct sockaddr *)&j->from, j->fromlen);
		out[13] ^= 0x01;
	}
	if (n)
		sendto(udp_fd, out, n, 0, (struct sockaddr *)&j->from, j->fromlen);
	free(j);
	return NULL;
}

static void udp_one(void)
{
	struct udp_job *j = malloc(sizeof *j);
	if (!j)
		return;
	j->fromlen = sizeof j->from;
	ssize_t n = recvfrom(udp_fd, j->msg, sizeof j->msg, 0, (struct sockaddr *)&j->from,
			     &j->fromlen);
	if (n < 0 || parse_query(j->msg, (size_t)n, &j->q)) {
		free(j);
		return;
	}
	log_query(&j->q, true);
	if (mode == SLOW) {
		pthread_t t;
		if (pthread_create(&t, NULL, udp_slow_reply, j) == 0) {
			pthread_detach(t);
			return;
		}
	}
	udp_slow_reply(j);
}

/* ---- TCP: a thread per connection ---- */

static bool read_full(int fd, unsigned char *buf, size_t n)
{
	while (n) {
		ssize_t r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		buf += r;
		n -= (size_t)r;
	}
	return true;
}

static bool write_full(int fd, const unsigned char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		n -= (size_t)w;
	}
	return true;
}

static void *tcp_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	unsigned char *msg = malloc(MAXMSG), *out = malloc(MAXMSG + 2);
	while (msg && out) {
		unsigned char lenb[2];
		if (!read_full(fd, lenb, 2))
			break;
		size_t len = (size_t)(lenb[0] << 8 | lenb[1]);
		struct query q;
		if (!read_full(fd, msg, len) || parse_query(msg, len, &q))
			break;
		log_query(&q, false);
		size_t n = respond(&q, false, out + 2, MAXMSG);
		if (!n)
			continue; /* blackhole: keep the connection, say nothing */
		out[0] = (unsigned char)(n >> 8);
		out[1] = (unsigned char)n;
		if (!write_full(fd, out, n + 2))
			break;
	}
	free(msg);
	free(out);
	close(fd);
	return NULL;
}

static int open_socket(const struct sockaddr_storage *ss, socklen_t len, int type)
{
	int fd = socket(ss->ss_family, type | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)ss, len) || (type == SOCK_STREAM && listen(fd, 64))) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	int opt;
	bool daemonize = false;
	const char *logfile = NULL;
	while ((opt = getopt(argc, argv, "dl:z:h")) != -1) {
		switch (opt) {
		case 'd':
			daemonize = true;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'z':
			snprintf(zone, sizeof zone, "%s", optarg);
			lower(zone);
			strip_dot(zone);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 1;
	}
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (parse_listen(argv[optind], &ss, &sslen)) {
		fprintf(stderr, "faultdns: bad address '%s' (IPv4:PORT or [IPv6]:PORT)\n", argv[optind]);
		return 1;
	}
	if (parse_mode(argv[optind + 1])) {
		fprintf(stderr, "faultdns: unknown mode '%s'\n", argv[optind + 1]);
		usage(stderr);
		return 1;
	}
	for (int i = optind + 2; i < argc; i++)
		if (parse_record(argv[i])) {
			fprintf(stderr, "faultdns: bad record '%s' (NAME=IPv4 or NAME=IPv6)\n", argv[i]);
			return 1;
		}

	signal(SIGPIPE, SIG_IGN);
	listen_addr = ss;
	udp_fd = open_socket(&ss, sslen, SOCK_DGRAM);
	int tcp_fd = open_socket(&ss, sslen, SOCK_STREAM);
	if (udp_fd < 0 || tcp_fd < 0) {
		fprintf(stderr, "faultdns: cannot listen on %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	int logfd = -1;
	if (logfile && (logfd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "faultdns: %s: %s\n", logfile, strerror(errno));
		return 1;
	}
	if (daemonize) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0) {
			/* The parent's stdout is the caller's $(...): print the pid and go. */
			printf("%d\n", (int)pid);
			return 0;
		}
		setsid();
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			if (!logfile)
				dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			if (null > STDERR_FILENO)
				close(null);
		}
	}
	if (logfd >= 0) {
		dup2(logfd, STDOUT_FILENO);
		close(logfd);
	}

	struct pollfd fds[2] = {{.fd = udp_fd, .events = POLLIN}, {.fd = tcp_fd, .events = POLLIN}};
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (fds[0].revents & POLLIN)
			udp_one();
		if (fds[1].revents & POLLIN) {
			int c = accept4(tcp_fd, NULL, NULL, SOCK_CLOEXEC);
			pthread_t t;
			if (c >= 0 && pthread_create(&t, NULL, tcp_conn, (void *)(intptr_t)c) == 0)
				pthread_detach(t);
			else if (c >= 0)
				close(c);
		}
	}
}
