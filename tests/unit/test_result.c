/* result.c: addrinfo lists compared field by field with glibc's own
 * getaddrinfo on the same numeric addresses and hints. AI_ADDRCONFIG
 * depends on this machine's interfaces: so does glibc's answer here, which
 * is the point of comparing on the same machine. */
#include "util.h"

#include "nxretry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CANON "canon.example.com"

static struct nx_addr addr_of(const char *text)
{
	struct nx_addr a;
	memset(&a, 0, sizeof a);
	a.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a.family, text, a.bytes) != 1)
		fail_msg("bad address in a test: %s", text);
	return a;
}

static const char *describe(const char *addr, const struct addrinfo *h, const char *service)
{
	static char text[256];
	if (!h)
		snprintf(text, sizeof text, "%s service %s, hints NULL", addr,
			 service ? service : "NULL");
	else
		snprintf(text, sizeof text,
			 "%s service %s, family %d socktype %d protocol %d flags %#x", addr,
			 service ? service : "NULL", h->ai_family, h->ai_socktype, h->ai_protocol,
			 (unsigned)h->ai_flags);
	return text;
}

static char mismatch[512];

#define MISMATCH(...) (snprintf(mismatch, sizeof mismatch, __VA_ARGS__), false)

/* Compares the nodes of ours from *node on with glibc's list, advancing
 * *node past them; false with the first difference in mismatch[]. */
static bool compare_nodes(struct addrinfo **node, const struct addrinfo *libc, bool head,
			  bool want_canon)
{
	int k = 0;
	for (const struct addrinfo *l = libc; l; l = l->ai_next, k++) {
		const struct addrinfo *o = *node;
		if (!o)
			return MISMATCH("ours has %d nodes, glibc more", k);
		if (o->ai_family != l->ai_family || o->ai_socktype != l->ai_socktype ||
		    o->ai_protocol != l->ai_protocol || o->ai_addrlen != l->ai_addrlen)
			return MISMATCH("node %d is family %d socktype %d protocol %d addrlen %u, "
					"glibc's family %d socktype %d protocol %d addrlen %u",
					k, o->ai_family, o->ai_socktype, o->ai_protocol,
					(unsigned)o->ai_addrlen, l->ai_family, l->ai_socktype,
					l->ai_protocol, (unsigned)l->ai_addrlen);
		if (memcmp(o->ai_addr, l->ai_addr, l->ai_addrlen))
			return MISMATCH("node %d: the sockaddr bytes differ", k);
		/* glibc lays a node out as one block: the sockaddr right after it. */
		if ((const void *)o->ai_addr != (const void *)(o + 1))
			return MISMATCH("node %d: ai_addr is not right after the node", k);
		if (head && k == 0 && want_canon) {
			if (!o->ai_canonname || strcmp(o->ai_canonname, CANON))
				return MISMATCH("node 0: canonname %s, expected " CANON,
						o->ai_canonname ? o->ai_canonname : "NULL");
		} else if (o->ai_canonname) {
			return MISMATCH("node %d: canonname %s, expected NULL", k, o->ai_canonname);
		}
		if (o->ai_flags != l->ai_flags)
			return MISMATCH("node %d: ai_flags %#x, glibc's %#x (all else equal)", k,
					(unsigned)o->ai_flags, (unsigned)l->ai_flags);
		*node = o->ai_next;
	}
	return true;
}

/* Builds the list for addrs and checks it, and its code, against what glibc
 * makes of each address with the same service and hints. Everything is
 * freed before a failure is reported. */
