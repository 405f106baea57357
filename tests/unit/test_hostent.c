/* result.c: nx_result_hostent, the hostent behind the gethostbyname* hooks,
 * compared field by field with glibc's own gethostbyname2_r on the same
 * numeric addresses (glibc answers those itself, without NSS), then its
 * buffer contract: ERANGE for every size below the one it needs, success
 * from that size on, whatever the buffer's alignment. Run under valgrind:
 * every buffer is a heap block of exactly the size passed, so a write past
 * the end is an invalid write. */
#include "util.h"

#include "nxretry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* hooks.c hands the engine a buffer of this size for gethostbyname and
 * gethostbyname2 (HOSTENT_BUF there): the largest result must fit. */
#define HOOKS_HOSTENT_BUF 8192

static struct nx_addr addr_of(const char *text)
{
	struct nx_addr a;
	memset(&a, 0, sizeof a);
	a.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a.family, text, a.bytes) != 1)
		fail_msg("bad address in a test: %s", text);
	return a;
}

/* Parses a space-separated list of addresses into out; returns how many. */
static int addrs_of(const char *list, struct nx_addr *out, int max)
{
	char copy[1024], *save = NULL;
	int n = 0;
	snprintf(copy, sizeof copy, "%s", list);
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == max)
			fail_msg("too many addresses in a test: %s", list);
		out[n++] = addr_of(t);
	}
	return n;
}

static size_t count(char **list)
{
	size_t n = 0;
	while (list[n])
		n++;
	return n;
}

/* Every field of two hostents, aliases and addresses included. */
static void assert_same_hostent(const struct hostent *want, const struct hostent *got)
{
	assert_string_equal(got->h_name, want->h_name);
	assert_int_equal(got->h_addrtype, want->h_addrtype);
	assert_int_equal(got->h_length, want->h_length);
	assert_int_equal(count(got->h_aliases), count(want->h_aliases));
	for (size_t i = 0; want->h_aliases[i]; i++)
		assert_string_equal(got->h_aliases[i], want->h_aliases[i]);
	assert_int_equal(count(got->h_addr_list), count(want->h_addr_list));
	for (size_t i = 0; want->h_addr_list[i]; i++)
		assert_memory_equal(got->h_addr_list[i], want->h_addr_list[i],
				    (size_t)want->h_length);
}

/* ---- the same hostent as glibc's for a numeric address ---- */

struct like_glibc {
	const char *name;
	int af;
	const char *addr;
};

static const struct like_glibc like_glibc_cases[] = {
	{"glibc AF_INET 192.0.2.1", AF_INET, "192.0.2.1"},
	{"glibc AF_INET 127.0.53.80", AF_INET, "127.0.53.80"},
	{"glibc AF_INET 0.0.0.0", AF_INET, "0.0.0.0"},
	{"glibc AF_INET 255.255.255.255", AF_INET, "255.255.255.255"},
	{"glibc AF_INET6 2001:db8::1", AF_INET6, "2001:db8::1"},
	{"glibc AF_INET6 ::1", AF_INET6, "::1"},
	{"glibc AF_INET6 fd00:53::1", AF_INET6, "fd00:53::1"},
	{"glibc AF_INET6 ::ffff:192.0.2.1", AF_INET6, "::ffff:192.0.2.1"},
	{"glibc AF_INET6 2001:db8:1:2:3:4:5:6", AF_INET6, "2001:db8:1:2:3:4:5:6"},
};

static void test_like_glibc(void **state)
{
	const struct like_glibc *c = *state;
	struct hostent libc_he, *libc_res = NULL;
	char libc_buf[1024];
	int herr = 0;
	assert_int_equal(gethostbyname2_r(c->addr, c->af, &libc_he, libc_buf, sizeof libc_buf,
					  &libc_res, &herr),
			 0);
	assert_non_null(libc_res);
	/* The premise: glibc answers a numeric address with itself, no alias. */
	assert_string_equal(libc_res->h_name, c->addr);
	assert_int_equal(count(libc_res->h_aliases), 0);
	assert_int_equal(count(libc_res->h_addr_list), 1);

	struct nx_addr a = addr_of(c->addr);
	struct hostent he;
	char *buf = malloc(1024);
	assert_non_null(buf);
	memset(&he, 0, sizeof he);
	assert_int_equal(nx_result_hostent(&a, 1, c->addr, c->addr, c->af, &he, buf, 1024), 0);
	assert_same_hostent(libc_res, &he);
	/* Everything the hostent points to lives in the caller's buffer. */
	assert_true(he.h_name >= buf && he.h_name < buf + 1024);
	assert_true((char *)he.h_aliases >= buf && (char *)he.h_aliases < buf + 1024);
	assert_true((char *)he.h_addr_list >= buf && (char *)he.h_addr_list < buf + 1024);
	assert_true(he.h_addr_list[0] >= buf && he.h_addr_list[0] < buf + 1024);
	free(buf);
}

