/* log.c: every line escaped, whatever its arguments hold. */
#include "util.h"

#include "nxretry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct escape_case {
	const char *name;
	const char *in;
	size_t size; /* of the output buffer */
	const char *out;
};

static const struct escape_case escape_cases[] = {
	{"escape: plain text unchanged", "www.example.com: 192.0.2.1", 64,
	 "www.example.com: 192.0.2.1"},
	{"escape: empty", "", 8, ""},
	{"escape: newline", "a\nb", 64, "a\\010b"},
	{"escape: carriage return and tab", "a\r\tb", 64, "a\\013\\009b"},
	{"escape: ESC sequence", "\x1b[31mred\x1b[0m", 64, "\\027[31mred\\027[0m"},
	{"escape: DEL", "a\x7f", 64, "a\\127"},
	{"escape: bytes over 0x7f (UTF-8 e-acute)", "caf\xc3\xa9", 64, "caf\\195\\169"},
	{"escape: byte 0xff", "\xff", 64, "\\255"},
	{"escape: backslash doubled", "a\\b", 64, "a\\\\b"},
	{"escape: shell syntax is printable", "$(id) `id` 'q' \"q\"", 64,
	 "$(id) `id` 'q' \"q\""},
	{"escape: cut before an escape that does not fit", "ab\ncd", 6, "ab"},
	{"escape: an escape that just fits", "ab\ncd", 7, "ab\\010"},
	{"escape: cut before a doubled backslash", "abc\\", 5, "abc"},
	{"escape: plain text cut", "abcdef", 4, "abc"},
	{"escape: size 1 holds only the NUL", "abc", 1, ""},
};

static void test_escape(void **state)
{
	const struct escape_case *t = *state;
	char out[64];
	memset(out, 0x5a, sizeof out);
	size_t n = nx_escape(out, t->size, t->in);
	assert_string_equal(out, t->out);
	assert_int_equal(n, strlen(t->out));
	for (size_t i = t->size; i < sizeof out; i++)
		assert_int_equal(out[i], 0x5a); /* nothing written past size */
}

static void test_escape_size_0(void **state)
{
	(void)state;
	char out[4] = "xyz";
	assert_int_equal(nx_escape(out, 0, "abc"), 0);
	assert_string_equal(out, "xyz");
}

/* What the network or the environment may put in a name: nx_log writes
 * it escaped, on one line. */
struct log_case {
	const char *name;
	const char *arg;
	const char *line;
};

static const struct log_case log_cases[] = {
	{"log: newline cannot forge a second line", "a.example\nnxretry: forged",
	 "nxretry: name a.example\\010nxretry: forged\n"},
	{"log: terminal escape", "\x1b]0;title\x07x.example", "nxretry: name \\027]0;title\\007x.example\n"},
	{"log: $(id) kept as text", "$(id).example", "nxretry: name $(id).example\n"},
	{"log: space kept", "a b.example", "nxretry: name a b.example\n"},
	{"log: backslash", "a\\b", "nxretry: name a\\\\b\n"},
};

static void test_log_escaped(void **state)
{
	const struct log_case *t = *state;
	nx_log_level = NX_LOG_WARN;
	util_capture_begin();
	nx_log(NX_LOG_WARN, "name %s", t->arg);
	util_expect_text(util_capture_end(), t->line);
}

/* A line of 2000 bytes: cut, escapes kept whole, still one line of at
 * most 1024 bytes. */
struct long_case {
	const char *name;
	char fill;
	const char *escaped; /* how fill is written */
};

static const struct long_case long_cases[] = {
	{"log: long line cut", 'x', "x"},
	{"log: long line of newlines cut at a whole escape", '\n', "\\010"},
};

static void test_log_long_line(void **state)
{
	const struct long_case *t = *state;
	char big[2000];
	memset(big, t->fill, sizeof big - 1);
	big[sizeof big - 1] = 0;
	nx_log_level = NX_LOG_WARN;
	util_capture_begin();
	nx_log(NX_LOG_WARN, "%s", big);
	char *log = util_capture_end();
	char copy[1100];
	snprintf(copy, sizeof copy, "%s", log);
	size_t len = strlen(log);
	free(log);
	assert_true(len > 1000 && len <= 1024);
	assert_int_equal(copy[len - 1], '\n'); /* cut, still one whole line */
	assert_null(memchr(copy, '\n', len - 1));
	size_t prefix = strlen("nxretry: "), unit = strlen(t->escaped);
	assert_memory_equal(copy, "nxretry: ", prefix);
	assert_int_equal((len - 1 - prefix) % unit, 0);
	for (size_t i = prefix; i + unit < len; i += unit)
		assert_memory_equal(copy + i, t->escaped, unit);
}

static void test_log_levels(void **state)
{
	(void)state;
	nx_log_level = NX_LOG_INFO;
	util_capture_begin();
	nx_log(NX_LOG_ERROR, "one %d", 1);
	nx_log(NX_LOG_INFO, "two %s", "2");
	nx_log(NX_LOG_DEBUG, "three");
	nx_log(NX_LOG_OFF, "never");
	char *log = util_capture_end();
	nx_log_level = NX_LOG_WARN;
	util_expect_text(log, "nxretry: one 1\nnxretry: two 2\n");

	nx_log_level = NX_LOG_OFF;
	util_capture_begin();
	nx_log(NX_LOG_ERROR, "hidden");
	log = util_capture_end();
	nx_log_level = NX_LOG_WARN;
	util_expect_text(log, "");
}

static void test_log_parse_level(void **state)
{
	(void)state;
	static const char *const names[] = {"off", "error", "warn", "info", "debug"};
	for (int i = 0; i < 5; i++) {
		enum nx_level l = (enum nx_level)99;
		assert_true(nx_log_parse_level(names[i], &l));
		assert_int_equal(l, i);
	}
	enum nx_level l = NX_LOG_INFO;
	assert_false(nx_log_parse_level("Debug", &l));
	assert_false(nx_log_parse_level("", &l));
	assert_false(nx_log_parse_level("warning", &l));
	assert_int_equal(l, NX_LOG_INFO);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(escape_cases) + ARRAY_SIZE(log_cases) +
				       ARRAY_SIZE(long_cases) + 3];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_escape, escape_cases);
	UTIL_ADD_TEST(tests, n, test_escape_size_0);
	UTIL_ADD_ROWS(tests, n, test_log_escaped, log_cases);
	UTIL_ADD_ROWS(tests, n, test_log_long_line, long_cases);
	UTIL_ADD_TEST(tests, n, test_log_levels);
	UTIL_ADD_TEST(tests, n, test_log_parse_level);
	return UTIL_RUN("log", tests, n);
}