static void check_against_libc(const char *const *addrs, int naddrs, const char *service,
			       const struct addrinfo *hints)
{
	struct nx_addr a[8];
	memset(a, 0, sizeof a);
	for (int i = 0; i < naddrs; i++)
		a[i] = addr_of(addrs[i]);
	struct addrinfo *ours = (struct addrinfo *)0x1;
	int rc = nx_result_build(a, naddrs, CANON, service, hints, getaddrinfo, freeaddrinfo,
				 &ours);

	/* The expected code: 0 when any address succeeds, else the first
	 * failure (one address: glibc's own code). */
	struct addrinfo *libc[8] = {NULL};
	int expected_rc = EAI_NONAME, succeeded = 0;
	for (int i = 0; i < naddrs; i++) {
		int r = getaddrinfo(addrs[i], service, hints, &libc[i]);
		if (r == 0)
			succeeded++;
		else if (expected_rc == EAI_NONAME)
			expected_rc = r;
	}
	if (succeeded)
		expected_rc = 0;

	bool ok = true;
	if (rc != expected_rc)
		ok = MISMATCH("nx_result_build gave %d (%s), glibc %d (%s)", rc, gai_strerror(rc),
			      expected_rc, gai_strerror(expected_rc));
	else if (rc != 0 && ours != (struct addrinfo *)0x1)
		ok = MISMATCH("*res changed on failure");
	if (ok && rc == 0) {
		bool want_canon = hints && (hints->ai_flags & AI_CANONNAME);
		struct addrinfo *node = ours;
		bool head = true;
		/* Several addresses: glibc orders them (RFC 6724), which the lab's
		 * conformance test checks against glibc on real names; here each
		 * address's nodes are compared where ours puts them. */
		bool done[8] = {false};
		for (int n = 0; ok && n < naddrs; n++) {
			int i = -1;
			for (int k = 0; k < naddrs && i < 0; k++)
				if (libc[k] && !done[k] && node &&
				    node->ai_addrlen == libc[k]->ai_addrlen &&
				    !memcmp(node->ai_addr, libc[k]->ai_addr, node->ai_addrlen))
					i = k;
			if (i < 0)
				break;
			done[i] = true;
			ok = compare_nodes(&node, libc[i], head, want_canon);
			head = false;
		}
		for (int i = 0; ok && i < naddrs; i++)
			if (libc[i] && !done[i])
				ok = MISMATCH("glibc's nodes for %s missing or out of place", addrs[i]);
		if (ok && node)
			ok = MISMATCH("ours has more nodes than glibc");
	}
	for (int i = 0; i < naddrs; i++)
		if (libc[i])
			freeaddrinfo(libc[i]);
	bool released = rc != 0 || nx_result_release(ours, freeaddrinfo);
	if (!ok)
		fail_msg("%s: %s", describe(addrs[0], hints, service), mismatch);
	assert_true(released);
}

/* ---- the matrix ---- */

struct matrix_row {
	const char *name;
	char name_buf[96];
	const char *addr;
	int family;
	int flags;
};

static const char *const matrix_addrs[] = {"192.0.2.1", "2001:db8::1"};
static const int matrix_families[] = {AF_UNSPEC, AF_INET, AF_INET6};
static const struct {
	int flags;
	const char *name;
} matrix_flags[] = {
	{0, "0"},
	{AI_PASSIVE, "AI_PASSIVE"},
	{AI_CANONNAME, "AI_CANONNAME"},
	{AI_V4MAPPED, "AI_V4MAPPED"},
	{AI_V4MAPPED | AI_ALL, "AI_V4MAPPED|AI_ALL"},
	{AI_ADDRCONFIG, "AI_ADDRCONFIG"},
	{AI_NUMERICSERV, "AI_NUMERICSERV"},
};
static const int matrix_socktypes[] = {0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW};
static const int matrix_protocols[] = {0, IPPROTO_TCP, IPPROTO_UDP};
static const char *const matrix_services[] = {NULL, "80", "http", "domain",
					      "nonexistent-service"};

static struct matrix_row matrix[ARRAY_SIZE(matrix_addrs) * ARRAY_SIZE(matrix_families) *
				ARRAY_SIZE(matrix_flags)];

static void fill_matrix(void)
{
	static const char *const family_names[] = {"AF_UNSPEC", "AF_INET", "AF_INET6"};
	size_t n = 0;
	for (size_t a = 0; a < ARRAY_SIZE(matrix_addrs); a++)
		for (size_t f = 0; f < ARRAY_SIZE(matrix_families); f++)
			for (size_t g = 0; g < ARRAY_SIZE(matrix_flags); g++) {
				struct matrix_row *r = &matrix[n++];
				r->addr = matrix_addrs[a];
				r->family = matrix_families[f];
				r->flags = matrix_flags[g].flags;
				snprintf(r->name_buf, sizeof r->name_buf, "result: %s %s flags %s",
					 r->addr, family_names[f], matrix_flags[g].name);
				r->name = r->name_buf;
			}
}

