/* nameserver.c: nameserver addresses in text, and resolv.conf's list. */
#include "util.h"

#include "nxretry.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- nx_nameserver_parse, then nx_nameserver_format ---- */

struct parse_case {
	const char *name;
	const char *text;
	bool ok;
	const char *ip; /* the address, in inet_pton form */
	uint16_t port;
	const char *formatted; /* nx_nameserver_format of the result */
};

static const struct parse_case parse_cases[] = {
	{"parse: IPv4", "192.0.2.1", true, "192.0.2.1", 53, "192.0.2.1"},
	{"parse: IPv4 and port", "192.0.2.1:5353", true, "192.0.2.1", 5353, "192.0.2.1:5353"},
	{"parse: IPv4 and port 53", "192.0.2.1:53", true, "192.0.2.1", 53, "192.0.2.1"},
	{"parse: IPv4, port 1", "192.0.2.1:1", true, "192.0.2.1", 1, "192.0.2.1:1"},
	{"parse: IPv4, port 65535", "192.0.2.1:65535", true, "192.0.2.1", 65535,
	 "192.0.2.1:65535"},
	{"parse: IPv4, port with leading zeros", "192.0.2.1:0053", true, "192.0.2.1", 53,
	 "192.0.2.1"},
	{"parse: bracketed IPv6 and port 53", "[2001:db8::1]:53", true, "2001:db8::1", 53,
	 "2001:db8::1"},
	{"parse: bracketed IPv6 and port", "[2001:db8::1]:5353", true, "2001:db8::1", 5353,
	 "[2001:db8::1]:5353"},
	{"parse: bracketed IPv6, no port", "[2001:db8::1]", true, "2001:db8::1", 53, "2001:db8::1"},
	{"parse: bare IPv6", "2001:db8::1", true, "2001:db8::1", 53, "2001:db8::1"},
	{"parse: bare IPv6 loopback", "::1", true, "::1", 53, "::1"},
	{"parse: bare IPv6, long form", "2001:DB8:0:0:0:0:0:1", true, "2001:db8::1", 53,
	 "2001:db8::1"},
	{"parse: bare IPv6 ending in :53 is an address", "2001:db8::1:53", true, "2001:db8::1:53",
	 53, "2001:db8::1:53"},
	{"parse: IPv4-mapped IPv6", "[::ffff:192.0.2.1]:5300", true, "::ffff:192.0.2.1", 5300,
	 "[::ffff:192.0.2.1]:5300"},
	{"parse: port 0 rejected", "192.0.2.1:0", false, NULL, 0, NULL},
	{"parse: port 65536 rejected", "192.0.2.1:65536", false, NULL, 0, NULL},
	{"parse: port 99999 rejected", "1.2.3.4:99999", false, NULL, 0, NULL},
	{"parse: empty port rejected", "192.0.2.1:", false, NULL, 0, NULL},
	{"parse: named port rejected", "192.0.2.1:domain", false, NULL, 0, NULL},
	{"parse: port with a suffix rejected", "192.0.2.1:53x", false, NULL, 0, NULL},
	{"parse: signed port rejected", "192.0.2.1:+53", false, NULL, 0, NULL},
	{"parse: negative port rejected", "192.0.2.1:-1", false, NULL, 0, NULL},
	{"parse: blank before the port rejected", "192.0.2.1: 53", false, NULL, 0, NULL},
	{"parse: unclosed bracket rejected", "[::1", false, NULL, 0, NULL},
	{"parse: text after the bracket rejected", "[::1]x", false, NULL, 0, NULL},
	{"parse: empty port after the bracket rejected", "[::1]:", false, NULL, 0, NULL},
	{"parse: IPv4 in brackets rejected", "[192.0.2.1]:53", false, NULL, 0, NULL},
	{"parse: empty brackets rejected", "[]:53", false, NULL, 0, NULL},
	{"parse: scoped IPv6 rejected", "fe80::1%eth0", false, NULL, 0, NULL},
	{"parse: host name rejected", "ns1.example.net", false, NULL, 0, NULL},
	{"parse: host name and port rejected", "ns1.example.net:5353", false, NULL, 0, NULL},
	{"parse: short IPv4 rejected", "127.1", false, NULL, 0, NULL},
	{"parse: IPv4 part over 255 rejected", "256.0.2.1", false, NULL, 0, NULL},
	{"parse: leading blank rejected", " 192.0.2.1", false, NULL, 0, NULL},
	{"parse: empty rejected", "", false, NULL, 0, NULL},
	{"parse: 'not a host' rejected", "not a host", false, NULL, 0, NULL},
	{"parse: very long bracket rejected",
	 "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]:53", false, NULL, 0,
	 NULL},
	{"parse: very long text rejected",
	 "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000", false, NULL,
	 0, NULL},
};