/* ---- buffer sizes ---- */

struct sizes {
	const char *name;
	int af;
	const char *addrs;
	const char *canon, *asked;
	int want_naddrs; /* addresses of family af among addrs */
};

static const struct sizes size_cases[] = {
	{"ERANGE below need: one AF_INET", AF_INET, "192.0.2.1", "a.lab.test", "a.lab.test", 1},
	{"ERANGE below need: one AF_INET6", AF_INET6, "2001:db8::1", "a.lab.test", "a.lab.test", 1},
	{"ERANGE below need: AF_INET with alias", AF_INET, "192.0.2.1", "www.lab.test",
	 "alias.lab.test", 1},
	{"ERANGE below need: AF_INET6 with alias", AF_INET6, "2001:db8::1", "www.lab.test",
	 "alias.lab.test", 1},
	{"ERANGE below need: three AF_INET of five", AF_INET,
	 "192.0.2.1 2001:db8::1 192.0.2.2 2001:db8::2 192.0.2.3", "multi.lab.test",
	 "multi.lab.test", 3},
	{"ERANGE below need: two AF_INET6 of five, alias", AF_INET6,
	 "192.0.2.1 2001:db8::1 192.0.2.2 2001:db8::2 192.0.2.3", "target.lab.test",
	 "x.lab.test", 2},
	{"ERANGE below need: one-letter names", AF_INET, "192.0.2.1", "a", "b", 1},
};

/* What glibc's DNS backend needs (resolv/nss_dns/dns-host.c, with
 * include/alloc_buffer.h) from a buffer starting at address start: the
 * asked name and the canonical one when it differs, unaligned; each
 * address aligned to 4; then the address pointers and the alias pointers,
 * aligned for pointers. The lab's conformance test checks these sizes
 * against glibc's own gethostbyname_r at every size from 0 to 1200. */
static size_t needed_at(const struct sizes *c, int n, uintptr_t start)
{
	bool alias = strcmp(c->canon, c->asked) != 0;
	size_t len = c->af == AF_INET ? 4 : 16;
	uintptr_t p = start + strlen(c->asked) + 1 + (alias ? strlen(c->canon) + 1 : 0);
	for (int i = 0; i < n; i++)
		p = ((p + 3) & ~(uintptr_t)3) + len;
	p = (p + sizeof(char *) - 1) & ~(uintptr_t)(sizeof(char *) - 1);
	p += sizeof(char *) * ((size_t)(n + 1) + (alias ? 2 : 1));
	return (size_t)(p - start);
}

static size_t needed_for(const struct sizes *c, int n)
{
	return needed_at(c, n, 0);
}

/* The least any layout could use: no padding at all. */
static size_t packed_for(const struct sizes *c, int n)
{
	bool alias = strcmp(c->canon, c->asked) != 0;
	size_t len = c->af == AF_INET ? 4 : 16;
	return sizeof(char *) * ((alias ? 2 : 1) + (size_t)(n + 1)) + len * (size_t)n +
	       strlen(c->canon) + 1 + (alias ? strlen(c->asked) + 1 : 0);
}

/* Calls nx_result_hostent with a heap buffer of exactly size bytes starting
 * offset bytes into its block (so valgrind sees any byte written past it). */
static int call_with(const struct sizes *c, const struct nx_addr *addrs, int naddrs,
		     size_t offset, size_t size, struct hostent *he, char **block)
{
	*block = malloc(offset + size); /* glibc's (and valgrind's) malloc(0) is not NULL */
	assert_non_null(*block);
	memset(he, 0, sizeof *he);
	return nx_result_hostent(addrs, naddrs, c->canon, c->asked, c->af, he, *block + offset,
				 size);
}

/* The expected hostent, built by hand. */
static void check_content(const struct sizes *c, const struct nx_addr *addrs, int naddrs,
			  const struct hostent *he)
{
	char *aliases[2] = {NULL, NULL};
	char *list[NX_MAXADDRS + 1];
	int k = 0;
	for (int i = 0; i < naddrs; i++)
		if (addrs[i].family == c->af)
			list[k++] = (char *)addrs[i].bytes;
	list[k] = NULL;
	assert_int_equal(k, c->want_naddrs);
	if (strcmp(c->canon, c->asked))
		aliases[0] = (char *)c->asked;
	struct hostent want = {
		.h_name = (char *)c->canon,
		.h_aliases = aliases,
		.h_addrtype = c->af,
		.h_length = c->af == AF_INET ? 4 : 16,
		.h_addr_list = list,
	};
	assert_same_hostent(&want, he);
}