/* Every socket type, protocol and service for one address, family and flags. */
static void test_matrix(void **state)
{
	const struct matrix_row *t = *state;
	for (size_t s = 0; s < ARRAY_SIZE(matrix_socktypes); s++)
		for (size_t p = 0; p < ARRAY_SIZE(matrix_protocols); p++)
			for (size_t v = 0; v < ARRAY_SIZE(matrix_services); v++) {
				struct addrinfo h;
				memset(&h, 0, sizeof h);
				h.ai_family = t->family;
				h.ai_socktype = matrix_socktypes[s];
				h.ai_protocol = matrix_protocols[p];
				h.ai_flags = t->flags;
				check_against_libc(&t->addr, 1, matrix_services[v], &h);
			}
}

static void test_hints_null(void **state)
{
	(void)state;
	for (size_t a = 0; a < ARRAY_SIZE(matrix_addrs); a++)
		for (size_t v = 0; v < ARRAY_SIZE(matrix_services); v++)
			check_against_libc(&matrix_addrs[a], 1, matrix_services[v], NULL);
}

/* ---- error codes beyond the matrix ---- */

struct error_case {
	const char *name;
	const char *addr;
	const char *service;
	int family, socktype, protocol, flags;
	int expected; /* glibc's code, checked against glibc too */
};

static const struct error_case error_cases[] = {
	{"errors: unknown service", "192.0.2.1", "nonexistent-service", AF_UNSPEC, 0, 0, 0,
	 EAI_SERVICE},
	{"errors: stream with UDP", "192.0.2.1", NULL, AF_INET, SOCK_STREAM, IPPROTO_UDP, 0,
	 EAI_SOCKTYPE},
	{"errors: datagram with TCP", "2001:db8::1", "80", AF_UNSPEC, SOCK_DGRAM, IPPROTO_TCP, 0,
	 EAI_SOCKTYPE},
	{"errors: raw with a service", "192.0.2.1", "80", AF_INET, SOCK_RAW, 0, 0, EAI_SERVICE},
	{"errors: http over UDP", "192.0.2.1", "http", AF_INET, SOCK_DGRAM, 0, 0, EAI_SERVICE},
	{"errors: unknown socket type", "192.0.2.1", NULL, AF_INET, 99, 0, 0, EAI_SOCKTYPE},
	{"errors: AF_UNIX", "192.0.2.1", NULL, AF_UNIX, 0, 0, 0, EAI_FAMILY},
	{"errors: bad flags", "192.0.2.1", NULL, AF_UNSPEC, 0, 0, 0x10000, EAI_BADFLAGS},
	{"errors: named service with AI_NUMERICSERV", "192.0.2.1", "http", AF_UNSPEC, 0, 0,
	 AI_NUMERICSERV, EAI_NONAME},
	{"errors: IPv6 address, AF_INET", "2001:db8::1", NULL, AF_INET, 0, 0, 0, EAI_ADDRFAMILY},
	{"errors: IPv4 address, AF_INET6 without AI_V4MAPPED", "192.0.2.1", NULL, AF_INET6, 0, 0, 0,
	 EAI_ADDRFAMILY},
	{"errors: port 65536 taken as glibc takes it", "192.0.2.1", "65536", AF_UNSPEC, 0, 0, 0, 0},
};

static void test_error(void **state)
{
	const struct error_case *t = *state;
	struct addrinfo h;
	memset(&h, 0, sizeof h);
	h.ai_family = t->family;
	h.ai_socktype = t->socktype;
	h.ai_protocol = t->protocol;
	h.ai_flags = t->flags;
	struct addrinfo *libc = NULL;
	int rc = getaddrinfo(t->addr, t->service, &h, &libc);
	if (rc == 0)
		freeaddrinfo(libc);
	assert_int_equal(rc, t->expected); /* the table says what glibc does */
	check_against_libc(&t->addr, 1, t->service, &h);
}