static void test_parse(void **state)
{
	const struct parse_case *t = *state;
	struct nx_nameserver s;
	memset(&s, 0xa5, sizeof s);
	int rc = nx_nameserver_parse(t->text, &s);
	if (rc != (t->ok ? 0 : -1))
		fail_msg("nx_nameserver_parse(\"%s\") = %d", t->text, rc);
	if (!t->ok)
		return;
	int family = strchr(t->ip, ':') ? AF_INET6 : AF_INET;
	unsigned char bytes[16] = {0};
	assert_int_equal(inet_pton(family, t->ip, bytes), 1);
	assert_int_equal(s.addr.family, family);
	assert_memory_equal(s.addr.bytes, bytes, 16); /* IPv4: the rest zeroed */
	assert_int_equal(s.port, t->port);

	char text[64];
	assert_int_equal(nx_nameserver_format(&s, text, sizeof text), 0);
	assert_string_equal(text, t->formatted);
	/* And back: the formatted text parses to the same server. */
	struct nx_nameserver again;
	assert_int_equal(nx_nameserver_parse(text, &again), 0);
	assert_int_equal(again.addr.family, s.addr.family);
	assert_memory_equal(again.addr.bytes, s.addr.bytes, 16);
	assert_int_equal(again.port, s.port);
}

static void test_format_buffer(void **state)
{
	(void)state;
	struct nx_nameserver s;
	char buf[64];
	assert_int_equal(nx_nameserver_parse("[2001:db8::1]:5353", &s), 0);
	size_t need = strlen("[2001:db8::1]:5353") + 1;
	assert_int_equal(nx_nameserver_format(&s, buf, need), 0);
	assert_string_equal(buf, "[2001:db8::1]:5353");
	assert_int_equal(nx_nameserver_format(&s, buf, need - 1), -1);
	assert_int_equal(nx_nameserver_parse("192.0.2.1", &s), 0);
	assert_int_equal(nx_nameserver_format(&s, buf, 10), 0);
	assert_string_equal(buf, "192.0.2.1");
	assert_int_equal(nx_nameserver_format(&s, buf, 9), -1);
}

static void test_addr_format(void **state)
{
	(void)state;
	struct nx_addr a;
	char buf[INET6_ADDRSTRLEN];
	memset(&a, 0, sizeof a);
	a.family = AF_INET;
	memcpy(a.bytes, "\xc0\x00\x02\x07", 4);
	assert_int_equal(nx_addr_format(&a, buf, sizeof buf), 0);
	assert_string_equal(buf, "192.0.2.7");
	a.family = AF_INET6;
	memset(a.bytes, 0, 16);
	a.bytes[15] = 1;
	assert_int_equal(nx_addr_format(&a, buf, sizeof buf), 0);
	assert_string_equal(buf, "::1");
	a.family = 0;
	assert_int_equal(nx_addr_format(&a, buf, sizeof buf), -1);
	a.family = AF_INET;
	assert_int_equal(nx_addr_format(&a, buf, 4), -1); /* "0.0.0.0" does not fit */
}

/* ---- nx_system_servers ---- */

struct resolv_case {
	const char *name;
	const char *text; /* NULL: no file at all */
	int max;
	const char *servers[4]; /* expected, port 53 */
};

static const struct resolv_case resolv_cases[] = {
	{"resolv: one server", "nameserver 192.0.2.1\n", 3, {"192.0.2.1"}},
	{"resolv: three max", "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n"
			      "nameserver 192.0.2.4\n",
	 3, {"192.0.2.1", "192.0.2.2", "192.0.2.3"}},
	{"resolv: max 1", "nameserver 192.0.2.1\nnameserver 192.0.2.2\n", 1, {"192.0.2.1"}},
	{"resolv: comments and other keywords",
	 "# nameserver 10.0.0.1\n; nameserver 10.0.0.2\nsearch example.com\n"
	 "options ndots:2 timeout:1\ndomain example.com\nnameserver 192.0.2.1 # trailing\n",
	 3, {"192.0.2.1"}},
	{"resolv: IPv6", "nameserver 2001:db8::53\nnameserver 192.0.2.1\n", 3,
	 {"2001:db8::53", "192.0.2.1"}},
	{"resolv: scoped IPv6, scope dropped", "nameserver fe80::1%eth0\n", 3, {"fe80::1"}},
	{"resolv: tabs", "nameserver\t192.0.2.1\nnameserver 192.0.2.2\t\n", 3,
	 {"192.0.2.1", "192.0.2.2"}},
	{"resolv: no final newline", "nameserver 192.0.2.1", 3, {"192.0.2.1"}},
	{"resolv: invalid lines skipped, not counted",
	 "nameserver not-an-ip\nnameserver\nnameserver 256.1.1.1\nnameservers 192.0.2.8\n"
	 "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n",
	 3, {"192.0.2.1", "192.0.2.2", "192.0.2.3"}},
	{"resolv: none gives 127.0.0.1", "search example.com\n", 3, {"127.0.0.1"}},
	{"resolv: empty file gives 127.0.0.1", "", 3, {"127.0.0.1"}},
	{"resolv: missing file gives 127.0.0.1", NULL, 3, {"127.0.0.1"}},
	/* As glibc 2.36 reads resolv.conf (checked with res_init in a mount
	 * namespace): a keyword must start its line, and IPv4 addresses are
	 * read with inet_aton. */
	{"resolv: indented line ignored, as glibc does",
	 "  nameserver 192.0.2.1\nnameserver 192.0.2.2\n", 3, {"192.0.2.2"}},
	{"resolv: inet_aton form 127.0.53, as glibc reads it", "nameserver 127.0.53\n", 3,
	 {"127.0.0.53"}},
	{"resolv: keyword glued to its address, as glibc does",
	 "nameserver192.0.2.1\nnameserver 192.0.2.2\n", 3, {"192.0.2.2"}},
	{"resolv: blanks before the address", "nameserver \t 192.0.2.1\n", 3, {"192.0.2.1"}},
	{"resolv: inet_aton form 10.1, as glibc reads it",
	 "nameserver 10.1\nnameserver 192.0.2.2\n", 3, {"10.0.0.1", "192.0.2.2"}},
};

