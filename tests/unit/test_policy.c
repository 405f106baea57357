/* policy.c: canonical names, suffixes on label boundaries, numeric hosts,
 * the hosts file. */
#include "util.h"

#include "nxretry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- nx_name_canonical ---- */

struct canonical_case {
	const char *name;
	const char *input;    /* NULL: generated from gen_len/gen_label */
	size_t gen_len;       /* generated: total characters before gen_dot */
	size_t gen_label;     /* generated: label length (last label shorter) */
	bool gen_dot;         /* generated: append one trailing dot */
	bool ok;
	const char *expected; /* NULL with ok: the lower-cased input, no dot */
};

/* Labels of upper-case letters, dot separated, exactly len characters. */
static void generate(char *buf, size_t len, size_t label, bool dot)
{
	size_t i = 0, in_label = 0;
	while (i < len) {
		if (in_label == label && i + 1 < len) {
			buf[i++] = '.';
			in_label = 0;
		} else {
			buf[i] = (char)('A' + (i % 26));
			i++;
			in_label++;
		}
	}
	if (dot)
		buf[i++] = '.';
	buf[i] = 0;
}

static const struct canonical_case canonical_cases[] = {
	{"canonical: lower case kept", "www.example.com", 0, 0, false, true, "www.example.com"},
	{"canonical: case folded", "WWW.Example.COM", 0, 0, false, true, "www.example.com"},
	{"canonical: one trailing dot dropped", "example.com.", 0, 0, false, true, "example.com"},
	{"canonical: single label", "localhost", 0, 0, false, true, "localhost"},
	{"canonical: digits, hyphens, underscore", "_dmarc.a-1.example", 0, 0, false, true,
	 "_dmarc.a-1.example"},
	{"canonical: two trailing dots rejected", "example.com..", 0, 0, false, false, NULL},
	{"canonical: root alone rejected", ".", 0, 0, false, false, NULL},
	{"canonical: empty rejected", "", 0, 0, false, false, NULL},
	{"canonical: empty inner label rejected", "a..b", 0, 0, false, false, NULL},
	{"canonical: leading dot rejected", ".example.com", 0, 0, false, false, NULL},
	{"canonical: space rejected", "exa mple.com", 0, 0, false, false, NULL},
	{"canonical: tab rejected", "example.com\t", 0, 0, false, false, NULL},
	{"canonical: backslash rejected", "ex\\046ample.com", 0, 0, false, false, NULL},
	{"canonical: DEL rejected", "ex\x7f.com", 0, 0, false, false, NULL},
	{"canonical: 8-bit rejected", "caf\xc3\xa9.com", 0, 0, false, false, NULL},
	{"canonical: 63-char label ok", NULL, 63, 63, false, true, NULL},
	{"canonical: 64-char label rejected", NULL, 64, 64, false, false, NULL},
	{"canonical: 64-char label before a dot rejected", NULL, 64 + 1 + 63, 64, false, false,
	 NULL},
	{"canonical: 253 characters ok", NULL, 253, 63, false, true, NULL},
	{"canonical: 253 characters and a trailing dot ok", NULL, 253, 63, true, true, NULL},
	{"canonical: 254 characters rejected", NULL, 254, 63, false, false, NULL},
	{"canonical: 300 characters rejected", NULL, 300, 63, false, false, NULL},
};

static void test_canonical(void **state)
{
	const struct canonical_case *t = *state;
	char input[512], expected[512], out[NX_NAMEMAX];
	if (t->input) {
		snprintf(input, sizeof input, "%s", t->input);
	} else {
		generate(input, t->gen_len, t->gen_label, t->gen_dot);
		assert_int_equal(strlen(input), t->gen_len + t->gen_dot);
	}
	if (t->expected) {
		snprintf(expected, sizeof expected, "%s", t->expected);
	} else {
		size_t n = strlen(input) - (t->gen_dot ? 1 : 0);
		for (size_t i = 0; i < n; i++)
			expected[i] = (char)((input[i] >= 'A' && input[i] <= 'Z') ? input[i] + 32
										 : input[i]);
		expected[n] = 0;
	}
	memset(out, 'X', sizeof out);
	bool ok = nx_name_canonical(input, out);
	if (ok != t->ok)
		fail_msg("nx_name_canonical(\"%s\") returned %d (out \"%.*s\"), expected %d", input,
			 ok, NX_NAMEMAX - 1, out, t->ok);
	if (t->ok)
		assert_string_equal(out, expected);
}

static void test_canonical_null(void **state)
{
	(void)state;
	char out[NX_NAMEMAX];
	assert_false(nx_name_canonical(NULL, out));
}

/* ---- nx_name_under ---- */

struct under_case {
	const char *name;
	const char *host, *suffix; /* canonicalized first, as callers do */
	bool expected;
};

static const struct under_case under_cases[] = {
	{"under: child", "a.example.com", "example.com", true},
	{"under: grandchild", "x.a.example.com", "example.com", true},
	{"under: equal", "example.com", "example.com", true},
	{"under: label boundary (badexample.com)", "badexample.com", "example.com", false},
	{"under: parent is not under child", "example.com", "a.example.com", false},
	{"under: sibling", "b.example.com", "a.example.com", false},
	{"under: shorter tld", "example.co", "example.com", false},
	{"under: suffix in the middle", "example.com.evil", "example.com", false},
	{"under: single-label suffix", "a.example.com", "com", true},
	{"under: case as canonical", "WWW.Example.COM.", "EXAMPLE.com", true},
	{"under: case as canonical, boundary", "BadExample.COM", "example.COM.", false},
};