/* ---- lists of several addresses ---- */

struct multi_case {
	const char *name;
	const char *addrs[4];
	int naddrs;
	int family, socktype, flags;
	const char *service;
	int nodes; /* in the list built */
	int rc;
};

static const struct multi_case multi_cases[] = {
	{"multi: two A and one AAAA, AF_UNSPEC", {"192.0.2.1", "192.0.2.2", "2001:db8::1"}, 3,
	 AF_UNSPEC, 0, 0, NULL, 9, 0},
	{"multi: two A and one AAAA, stream, canonname",
	 {"192.0.2.1", "192.0.2.2", "2001:db8::1"}, 3, AF_UNSPEC, SOCK_STREAM, AI_CANONNAME, "80",
	 3, 0},
	{"multi: AAAA then A, AF_INET6 + AI_V4MAPPED", {"2001:db8::1", "192.0.2.1"}, 2, AF_INET6,
	 SOCK_DGRAM, AI_V4MAPPED, "domain", 2, 0},
	{"multi: AAAA and A, AF_INET keeps the A", {"2001:db8::1", "192.0.2.1"}, 2, AF_INET,
	 SOCK_STREAM, AI_CANONNAME, NULL, 1, 0},
	{"multi: only AAAA, AF_INET", {"2001:db8::1", "2001:db8::2"}, 2, AF_INET, 0, 0, NULL, 0,
	 EAI_ADDRFAMILY},
	{"multi: no address", {NULL}, 0, AF_UNSPEC, 0, 0, NULL, 0, EAI_NONAME},
};

static void test_multi(void **state)
{
	const struct multi_case *t = *state;
	struct addrinfo h;
	memset(&h, 0, sizeof h);
	h.ai_family = t->family;
	h.ai_socktype = t->socktype;
	h.ai_flags = t->flags;
	struct nx_addr a[4];
	memset(a, 0, sizeof a);
	for (int i = 0; i < t->naddrs; i++)
		a[i] = addr_of(t->addrs[i]);
	struct addrinfo *res = NULL;
	int rc = nx_result_build(a, t->naddrs, CANON, t->service, &h, getaddrinfo, freeaddrinfo,
				 &res);
	assert_int_equal(rc, t->rc);
	if (rc == 0) {
		int n = 0;
		for (struct addrinfo *p = res; p; p = p->ai_next)
			n++;
		assert_int_equal(n, t->nodes);
		assert_true(nx_result_release(res, freeaddrinfo));
	}
	if (t->naddrs)
		check_against_libc(t->addrs, t->naddrs, t->service, &h);
}

/* The nodes, spelled out: each address's nodes together, socket types as
 * glibc expands them, the canonical name on the first. The order of the
 * addresses is glibc's RFC 6724 sort, which depends on this host's routes:
 * tests/lab/t-conform.sh compares it with glibc's on real names. */
