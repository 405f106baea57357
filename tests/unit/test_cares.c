/* The c-ares nxretry is built with, and probe.c's use of it: the library
 * linked is the one the headers describe, and one exchange with a scripted
 * server on 127.0.0.1 (a thread of this test, UDP and TCP) gives the
 * expected outcome whatever c-ares puts on the wire: its own query ids from
 * 1.22, re-encoded replies from 1.28. The server also checks what reached
 * it: RD as asked, no EDNS record, the name as nxretry wrote it (no case
 * randomization), sockets closed on exec. */
#include "util.h"

#include "nxretry.h"

#include <ares.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- the library and its headers ---- */

static void test_version_matches_headers(void **state)
{
	(void)state;
	int num = 0;
	const char *str = ares_version(&num);
	assert_string_equal(str, ARES_VERSION_STR);
	assert_int_equal(num, ARES_VERSION);
}

/* ---- a scripted server ---- */

enum mode { ANSWER, WRONGID, REFUSED, SERVFAIL, GARBAGE, TRUNCATE };

#define ADDR4 "192.0.2.7"
#define MAXSEEN 8

struct seen {
	bool tcp;
	struct pkt_query q;
};

struct server {
	int udp, tcp, stop[2];
	struct nx_nameserver addr;
	enum mode mode;
	pthread_t thread;
	pthread_mutex_t lock;
	struct seen seen[MAXSEEN];
	int nseen;
	int peer_sockets;     /* sockets of the client seen while a query came in */
	int peer_no_cloexec;  /* ... of which without FD_CLOEXEC */
};

static struct server srv;

/* Every socket of this process other than the server's: the client's.
 * Through system calls, not libc's wrappers: ThreadSanitizer would count
 * this thread's look at the client's descriptors as a race on them. */
static void check_peer_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		struct stat st;
		if (e->d_name[0] == '.' || fd == dirfd(d) || fd == srv.udp || fd == srv.tcp ||
		    syscall(SYS_fstat, fd, &st) || !S_ISSOCK(st.st_mode))
			continue;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		/* An accepted TCP connection is the server's: its local port is ours. */
		if (!syscall(SYS_getsockname, fd, (struct sockaddr *)&ss, &sl) && ss.ss_family == AF_INET &&
		    ntohs(((struct sockaddr_in *)&ss)->sin_port) == srv.addr.port)
			continue;
		srv.peer_sockets++;
		if (!(syscall(SYS_fcntl, fd, F_GETFD) & FD_CLOEXEC))
			srv.peer_no_cloexec++;
	}
	closedir(d);
}

/* The reply the mode calls for, into r; false for none. */
static bool reply_for(const struct pkt_query *q, bool tcp, struct pkt *r)
{
	switch (srv.mode) {
	case ANSWER:
	case WRONGID:
	case TRUNCATE:
		if (srv.mode == TRUNCATE && !tcp) {
			pkt_reply(r, q->id, PKT_AA | PKT_TC, PKT_RCODE_NOERROR, q->qname, q->qtype);
			return true;
		}
		pkt_reply(r, srv.mode == WRONGID ? q->id ^ 0x5a5a : q->id, PKT_AA,
			  PKT_RCODE_NOERROR, q->qname, q->qtype);
		if (q->qtype == NX_T_A)
			pkt_a(r, PKT_AN, PKT_QNAME, 60, ADDR4);
		else
			pkt_soa(r, PKT_NS, "lab.test", 60, 30);
		return true;
	case REFUSED:
	case SERVFAIL:
		pkt_reply(r, q->id, 0, srv.mode == REFUSED ? PKT_RCODE_REFUSED : PKT_RCODE_SERVFAIL,
			  q->qname, q->qtype);
		return true;
	case GARBAGE:
		/* The query's id, a reply, one question whose first label runs
		 * past the end: no parser can read it. */
		pkt_init(r, q->id, PKT_QR | PKT_AA, PKT_RCODE_NOERROR);
		pkt_set_count(r, PKT_QD, 1);
		pkt_bytes(r, "\077abc", 4);
		return true;
	}
	return false;
}

static void answer(const unsigned char *q, size_t len, bool tcp, struct pkt *r, bool *ok)
{
	struct seen s;
	memset(&s, 0, sizeof s);
	*ok = false;
	if (!pkt_read_query(q, len, &s.q))
		return;
	s.tcp = tcp;
	pthread_mutex_lock(&srv.lock);
	if (srv.nseen < MAXSEEN)
		srv.seen[srv.nseen++] = s;
	check_peer_sockets();
	*ok = reply_for(&s.q, tcp, r); /* reads the mode the test sets */
	pthread_mutex_unlock(&srv.lock);
}