static void test_under(void **state)
{
	const struct under_case *t = *state;
	char host[NX_NAMEMAX], suffix[NX_NAMEMAX];
	assert_true(nx_name_canonical(t->host, host));
	assert_true(nx_name_canonical(t->suffix, suffix));
	if (nx_name_under(host, suffix) != t->expected)
		fail_msg("nx_name_under(\"%s\", \"%s\") != %d", host, suffix, t->expected);
}

static void test_under_root(void **state)
{
	(void)state;
	assert_true(nx_name_under("example.com", "")); /* the root holds every name */
}

/* ---- nx_name_numeric ---- */

struct numeric_case {
	const char *name;
	const char *input;
	bool expected;
};

static const struct numeric_case numeric_cases[] = {
	{"numeric: dotted quad", "192.0.2.1", true},
	{"numeric: inet_aton a.b (127.1)", "127.1", true},
	{"numeric: inet_aton a.b.c", "10.1.2", true},
	{"numeric: inet_aton single number", "2130706433", true},
	{"numeric: inet_aton hex parts", "0x7f.1", true},
	{"numeric: IPv6", "2001:db8::1", true},
	{"numeric: IPv6 loopback", "::1", true},
	{"numeric: IPv4-mapped IPv6", "::ffff:192.0.2.1", true},
	{"numeric: scoped IPv6 by name", "fe80::1%eth0", true},
	{"numeric: scoped IPv6 by index", "fe80::1%2", true},
	{"numeric: host name", "example.com", false},
	{"numeric: single label", "localhost", false},
	{"numeric: five parts", "1.2.3.4.5", false},
	{"numeric: part over 255", "256.1.1.1", false},
	{"numeric: digits then a label", "1.2.3.example", false},
	{"numeric: starts with digits", "1e100.net", false},
	{"numeric: bracketed IPv6", "[::1]", false},
	{"numeric: name with a percent", "example.com%eth0", false},
	{"numeric: empty", "", false},
};

static void test_numeric(void **state)
{
	const struct numeric_case *t = *state;
	if (nx_name_numeric(t->input) != t->expected)
		fail_msg("nx_name_numeric(\"%s\") != %d", t->input, t->expected);
}

/* ---- nx_hosts_has ---- */

struct hosts_case {
	const char *name;
	const char *text; /* with at: the head of one long line */
	size_t at;        /* > 0: tail starts at this byte of the line */
	const char *tail;
	const char *ask; /* canonical */
	bool expected;
};

#define HOSTS_HEAD "127.0.0.1 localhost\n192.0.2.1 app.example.com"
#define LONG_HEAD "192.0.2.1 app.example.com" /* a line's start: offsets count from it */

static const struct hosts_case hosts_cases[] = {
	{"hosts: canonical name", HOSTS_HEAD " app\n", 0, NULL, "app.example.com", true},
	{"hosts: alias", HOSTS_HEAD " app\n", 0, NULL, "app", true},
	{"hosts: case and trailing dot", "192.0.2.1 App.Example.COM.\n", 0, NULL,
	 "app.example.com", true},
	{"hosts: not listed", HOSTS_HEAD "\n", 0, NULL, "other.example.com", false},
	{"hosts: the first word is the address", "app.example.com 192.0.2.1\n", 0, NULL,
	 "app.example.com", false},
	{"hosts: after a comment sign", "192.0.2.1 a.example.com # b.example.com\n", 0, NULL,
	 "b.example.com", false},
	{"hosts: missing file", NULL, 0, NULL, "localhost", false},
	/* glibc reads whole lines: a word where a 1024-byte buffer would end
	 * is an alias, not the address of a line of its own... */
	{"hosts: alias at byte 1023 of a long line", LONG_HEAD, 1023, "wanted.example.com\n",
	 "wanted.example.com", true},
	{"hosts: alias at byte 1024 of a long line", LONG_HEAD, 1024, "wanted.example.com\n",
	 "wanted.example.com", true},
	{"hosts: alias at byte 9000 of a long line", LONG_HEAD, 9000, "wanted.example.com\n",
	 "wanted.example.com", true},
	/* ...and words past the buffer in a comment stay in the comment. */
	{"hosts: commented words past byte 1024 of a long line", LONG_HEAD " #", 1100,
	 "wanted.example.com\n", "wanted.example.com", false},
	{"hosts: the line after a long line", LONG_HEAD, 1023,
	 "wanted.example.com\n192.0.2.2 next.example.com\n", "next.example.com", true},
};

static void test_hosts(void **state)
{
	const struct hosts_case *t = *state;
	char *line = t->at ? util_long_line(t->text, t->at, t->tail) : NULL;
	char *path = t->text ? util_temp_file(line ? line : t->text) : NULL;
	bool got = nx_hosts_has(path ? path : "/nonexistent/hosts", t->ask);
	util_temp_remove(path);
	free(line);
	if (got != t->expected)
		fail_msg("nx_hosts_has(\"%s\") != %d", t->ask, t->expected);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(canonical_cases) + ARRAY_SIZE(under_cases) +
				       ARRAY_SIZE(numeric_cases) + ARRAY_SIZE(hosts_cases) + 2];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_canonical, canonical_cases);
	UTIL_ADD_TEST(tests, n, test_canonical_null);
	UTIL_ADD_ROWS(tests, n, test_under, under_cases);
	UTIL_ADD_TEST(tests, n, test_under_root);
	UTIL_ADD_ROWS(tests, n, test_numeric, numeric_cases);
	UTIL_ADD_ROWS(tests, n, test_hosts, hosts_cases);
	return UTIL_RUN("policy", tests, n);
}