static void test_multi_order(void **state)
{
	(void)state;
	struct nx_addr a[3] = {addr_of("192.0.2.1"), addr_of("192.0.2.2"), addr_of("2001:db8::1")};
	struct addrinfo h;
	memset(&h, 0, sizeof h);
	h.ai_family = AF_UNSPEC;
	h.ai_flags = AI_CANONNAME;
	struct addrinfo *res = NULL;
	assert_int_equal(
		nx_result_build(a, 3, CANON, "53", &h, getaddrinfo, freeaddrinfo, &res), 0);
	static const struct {
		const char *ip;
		int socktype, protocol;
	} want[] = {
		{"192.0.2.1", SOCK_STREAM, IPPROTO_TCP}, {"192.0.2.1", SOCK_DGRAM, IPPROTO_UDP},
		{"192.0.2.1", SOCK_RAW, 0},             {"192.0.2.2", SOCK_STREAM, IPPROTO_TCP},
		{"192.0.2.2", SOCK_DGRAM, IPPROTO_UDP}, {"192.0.2.2", SOCK_RAW, 0},
		{"2001:db8::1", SOCK_STREAM, IPPROTO_TCP}, {"2001:db8::1", SOCK_DGRAM, IPPROTO_UDP},
		{"2001:db8::1", SOCK_RAW, 0},
	};
	const struct addrinfo *p = res;
	bool seen[3] = {false};
	const char *group = NULL;
	int want_socktype, want_protocol;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++, p = p->ai_next) {
		assert_non_null(p);
		char ip[INET6_ADDRSTRLEN];
		uint16_t port;
		if (p->ai_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)p->ai_addr;
			inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
			port = ntohs(sin->sin_port);
		} else {
			const struct sockaddr_in6 *sin6 = (const void *)p->ai_addr;
			inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
			port = ntohs(sin6->sin6_port);
		}
		if (i % 3 == 0) { /* a new address: one of the three, once */
			size_t k = 0;
			while (k < 3 && strcmp(ip, want[3 * k].ip))
				k++;
			assert_true(k < 3 && !seen[k]);
			seen[k] = true;
			group = want[3 * k].ip;
		}
		assert_string_equal(ip, group);
		assert_int_equal(port, 53);
		want_socktype = want[i % 3].socktype;
		want_protocol = want[i % 3].protocol;
		assert_int_equal(p->ai_socktype, want_socktype);
		assert_int_equal(p->ai_protocol, want_protocol);
		if (i == 0)
			assert_string_equal(p->ai_canonname, CANON);
		else
			assert_null(p->ai_canonname);
	}
	assert_null(p);
	assert_true(nx_result_release(res, freeaddrinfo));
}

/* ---- ownership ---- */

static void test_release_libc_list(void **state)
{
	(void)state;
	struct addrinfo *libc = NULL;
	assert_int_equal(getaddrinfo("192.0.2.1", "80", NULL, &libc), 0);
	assert_false(nx_result_release(libc, freeaddrinfo)); /* not ours: left alone */
	freeaddrinfo(libc);
	assert_false(nx_result_release(NULL, freeaddrinfo));
}

static void test_release_once(void **state)
{
	(void)state;
	struct nx_addr a = addr_of("192.0.2.1");
	struct addrinfo *res = NULL;
	assert_int_equal(nx_result_build(&a, 1, CANON, NULL, NULL, getaddrinfo, freeaddrinfo, &res),
			 0);
	assert_true(nx_result_release(res, freeaddrinfo));
}

/* Builds a list of 2 addresses with socktype 0: glibc's 3 nodes each. */
static struct addrinfo *build_six(void)
{
	struct nx_addr a[2] = {addr_of("192.0.2.1"), addr_of("192.0.2.2")};
	struct addrinfo *res = NULL;
	assert_int_equal(nx_result_build(a, 2, CANON, "80", NULL, getaddrinfo, freeaddrinfo, &res),
			 0);
	int n = 0;
	for (struct addrinfo *p = res; p; p = p->ai_next)
		n++;
	assert_int_equal(n, 6);
	return res;
}

static struct addrinfo *nth(struct addrinfo *ai, int n)
{
	while (n-- > 0)
		ai = ai->ai_next;
	return ai;
}

/* POSIX lets a program free any sublist; every node is ours to free
 * (ASan and LeakSanitizer see a leak or a foreign free). */
static void test_release_sublist(void **state)
{
	(void)state;
	struct addrinfo *res = build_six();
	struct addrinfo *third = nth(res, 2), *fifth = nth(res, 4);
	nth(res, 3)->ai_next = NULL;
	assert_true(nx_result_release(fifth, freeaddrinfo));	  /* nodes 4, 5 */
	assert_true(nx_result_release(third->ai_next, freeaddrinfo)); /* node 3 */
	third->ai_next = NULL;
	assert_true(nx_result_release(res->ai_next, freeaddrinfo)); /* nodes 1, 2 */
	res->ai_next = NULL;
	assert_true(nx_result_release(res, freeaddrinfo)); /* node 0 */
}

/* Nodes not built here (static ones, as no allocator made them), spliced
 * into our lists: each run of them must reach the libc free as a list of
 * its own, never free(). */
static struct addrinfo foreign[3];
static struct addrinfo *freed_runs[4];
static int nfreed_runs, freed_lengths[4];