/* nx_system_servers on text (NULL: no file) gives exactly servers. */
static void check_resolv(const char *text, int max, const char *const servers[4])
{
	char *path = text ? util_temp_file(text) : NULL;
	struct nx_nameserver out[5];
	memset(out, 0xa5, sizeof out);
	int n = nx_system_servers(path ? path : "/nonexistent/resolv.conf", out, max);
	util_temp_remove(path);
	int want = 0;
	while (want < 4 && servers[want])
		want++;
	if (n != want)
		fail_msg("%d servers, expected %d", n, want);
	for (int i = 0; i < n; i++) {
		int family = strchr(servers[i], ':') ? AF_INET6 : AF_INET;
		unsigned char bytes[16] = {0};
		assert_int_equal(inet_pton(family, servers[i], bytes), 1);
		char got[64] = "?";
		nx_addr_format(&out[i].addr, got, sizeof got);
		if (out[i].addr.family != family || memcmp(out[i].addr.bytes, bytes, 16))
			fail_msg("server %d is %s, expected %s", i, got, servers[i]);
		assert_int_equal(out[i].port, 53);
	}
	/* Nothing written past n. */
	unsigned char untouched[sizeof out[0]];
	memset(untouched, 0xa5, sizeof untouched);
	assert_memory_equal(&out[n], untouched, sizeof untouched);
}

static void test_resolv(void **state)
{
	const struct resolv_case *t = *state;
	check_resolv(t->text, t->max, t->servers);
}

/* glibc reads whole lines: a "nameserver" where a fixed buffer would cut a
 * long search or options line is a word of that line, not a keyword. */
struct long_resolv_case {
	const char *name;
	const char *head; /* up to the long line's first filler word */
	size_t at;        /* where tail starts in the text */
	const char *tail; /* the rest of the file */
	const char *servers[4];
};

#define LONG_TAIL "nameserver 192.0.2.99\nnameserver 192.0.2.1\nnameserver 192.0.2.2\n"

static const struct long_resolv_case long_resolv_cases[] = {
	{"resolv: \"nameserver\" at byte 511 of a search line", "search example.com", 511,
	 LONG_TAIL, {"192.0.2.1", "192.0.2.2"}},
	{"resolv: \"nameserver\" at byte 512 of a search line", "search example.com", 512,
	 LONG_TAIL, {"192.0.2.1", "192.0.2.2"}},
	{"resolv: \"nameserver\" at byte 1023 of an options line", "options ndots:2", 1023,
	 LONG_TAIL, {"192.0.2.1", "192.0.2.2"}},
	{"resolv: \"nameserver\" at byte 9000 of a search line", "search example.com", 9000,
	 LONG_TAIL, {"192.0.2.1", "192.0.2.2"}},
	/* The long line starts at byte 21: its byte 511 is the text's 532. */
	{"resolv: servers before and after a long line, three at most",
	 "nameserver 192.0.2.1\nsearch example.com", 532, LONG_TAIL,
	 {"192.0.2.1", "192.0.2.1", "192.0.2.2"}},
};

static void test_resolv_long_line(void **state)
{
	const struct long_resolv_case *t = *state;
	char *text = util_long_line(t->head, t->at, t->tail);
	check_resolv(text, 3, t->servers);
	free(text);
}

static void test_resolv_max_zero(void **state)
{
	(void)state;
	struct nx_nameserver out[1];
	memset(out, 0xa5, sizeof out);
	assert_int_equal(nx_system_servers("/nonexistent/resolv.conf", out, 0), 0);
	unsigned char untouched[sizeof out[0]];
	memset(untouched, 0xa5, sizeof untouched);
	assert_memory_equal(&out[0], untouched, sizeof untouched);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(parse_cases) + ARRAY_SIZE(resolv_cases) +
				       ARRAY_SIZE(long_resolv_cases) + 3];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_parse, parse_cases);
	UTIL_ADD_TEST(tests, n, test_format_buffer);
	UTIL_ADD_TEST(tests, n, test_addr_format);
	UTIL_ADD_ROWS(tests, n, test_resolv, resolv_cases);
	UTIL_ADD_ROWS(tests, n, test_resolv_long_line, long_resolv_cases);
	UTIL_ADD_TEST(tests, n, test_resolv_max_zero);
	return UTIL_RUN("server", tests, n);
}