static void serve_tcp(int c)
{
	static struct pkt r;
	unsigned char buf[2 + 512];
	size_t have = 0;
	while (have < 2 || have < 2 + (size_t)(buf[0] << 8 | buf[1])) {
		struct pollfd pf = {.fd = c, .events = POLLIN};
		if (poll(&pf, 1, 2000) <= 0)
			return;
		ssize_t n = read(c, buf + have, sizeof buf - have);
		if (n <= 0)
			return;
		have += (size_t)n;
	}
	bool ok;
	answer(buf + 2, (size_t)(buf[0] << 8 | buf[1]), true, &r, &ok);
	if (!ok)
		return;
	unsigned char len[2] = {(unsigned char)(r.len >> 8), (unsigned char)r.len};
	if (write(c, len, 2) != 2 || write(c, r.buf, r.len) != (ssize_t)r.len)
		return;
}

static void *serve(void *arg)
{
	(void)arg;
	static struct pkt r;
	for (;;) {
		struct pollfd pf[3] = {{.fd = srv.udp, .events = POLLIN},
				       {.fd = srv.tcp, .events = POLLIN},
				       {.fd = srv.stop[0], .events = POLLIN}};
		if (poll(pf, 3, -1) < 0)
			continue;
		if (pf[2].revents)
			return NULL;
		if (pf[0].revents) {
			unsigned char q[512];
			struct sockaddr_storage from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(srv.udp, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
			bool ok;
			if (n > 0) {
				answer(q, (size_t)n, false, &r, &ok);
				if (ok)
					sendto(srv.udp, r.buf, r.len, 0, (struct sockaddr *)&from, fl);
			}
		}
		if (pf[1].revents) {
			int c = accept(srv.tcp, NULL, NULL);
			if (c >= 0) {
				serve_tcp(c);
				close(c);
			}
		}
	}
}

/* UDP and TCP on one free port of 127.0.0.1. */
static int server_start(void **state)
{
	(void)state;
	memset(&srv, 0, sizeof srv);
	pthread_mutex_init(&srv.lock, NULL);
	for (int attempt = 0; attempt < 20; attempt++) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t sl = sizeof sa;
		srv.udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (srv.udp < 0 || bind(srv.udp, (struct sockaddr *)&sa, sizeof sa) ||
		    getsockname(srv.udp, (struct sockaddr *)&sa, &sl))
			return -1;
		srv.tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int one = 1;
		setsockopt(srv.tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (srv.tcp >= 0 && !bind(srv.tcp, (struct sockaddr *)&sa, sizeof sa) &&
		    !listen(srv.tcp, 8)) {
			srv.addr.addr.family = AF_INET;
			memcpy(srv.addr.addr.bytes, &sa.sin_addr, 4);
			srv.addr.port = ntohs(sa.sin_port);
			if (pipe2(srv.stop, O_CLOEXEC))
				return -1;
			return pthread_create(&srv.thread, NULL, serve, NULL) ? -1 : 0;
		}
		close(srv.udp);
		if (srv.tcp >= 0)
			close(srv.tcp);
	}
	return -1;
}

static int server_stop(void **state)
{
	(void)state;
	if (write(srv.stop[1], "x", 1) != 1)
		return -1;
	pthread_join(srv.thread, NULL);
	close(srv.udp);
	close(srv.tcp);
	close(srv.stop[0]);
	close(srv.stop[1]);
	return 0;
}

/* One exchange: the mode, the types asked, RD; the time it took in *ms. */
static void exchange(enum mode mode, const int *qtypes, int nq, bool rd, int timeout_ms,
		     struct nx_reply *out, int64_t *ms)
{
	pthread_mutex_lock(&srv.lock);
	srv.mode = mode;
	srv.nseen = 0;
	srv.peer_sockets = srv.peer_no_cloexec = 0;
	pthread_mutex_unlock(&srv.lock);
	int64_t start = nx_now_ms();
	assert_int_equal(nx_probe(&srv.addr, "WWW.Lab.Test", qtypes, nq, rd, timeout_ms,
				  start + 10000, out),
			 0);
	*ms = nx_now_ms() - start;
}

static const int A_AAAA[] = {NX_T_A, NX_T_AAAA};
static const int A_ONLY[] = {NX_T_A};

/* What reached the server: one question each, RD as asked, no EDNS, the
 * name in nxretry's lower case. */
static void expect_queries(int n, bool rd)
{
	pthread_mutex_lock(&srv.lock);
	assert_int_equal(srv.nseen, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(!!(srv.seen[i].q.flags & PKT_RD), rd);
		assert_int_equal(srv.seen[i].q.flags & 0x7800, 0); /* opcode QUERY */
		assert_int_equal(srv.seen[i].q.arcount, 0);
		assert_string_equal(srv.seen[i].q.qname, "www.lab.test");
	}
	pthread_mutex_unlock(&srv.lock);
}

static void test_answer_with_the_ids_on_the_wire(void **state)
{
	(void)state;
	struct nx_reply out[2];
	int64_t ms;
	exchange(ANSWER, A_AAAA, 2, false, 2000, out, &ms);
	assert_int_equal(out[0].status, NX_ANSWER);
	assert_int_equal(out[0].naddrs, 1);
	char ip[INET6_ADDRSTRLEN];
	assert_int_equal(nx_addr_format(&out[0].addrs[0], ip, sizeof ip), 0);
	assert_string_equal(ip, ADDR4);
	assert_int_equal(out[1].status, NX_NODATA);
	assert_true(out[0].aa && out[1].aa);
	expect_queries(2, false);
	assert_int_not_equal(srv.seen[0].q.id, srv.seen[1].q.id);
	assert_true(ms < 1000);
}

static void test_rd_as_asked(void **state)
{
	(void)state;
	struct nx_reply out[1];
	int64_t ms;
	exchange(ANSWER, A_ONLY, 1, true, 2000, out, &ms);
	assert_int_equal(out[0].status, NX_ANSWER);
	expect_queries(1, true);
}

static void test_sockets_close_on_exec(void **state)
{
	(void)state;
	struct nx_reply out[2];
	int64_t ms;
	exchange(TRUNCATE, A_AAAA, 2, false, 2000, out, &ms);
	pthread_mutex_lock(&srv.lock);
	int seen = srv.peer_sockets, open = srv.peer_no_cloexec;
	pthread_mutex_unlock(&srv.lock);
	assert_true(seen >= 2); /* UDP, then TCP */
	assert_int_equal(open, 0);
}

/* Over UDP the answer is cut (TC): the same query again over TCP. */
static void test_truncated_goes_tcp(void **state)
{
	(void)state;
	struct nx_reply out[1];
	int64_t ms;
	exchange(TRUNCATE, A_ONLY, 1, false, 2000, out, &ms);
	assert_int_equal(out[0].status, NX_ANSWER);
	expect_queries(2, false);
	assert_false(srv.seen[0].tcp);
	assert_true(srv.seen[1].tcp);
}

/* NOCHECKRESP: error replies reach nxretry at once. */
static void test_refused_and_servfail_reported(void **state)
{
	(void)state;
	struct nx_reply out[1];
	int64_t ms;
	exchange(REFUSED, A_ONLY, 1, false, 2000, out, &ms);
	assert_int_equal(out[0].status, NX_REFUSED);
	assert_true(ms < 500);
	exchange(SERVFAIL, A_ONLY, 1, false, 2000, out, &ms);
	assert_int_equal(out[0].status, NX_SERVFAIL);
	assert_true(ms < 500);
	expect_queries(1, false);
}

/* A reply with another id is no reply: the exchange ends at timeout_ms by
 * nxretry's clock, though c-ares >= 1.24 would wait at least 250 ms. */
static void test_wrong_id_times_out_on_time(void **state)
{
	(void)state;
	struct nx_reply out[1];
	int64_t ms;
	exchange(WRONGID, A_ONLY, 1, false, 100, out, &ms);
	assert_int_equal(out[0].status, NX_TIMEOUT);
	assert_in_range(ms, 100, 230);
}

/* An unparsable reply: c-ares < 1.22 ignores it until the timeout, later
 * ones end the query at once (1.33 and later with EBADRESP). */
static void test_garbage(void **state)
{
	(void)state;
	struct nx_reply out[1];
	int64_t ms;
	exchange(GARBAGE, A_ONLY, 1, false, 300, out, &ms);
#if ARES_VERSION < 0x011600
	assert_int_equal(out[0].status, NX_TIMEOUT);
	assert_in_range(ms, 300, 450);
#elif ARES_VERSION >= 0x012100
	assert_int_equal(out[0].status, NX_MALFORMED);
	assert_in_range(ms, 0, 150);
#else
	assert_int_not_equal(out[0].status, NX_ANSWER);
	assert_in_range(ms, 0, 150);
#endif
	expect_queries(1, false);
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_no_descriptor_left(void **state)
{
	(void)state;
	struct nx_reply out[2];
	int64_t ms;
	int before = count_fds();
	exchange(ANSWER, A_AAAA, 2, false, 2000, out, &ms);
	exchange(TRUNCATE, A_ONLY, 1, false, 2000, out, &ms);
	exchange(WRONGID, A_ONLY, 1, false, 50, out, &ms);
	assert_int_equal(count_fds(), before);
}

int main(void)
{
	struct CMUnitTest tests[9];
	size_t n = 0;
	UTIL_ADD_TEST(tests, n, test_version_matches_headers);
	UTIL_ADD_TEST(tests, n, test_answer_with_the_ids_on_the_wire);
	UTIL_ADD_TEST(tests, n, test_rd_as_asked);
	UTIL_ADD_TEST(tests, n, test_sockets_close_on_exec);
	UTIL_ADD_TEST(tests, n, test_truncated_goes_tcp);
	UTIL_ADD_TEST(tests, n, test_refused_and_servfail_reported);
	UTIL_ADD_TEST(tests, n, test_wrong_id_times_out_on_time);
	UTIL_ADD_TEST(tests, n, test_garbage);
	UTIL_ADD_TEST(tests, n, test_no_descriptor_left);
	if (!util_check_filled("cares", n, ARRAY_SIZE(tests)))
		return 1;
	return cmocka_run_group_tests_name("cares", tests, server_start, server_stop);
}
