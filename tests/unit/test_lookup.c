/* lookup.c: which names are asked of an authority at all (lab.test,
 * remembered as unreachable: a name that gets that far comes back with
 * that memo's reason, one turned away earlier with NX_WHY_SKIPPED), and
 * whole lookups against a scripted server on 127.0.0.1 (srv.test): what a
 * local failure leaves behind, a name without any address at the deadline. */
#include "util.h"

#include "nxretry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static struct nx_config cfg;
static const struct nx_libc no_libc = {NULL, NULL, NULL};

/* ---- a scripted authoritative server for srv.test (UDP) ----
 * a*.srv.test: A 192.0.2.5; txt*.srv.test: there, without any address,
 * with TXT "ok" (TTL 77); alias.srv.test: CNAME to txt2.srv.test; anything
 * else: NXDOMAIN. */
#define SRV_ADDR4 "192.0.2.5"

static struct {
	int udp, stop[2];
	uint16_t port;
	pthread_t thread;
} srv;

static void srv_reply(const struct pkt_query *q, struct pkt *r)
{
	const char *n = q->qname;
	bool bare = !strncmp(n, "txt", 3), alias = !strcmp(n, "alias.srv.test");
	bool there = n[0] == 'a' && !alias && strchr(n, '.') && !strcmp(strchr(n, '.'), ".srv.test");
	pkt_reply(r, q->id, PKT_AA, there || bare || alias ? PKT_RCODE_NOERROR : PKT_RCODE_NXDOMAIN,
		  n, q->qtype);
	if (there && q->qtype == NX_T_A) {
		pkt_a(r, PKT_AN, PKT_QNAME, 60, SRV_ADDR4);
		return;
	}
	if (bare && q->qtype == NX_T_TXT) {
		pkt_rr(r, PKT_AN, PKT_QNAME, NX_T_TXT, 1, 77, "\2ok", 3);
		return;
	}
	if (alias && (q->qtype == NX_T_A || q->qtype == NX_T_AAAA || q->qtype == NX_T_TXT)) {
		pkt_cname(r, PKT_AN, PKT_QNAME, 60, "txt2.srv.test");
		return;
	}
	pkt_soa(r, PKT_NS, "srv.test", 60, 30);
}