static void test_sizes(void **state)
{
	const struct sizes *c = *state;
	struct nx_addr addrs[NX_MAXADDRS];
	int naddrs = addrs_of(c->addrs, addrs, NX_MAXADDRS);
	size_t need = needed_for(c, c->want_naddrs);
	struct hostent he;
	char *block;

	assert_in_range(need, packed_for(c, c->want_naddrs),
			packed_for(c, c->want_naddrs) + 2 * (sizeof(void *) - 1));
	for (size_t size = 0; size < need; size++) {
		int rc = call_with(c, addrs, naddrs, 0, size, &he, &block);
		if (rc != ERANGE)
			fail_msg("size %zu of %zu needed: got %d, want ERANGE (%d)", size, need, rc,
				 ERANGE);
		free(block);
	}
	/* From the needed size on, success with the same content. */
	for (size_t size = need; size <= need + 2 * sizeof(void *); size++) {
		int rc = call_with(c, addrs, naddrs, 0, size, &he, &block);
		if (rc != 0)
			fail_msg("size %zu, %zu needed: got %d, want 0", size, need, rc);
		check_content(c, addrs, naddrs, &he);
		free(block);
	}
	/* A buffer that does not start on a pointer boundary: the padding
	 * falls where glibc's falls, so ERANGE comes one byte below what
	 * that start needs. */
	for (size_t offset = 1; offset < sizeof(void *); offset++) {
		size_t at = needed_at(c, c->want_naddrs, offset);
		int rc = call_with(c, addrs, naddrs, offset, at - 1, &he, &block);
		if (rc != ERANGE)
			fail_msg("offset %zu, size %zu: got %d, want ERANGE", offset, at - 1, rc);
		free(block);
		rc = call_with(c, addrs, naddrs, offset, at, &he, &block);
		if (rc != 0)
			fail_msg("offset %zu, size %zu: got %d, want 0", offset, at, rc);
		check_content(c, addrs, naddrs, &he);
		assert_int_equal((uintptr_t)he.h_aliases % sizeof(void *), 0);
		assert_int_equal((uintptr_t)he.h_addr_list % sizeof(void *), 0);
		free(block);
	}
}

/* ---- aliases, families, order ---- */

static void test_alias_when_canon_differs(void **state)
{
	(void)state;
	struct nx_addr a = addr_of("192.0.2.10");
	struct hostent he;
	char buf[512];
	assert_int_equal(nx_result_hostent(&a, 1, "www.lab.test", "alias.lab.test", AF_INET, &he,
					   buf, sizeof buf),
			 0);
	assert_string_equal(he.h_name, "www.lab.test");
	assert_int_equal(count(he.h_aliases), 1);
	assert_string_equal(he.h_aliases[0], "alias.lab.test");
	assert_null(he.h_aliases[1]);
	assert_int_equal(he.h_addrtype, AF_INET);
	assert_int_equal(he.h_length, 4);
	assert_int_equal(count(he.h_addr_list), 1);
	assert_memory_equal(he.h_addr_list[0], a.bytes, 4);
}

static void test_no_alias_when_same(void **state)
{
	(void)state;
	struct nx_addr a = addr_of("2001:db8::10");
	struct hostent he;
	char buf[512];
	assert_int_equal(nx_result_hostent(&a, 1, "www.lab.test", "www.lab.test", AF_INET6, &he,
					   buf, sizeof buf),
			 0);
	assert_string_equal(he.h_name, "www.lab.test");
	assert_non_null(he.h_aliases);
	assert_null(he.h_aliases[0]);
	assert_int_equal(he.h_addrtype, AF_INET6);
	assert_int_equal(he.h_length, 16);
	assert_int_equal(count(he.h_addr_list), 1);
	assert_memory_equal(he.h_addr_list[0], a.bytes, 16);
}