static void record_free(struct addrinfo *ai)
{
	assert_true(nfreed_runs < 4);
	int n = 0;
	for (const struct addrinfo *p = ai; p; p = p->ai_next)
		n++;
	freed_lengths[nfreed_runs] = n;
	freed_runs[nfreed_runs++] = ai;
}

static void test_release_relinked(void **state)
{
	(void)state;
	/* ours 0, foreign 0 1, ours 1..5, foreign 2 */
	struct addrinfo *res = build_six();
	memset(foreign, 0, sizeof foreign);
	nfreed_runs = 0;
	foreign[0].ai_next = &foreign[1];
	foreign[1].ai_next = res->ai_next;
	res->ai_next = &foreign[0];
	nth(res, 7)->ai_next = &foreign[2];
	assert_true(nx_result_release(res, record_free));
	assert_int_equal(nfreed_runs, 2);
	assert_ptr_equal(freed_runs[0], &foreign[0]);
	assert_int_equal(freed_lengths[0], 2);
	assert_ptr_equal(freed_runs[1], &foreign[2]);
	assert_int_equal(freed_lengths[1], 1);

	/* A foreign head, then ours: ours still freed. */
	res = build_six();
	nfreed_runs = 0;
	foreign[0].ai_next = res;
	assert_true(nx_result_release(&foreign[0], record_free));
	assert_int_equal(nfreed_runs, 1);
	assert_ptr_equal(freed_runs[0], &foreign[0]);
	assert_int_equal(freed_lengths[0], 1);

	/* Nothing of ours: left alone. */
	nfreed_runs = 0;
	foreign[0].ai_next = &foreign[1];
	foreign[1].ai_next = NULL;
	assert_false(nx_result_release(&foreign[0], record_free));
	assert_int_equal(nfreed_runs, 0);
}

static void test_release_many(void **state)
{
	(void)state;
	enum { N = 300 };
	struct addrinfo *lists[N];
	struct nx_addr a = addr_of("2001:db8::7");
	for (int i = 0; i < N; i++)
		assert_int_equal(nx_result_build(&a, 1, CANON, "80", NULL, getaddrinfo,
						 freeaddrinfo, &lists[i]),
				 0);
	/* Out of order: odd ones, then even ones backwards. */
	for (int i = 1; i < N; i += 2)
		assert_true(nx_result_release(lists[i], freeaddrinfo));
	for (int i = N - 2; i >= 0; i -= 2)
		assert_true(nx_result_release(lists[i], freeaddrinfo));
}

static void *build_release_loop(void *arg)
{
	const char *ip = arg;
	struct nx_addr a = addr_of(ip);
	for (int i = 0; i < 300; i++) {
		struct addrinfo *res = NULL;
		if (nx_result_build(&a, 1, CANON, "53", NULL, getaddrinfo, freeaddrinfo, &res) ||
		    !nx_result_release(res, freeaddrinfo))
			return (void *)1;
	}
	return NULL;
}

static void test_release_threads(void **state)
{
	(void)state;
	static const char *const ips[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"};
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(
			pthread_create(&th[i], NULL, build_release_loop, (void *)ips[i]), 0);
	for (int i = 0; i < 4; i++) {
		void *ret;
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
}

int main(void)
{
	fill_matrix();
	static struct CMUnitTest tests[ARRAY_SIZE(matrix) + ARRAY_SIZE(error_cases) +
				       ARRAY_SIZE(multi_cases) + 8];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_matrix, matrix);
	UTIL_ADD_TEST(tests, n, test_hints_null);
	UTIL_ADD_ROWS(tests, n, test_error, error_cases);
	UTIL_ADD_ROWS(tests, n, test_multi, multi_cases);
	UTIL_ADD_TEST(tests, n, test_multi_order);
	UTIL_ADD_TEST(tests, n, test_release_libc_list);
	UTIL_ADD_TEST(tests, n, test_release_once);
	UTIL_ADD_TEST(tests, n, test_release_sublist);
	UTIL_ADD_TEST(tests, n, test_release_relinked);
	UTIL_ADD_TEST(tests, n, test_release_many);
	UTIL_ADD_TEST(tests, n, test_release_threads);
	return UTIL_RUN("result", tests, n);
}