static void *srv_run(void *arg)
{
	(void)arg;
	static struct pkt r;
	for (;;) {
		struct pollfd pf[2] = {{.fd = srv.udp, .events = POLLIN},
				       {.fd = srv.stop[0], .events = POLLIN}};
		if (poll(pf, 2, -1) < 0 || pf[1].revents)
			return NULL;
		unsigned char q[512];
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(srv.udp, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
		struct pkt_query pq;
		if (n <= 0 || !pkt_read_query(q, (size_t)n, &pq))
			continue;
		srv_reply(&pq, &r);
		sendto(srv.udp, r.buf, r.len, 0, (struct sockaddr *)&from, fl);
	}
}

static int srv_start(void **state)
{
	(void)state;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	srv.udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (srv.udp < 0 || bind(srv.udp, (struct sockaddr *)&sa, sizeof sa) ||
	    getsockname(srv.udp, (struct sockaddr *)&sa, &sl) || pipe(srv.stop))
		return -1;
	srv.port = ntohs(sa.sin_port);
	return pthread_create(&srv.thread, NULL, srv_run, NULL) ? -1 : 0;
}

static int srv_stop(void **state)
{
	(void)state;
	if (write(srv.stop[1], "x", 1) != 1)
		return -1;
	pthread_join(srv.thread, NULL);
	close(srv.udp);
	close(srv.stop[0]);
	close(srv.stop[1]);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	nx_config_defaults(&cfg);
	cfg.nzones = 2;
	strcpy(cfg.zones[0].suffix, "lab.test");
	/* srv.test: its server pinned; a deadline of 0.6 s, 0.2 s per query. */
	struct nx_zone *z = &cfg.zones[1];
	strcpy(z->suffix, "srv.test");
	z->servers[0].addr.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", z->servers[0].addr.bytes);
	z->servers[0].port = srv.port;
	z->nservers = 1;
	cfg.timeout = 0.6;
	cfg.query_timeout = 0.2;
	cfg.log = NX_LOG_OFF;
	nx_log_level = NX_LOG_OFF;
	struct nx_found marker;
	memset(&marker, 0, sizeof marker);
	marker.outcome = NX_OUT_LIBC;
	marker.why = NX_WHY_REFUSED; /* only the memo says this */
	nx_memo_keep("lab.test/unreachable", &marker, 60);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nx_memo_forget("lab.test/unreachable");
	return 0;
}

struct name_case {
	const char *name;
	const char *node;
	int family;
	enum nx_why why; /* NX_WHY_REFUSED: it reached the zone's memo */
};

static const struct name_case name_cases[] = {
	{"host name under the zone", "a.lab.test", AF_UNSPEC, NX_WHY_REFUSED},
	{"the zone itself", "lab.test", AF_INET, NX_WHY_REFUSED},
	{"letter case and a trailing dot", "New.Lab.TEST.", AF_INET6, NX_WHY_REFUSED},
	{"underscore (glibc sends it)", "_acme-challenge.a.lab.test", AF_UNSPEC, NX_WHY_REFUSED},
	{"hyphen last in a label", "a-.lab.test", AF_INET, NX_WHY_REFUSED},
	/* glibc 2.36 sends no query for these: no authority may answer them. */
	{"dollar sign", "a$b.lab.test", AF_UNSPEC, NX_WHY_SKIPPED},
	{"hyphen first", "-a.lab.test", AF_UNSPEC, NX_WHY_SKIPPED},
	{"asterisk", "*.lab.test", AF_INET, NX_WHY_SKIPPED},
	{"slash", "a/b.lab.test", AF_INET, NX_WHY_SKIPPED},
	{"UTF-8 without AI_IDN", "a\xc3\xa9" "b.lab.test", AF_INET, NX_WHY_SKIPPED},
	/* Not the zone's, or not DNS's. */
	{"outside the zone", "a.example.com", AF_UNSPEC, NX_WHY_SKIPPED},
	{"suffix without a label boundary", "alab.test", AF_UNSPEC, NX_WHY_SKIPPED},
	{"numeric", "192.0.2.1", AF_UNSPEC, NX_WHY_SKIPPED},
	{"family DNS does not serve", "a.lab.test", AF_UNIX, NX_WHY_SKIPPED},
	{"empty label", "a..lab.test", AF_UNSPEC, NX_WHY_SKIPPED},
};

static void test_name(void **state)
{
	const struct name_case *c = *state;
	struct nx_found out;
	memset(&out, 0xff, sizeof out);
	nx_lookup(&cfg, &no_libc, c->node, c->family, 0, false, &out);
	assert_int_equal(out.outcome, NX_OUT_LIBC);
	assert_int_equal(out.why, c->why);
}

static void expect_addr4(const struct nx_found *f, const char *addr)
{
	char got[64] = "";
	assert_int_equal(f->naddrs, 1);
	nx_addr_format(&f->addrs[0], got, sizeof got);
	assert_string_equal(got, addr);
}

/* The process runs out of descriptors during a wait, then gets them back:
 * its next lookup is bypassed. c-ares reports the socket it could not open
 * as a refusal; counted as the servers' silence, it switched the zone off
 * for the rest of the process. */
static void test_fd_limit_then_recovery(void **state)
{
	(void)state;
	struct rlimit old, low;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 256;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	int held[256], nheld = 0, fd;
	while (nheld < 256 && (fd = dup(0)) >= 0)
		held[nheld++] = fd;
	struct nx_found during, after;
	int64_t start = nx_now_ms();
	nx_lookup(&cfg, &no_libc, "a1.srv.test", AF_INET, 0, false, &during);
	int64_t ms = nx_now_ms() - start;
	while (nheld > 0)
		close(held[--nheld]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	nx_lookup(&cfg, &no_libc, "a2.srv.test", AF_INET, 0, false, &after);

	assert_int_equal(after.outcome, NX_OUT_FOUND);
	expect_addr4(&after, SRV_ADDR4);
	assert_int_equal(during.outcome, NX_OUT_LIBC);
	assert_int_equal(during.why, NX_WHY_LOCAL);
	assert_in_range(ms, 550, 900); /* the whole deadline: the servers were not the cause */
}

/* A name the servers have without any address (a TXT record only, or a
 * CNAME to such a name) is waited for until the deadline, then is what
 * the servers say: no data (glibc's EAI_NODATA on a fresh cache), not the
 * stale NXDOMAIN. A second lookup looks once, without the wait. */
struct bare_case {
	const char *name;
	const char *node;
	enum nx_outcome outcome;
};

static const struct bare_case bare_cases[] = {
	{"TXT only", "txt1.srv.test", NX_OUT_NODATA},
	{"CNAME to a name with TXT only", "alias.srv.test", NX_OUT_ALIAS_NODATA},
};

static void test_bare(void **state)
{
	const struct bare_case *c = *state;
	for (int k = 0; k < 2; k++) {
		struct nx_found out;
		int64_t start = nx_now_ms();
		nx_lookup(&cfg, &no_libc, c->node, AF_INET, 0, false, &out);
		int64_t ms = nx_now_ms() - start;
		assert_int_equal(out.outcome, c->outcome);
		if (k == 0)
			assert_in_range(ms, 550, 900); /* the deadline */
		else
			assert_in_range(ms, 0, 150); /* one look */
	}
}

/* One record type other than A/AAAA (nx_lookup_type, the stub's): the
 * records with their TTL and rdata, through a CNAME the server does not
 * resolve; NODATA at once for a name there without the type; A and AAAA
 * are nx_lookup's. */
static void expect_ok_txt(const struct nx_found *out)
{
	assert_int_equal(out->outcome, NX_OUT_FOUND);
	assert_non_null(out->records);
	assert_int_equal(out->records->n, 1);
	assert_false(out->records->cut);
	assert_int_equal(out->records->rr[0].ttl, 77);
	assert_int_equal(out->records->rr[0].len, 3);
	assert_memory_equal(out->records->data + out->records->rr[0].off, "\2ok", 3);
	assert_int_equal(out->naddrs, 0);
}

static void test_lookup_type(void **state)
{
	(void)state;
	struct nx_found out, again;
	nx_lookup_type(&cfg, &no_libc, "txt7.srv.test", NX_T_TXT, false, &out);
	expect_ok_txt(&out);
	assert_string_equal(out.canon, "txt7.srv.test");
	assert_int_equal(out.naliases, 0);
	/* Kept for its TTL: the next lookup gets the same set from the memo. */
	int64_t start = nx_now_ms();
	nx_lookup_type(&cfg, &no_libc, "txt7.srv.test", NX_T_TXT, false, &again);
	assert_in_range(nx_now_ms() - start, 0, 50);
	assert_ptr_equal(again.records, out.records);
	nx_records_drop(again.records);
	nx_records_drop(out.records);

	nx_lookup_type(&cfg, &no_libc, "alias.srv.test", NX_T_TXT, false, &out);
	expect_ok_txt(&out);
	assert_int_equal(out.naliases, 1);
	assert_string_equal(out.aliases[0], "txt2.srv.test");
	nx_records_drop(out.records);

	start = nx_now_ms();
	nx_lookup_type(&cfg, &no_libc, "a9.srv.test", NX_T_MX, false, &out);
	assert_int_equal(out.outcome, NX_OUT_NODATA);
	assert_null(out.records);
	assert_in_range(nx_now_ms() - start, 0, 300); /* no wait: the name is there */

	nx_lookup_type(&cfg, &no_libc, "nope.srv.test", NX_T_TXT, false, &out);
	assert_int_equal(out.outcome, NX_OUT_ABSENT);
	assert_null(out.records);

	nx_lookup_type(&cfg, &no_libc, "txt7.srv.test", NX_T_A, false, &out);
	assert_int_equal(out.outcome, NX_OUT_LIBC);
	assert_int_equal(out.why, NX_WHY_SKIPPED);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(name_cases) + ARRAY_SIZE(bare_cases) + 2];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_name, name_cases);
	UTIL_ADD_ROWS(tests, n, test_bare, bare_cases);
	UTIL_ADD_TEST(tests, n, test_fd_limit_then_recovery);
	UTIL_ADD_TEST(tests, n, test_lookup_type);
	for (size_t i = 0; i < n; i++) {
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
	}
	if (srv_start(NULL))
		return 1;
	int rc = UTIL_RUN("lookup", tests, n);
	return srv_stop(NULL) ? 1 : rc;
}