/* Addresses of the asked family only, in the order given. */
static void test_family_filter_keeps_order(void **state)
{
	(void)state;
	struct nx_addr addrs[6];
	int n = addrs_of("192.0.2.3 2001:db8::3 192.0.2.1 2001:db8::1 192.0.2.2 2001:db8::2", addrs,
			 6);
	struct hostent he;
	char buf[1024];
	assert_int_equal(nx_result_hostent(addrs, n, "m.lab.test", "m.lab.test", AF_INET, &he, buf,
					   sizeof buf),
			 0);
	assert_int_equal(count(he.h_addr_list), 3);
	assert_memory_equal(he.h_addr_list[0], addrs[0].bytes, 4);
	assert_memory_equal(he.h_addr_list[1], addrs[2].bytes, 4);
	assert_memory_equal(he.h_addr_list[2], addrs[4].bytes, 4);
	assert_int_equal(nx_result_hostent(addrs, n, "m.lab.test", "m.lab.test", AF_INET6, &he, buf,
					   sizeof buf),
			 0);
	assert_int_equal(count(he.h_addr_list), 3);
	assert_memory_equal(he.h_addr_list[0], addrs[1].bytes, 16);
	assert_memory_equal(he.h_addr_list[1], addrs[3].bytes, 16);
	assert_memory_equal(he.h_addr_list[2], addrs[5].bytes, 16);
}

struct none {
	const char *name;
	int af;
	const char *addrs; /* "" for none */
};

static const struct none none_cases[] = {
	{"-1: AF_INET asked, AF_INET6 only", AF_INET, "2001:db8::1 2001:db8::2"},
	{"-1: AF_INET6 asked, AF_INET only", AF_INET6, "192.0.2.1 192.0.2.2"},
	{"-1: AF_INET asked, no address", AF_INET, ""},
	{"-1: AF_INET6 asked, no address", AF_INET6, ""},
};

/* -1, and neither the hostent nor the buffer touched. */
static void test_none(void **state)
{
	const struct none *c = *state;
	struct nx_addr addrs[4];
	int n = addrs_of(c->addrs, addrs, 4);
	struct hostent he, before;
	char buf[256], copy[256];
	memset(&he, 0x5a, sizeof he);
	before = he;
	memset(buf, 0xa5, sizeof buf);
	memcpy(copy, buf, sizeof buf);
	assert_int_equal(
		nx_result_hostent(addrs, n, "n.lab.test", "n.lab.test", c->af, &he, buf, sizeof buf),
		-1);
	assert_memory_equal(&he, &before, sizeof he);
	assert_memory_equal(buf, copy, sizeof buf);
	/* -1 rather than ERANGE, even with no room at all. */
	assert_int_equal(nx_result_hostent(addrs, n, "n.lab.test", "n.lab.test", c->af, &he, buf, 0),
			 -1);
}

/* The most a reply gives (NX_MAXADDRS addresses, names of 253 characters)
 * fits the buffer hooks.c uses for the non-reentrant forms. */
static void test_largest_fits_hooks_buffer(void **state)
{
	(void)state;
	struct nx_addr addrs[NX_MAXADDRS];
	for (int i = 0; i < NX_MAXADDRS; i++) {
		char text[64];
		snprintf(text, sizeof text, "2001:db8::%x", i + 1);
		addrs[i] = addr_of(text);
	}
	char canon[254], asked[254];
	for (int i = 0; i < 253; i++) {
		canon[i] = i % 64 == 63 ? '.' : 'c';
		asked[i] = i % 64 == 63 ? '.' : 'a';
	}
	canon[253] = asked[253] = '\0';
	struct hostent he;
	char *buf = malloc(HOOKS_HOSTENT_BUF);
	assert_non_null(buf);
	assert_int_equal(nx_result_hostent(addrs, NX_MAXADDRS, canon, asked, AF_INET6, &he, buf,
					   HOOKS_HOSTENT_BUF),
			 0);
	assert_string_equal(he.h_name, canon);
	assert_string_equal(he.h_aliases[0], asked);
	assert_int_equal(count(he.h_addr_list), NX_MAXADDRS);
	for (int i = 0; i < NX_MAXADDRS; i++)
		assert_memory_equal(he.h_addr_list[i], addrs[i].bytes, 16);
	free(buf);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(like_glibc_cases) + ARRAY_SIZE(size_cases) +
				       ARRAY_SIZE(none_cases) + 4];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_like_glibc, like_glibc_cases);
	UTIL_ADD_ROWS(tests, n, test_sizes, size_cases);
	UTIL_ADD_TEST(tests, n, test_alias_when_canon_differs);
	UTIL_ADD_TEST(tests, n, test_no_alias_when_same);
	UTIL_ADD_TEST(tests, n, test_family_filter_keeps_order);
	UTIL_ADD_ROWS(tests, n, test_none, none_cases);
	UTIL_ADD_TEST(tests, n, test_largest_fits_hooks_buffer);
	return UTIL_RUN("hostent", tests, n);
}
