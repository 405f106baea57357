/* config.c: the libconfig file, the environment, and how they combine. */
#include "util.h"

#include "nxretry.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a fake environment ---- */

struct env_var {
	const char *name, *value;
};

static const struct env_var *fake_env;

static const char *fake_getenv(const char *name)
{
	for (const struct env_var *v = fake_env; v && v->name; v++)
		if (!strcmp(v->name, name))
			return v->value;
	return NULL;
}

/* ---- expected configurations ---- */

static void server(struct nx_nameserver *s, const char *ip, uint16_t port)
{
	memset(s, 0, sizeof *s);
	s->addr.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(s->addr.family, ip, s->addr.bytes) != 1)
		fail_msg("bad address in a test: %s", ip);
	s->port = port;
}

static struct nx_zone *add_zone(struct nx_config *c, const char *suffix)
{
	struct nx_zone *z = &c->zones[c->nzones++];
	memset(z, 0, sizeof *z);
	snprintf(z->suffix, sizeof z->suffix, "%s", suffix);
	return z;
}

static void add_name(struct nx_zone *z, const char *host, uint16_t port)
{
	snprintf(z->server_names[z->nserver_names], NX_NAMEMAX, "%s", host);
	z->server_name_ports[z->nserver_names++] = port;
}

#define assert_double_exact(a, b)                                              \
	do {                                                                   \
		double a_ = (a), b_ = (b);                                     \
		if (a_ != b_)                                                  \
			fail_msg("%s is %.17g, expected %.17g", #a, a_, b_);   \
	} while (0)

static void assert_config_equal(const struct nx_config *got, const struct nx_config *want)
{
	assert_int_equal(got->enabled, want->enabled);
	assert_double_exact(got->timeout, want->timeout);
	assert_double_exact(got->query_timeout, want->query_timeout);
	assert_double_exact(got->fail_fast, want->fail_fast);
	assert_int_equal(got->mode, want->mode);
	assert_int_equal(got->log, want->log);
	assert_double_exact(got->backoff.initial, want->backoff.initial);
	assert_double_exact(got->backoff.max, want->backoff.max);
	assert_double_exact(got->backoff.factor, want->backoff.factor);
	assert_double_exact(got->backoff.jitter, want->backoff.jitter);
	assert_int_equal(got->backoff_max_given, want->backoff_max_given);
	assert_int_equal(got->nzones, want->nzones);
	for (int i = 0; i < want->nzones; i++) {
		const struct nx_zone *g = &got->zones[i], *w = &want->zones[i];
		assert_string_equal(g->suffix, w->suffix);
		assert_double_exact(g->timeout, w->timeout);
		assert_int_equal(g->nservers, w->nservers);
		for (int k = 0; k < w->nservers; k++) {
			assert_int_equal(g->servers[k].addr.family, w->servers[k].addr.family);
			assert_memory_equal(g->servers[k].addr.bytes, w->servers[k].addr.bytes, 16);
			assert_int_equal(g->servers[k].port, w->servers[k].port);
		}
		assert_int_equal(g->nserver_names, w->nserver_names);
		for (int k = 0; k < w->nserver_names; k++) {
			assert_string_equal(g->server_names[k], w->server_names[k]);
			assert_int_equal(g->server_name_ports[k], w->server_name_ports[k]);
		}
	}
}

/* ---- good files ---- */

struct good_file {
	const char *name;
	const char *text;
	void (*want)(struct nx_config *c); /* applied to the defaults */
};

static void want_timeout_10(struct nx_config *c) { c->timeout = 10.0; }
static void want_defaults(struct nx_config *c) { (void)c; }

static void want_full(struct nx_config *c)
{
	c->timeout = 30;
	c->query_timeout = 0.5;
	c->fail_fast = 0;
	c->mode = NX_MODE_FIRST;
	c->log = NX_LOG_DEBUG;
	c->backoff = (struct nx_backoff){.initial = 0.2, .max = 2, .factor = 1.5, .jitter = 0};
	c->backoff_max_given = true;
	add_zone(c, "example.com");
	struct nx_zone *z = add_zone(c, "dev.example.net");
	server(&z->servers[z->nservers++], "192.0.2.1", 53);
	server(&z->servers[z->nservers++], "192.0.2.1", 5353);
	server(&z->servers[z->nservers++], "2001:db8::1", 53);
	server(&z->servers[z->nservers++], "2001:db8::2", 5300);
	server(&z->servers[z->nservers++], "2001:db8::53", 53);
	add_name(z, "ns1.example.net", 53);
	add_name(z, "ns1.example.net", 5353);
	z->timeout = 2.5;
}

static void want_off_fallback(struct nx_config *c)
{
	c->mode = NX_MODE_FALLBACK;
	c->log = NX_LOG_OFF;
}

static void want_jitter_only(struct nx_config *c) { c->backoff.jitter = 1; }

static void want_list_ns(struct nx_config *c)
{
	struct nx_zone *z = add_zone(c, "example.org");
	server(&z->servers[z->nservers++], "192.0.2.9", 53);
	add_name(z, "ns.example.org", 53);
}

static void want_16_servers(struct nx_config *c)
{
	struct nx_zone *z = add_zone(c, "example.org");
	for (int i = 0; i < NX_MAXSERVERS; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "192.0.2.%d", i + 1);
		server(&z->servers[z->nservers++], ip, 53);
	}
}

/* Listed twice, kept once: 16 addresses and 13 names after repeats. */
static void want_repeats_once(struct nx_config *c)
{
	want_16_servers(c);
	struct nx_zone *z = &c->zones[0];
	for (char k = 'a'; k <= 'm'; k++) {
		char name[32];
		snprintf(name, sizeof name, "%c.example.net", k);
		add_name(z, name, 53);
	}
}

static const struct good_file good_files[] = {
	{"file: integer timeout", "timeout = 10;\n", want_timeout_10},
	{"file: decimal timeout", "timeout = 10.0;\n", want_timeout_10},
	{"file: 64-bit integer timeout", "timeout = 10L;\n", want_timeout_10},
	{"file: empty", "", want_defaults},
	{"file: comments only", "# nothing\n// here\n/* at all */\n", want_defaults},
	{"file: UTF-8 in a comment", "# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\ntimeout = 10;\n",
	 want_timeout_10},
	{"file: every setting",
	 "# a complete configuration\n"
	 "timeout = 30;\n"
	 "query_timeout = 0.5;\n"
	 "fail_fast = 0;\n"
	 "mode = \"first\";\n"
	 "log = \"debug\";\n"
	 "backoff = { initial = 0.2; max = 2; factor = 1.5; jitter = 0; };\n"
	 "zones = (\n"
	 "  { suffix = \"Example.COM.\"; },\n"
	 "  {\n"
	 "    suffix = \"dev.example.net\";\n"
	 "    nameservers = [ \"192.0.2.1\", \"192.0.2.1:5353\", \"[2001:db8::1]:53\",\n"
	 "                    \"[2001:db8::2]:5300\", \"2001:db8::53\",\n"
	 "                    \"ns1.example.net\", \"NS1.example.net.:5353\" ];\n"
	 "    timeout = 2.5;\n"
	 "  }\n"
	 ");\n",
	 want_full},
	{"file: mode fallback, log off", "mode = \"fallback\";\nlog = \"off\";\n",
	 want_off_fallback},
	{"file: backoff group, one key", "backoff = { jitter = 1; };\n", want_jitter_only},
	{"file: nameservers as a list",
	 "zones = ( { suffix = \"example.org\";\n"
	 "  nameservers = ( \"192.0.2.9\", \"ns.example.org\" ); } );\n",
	 want_list_ns},
	{"file: 16 nameserver addresses",
	 "zones = ( { suffix = \"example.org\"; nameservers = [\n"
	 "\"192.0.2.1\", \"192.0.2.2\", \"192.0.2.3\", \"192.0.2.4\",\n"
	 "\"192.0.2.5\", \"192.0.2.6\", \"192.0.2.7\", \"192.0.2.8\",\n"
	 "\"192.0.2.9\", \"192.0.2.10\", \"192.0.2.11\", \"192.0.2.12\",\n"
	 "\"192.0.2.13\", \"192.0.2.14\", \"192.0.2.15\", \"192.0.2.16\"\n"
	 "]; } );\n",
	 want_16_servers},
	{"file: nameservers listed twice kept once",
	 "zones = ( { suffix = \"example.org\"; nameservers = [\n"
	 "\"192.0.2.1\", \"192.0.2.2\", \"192.0.2.3\", \"192.0.2.4\",\n"
	 "\"192.0.2.5\", \"192.0.2.6\", \"192.0.2.7\", \"192.0.2.8\",\n"
	 "\"192.0.2.9\", \"192.0.2.10\", \"192.0.2.11\", \"192.0.2.12\",\n"
	 "\"192.0.2.13\", \"192.0.2.14\", \"192.0.2.15\", \"192.0.2.1:53\", \"192.0.2.16\",\n"
	 "\"a.example.net\", \"b.example.net\", \"c.example.net\", \"d.example.net\",\n"
	 "\"e.example.net\", \"f.example.net\", \"g.example.net\", \"h.example.net\",\n"
	 "\"i.example.net\", \"j.example.net\", \"k.example.net\", \"l.example.net\",\n"
	 "\"m.example.net\", \"A.Example.NET.\", \"m.example.net:53\" ]; } );\n",
	 want_repeats_once},
};

static void test_good_file(void **state)
{
	const struct good_file *t = *state;
	struct nx_config got, want;
	nx_config_defaults(&got);
	nx_config_defaults(&want);
	t->want(&want);
	char *path = util_temp_file(t->text);
	nx_log_level = NX_LOG_DEBUG;
	util_capture_begin();
	int rc = nx_config_read_file(&got, path);
	char *log = util_capture_end();
	util_temp_remove(path);
	util_expect_text(log, "");
	assert_int_equal(rc, 0);
	assert_config_equal(&got, &want);
}

/* ---- broken files ---- */

struct bad_file {
	const char *name;
	const char *text;
	int line;
	const char *message; /* the whole message after "PATH:LINE: " */
};

static const struct bad_file bad_files[] = {
	{"bad file: syntax error", "timeout = 10;\nmode = \"first\";\nlog = = \"info\";\n", 3,
	 "syntax error"},
	/* fuzz_config: libconfig's scanner exit()s on a directory included. */
	{"bad file: @include of a directory", "timeout = 10;\n@include \"/\"\n", 2,
	 "@include is not supported"},
	{"bad file: @include after blanks", "# stdin\n\n \t@include\t \"/dev/stdin\"\n", 3,
	 "@include is not supported"},
	{"bad file: unclosed list", "timeout = 10;\nzones = ( { suffix = \"a\"; }\n", 3,
	 "syntax error"},
	{"bad file: unknown top-level key", "timeout = 10;\n\nretries = 3;\n", 3,
	 "retries: unknown setting (timeout, query_timeout, fail_fast, mode, log, backoff, zones)"},
	{"bad file: unknown zone key",
	 "zones = (\n  { suffix = \"example.com\";\n    port = 53; }\n);\n", 3,
	 "port: unknown setting in a zone (suffix, nameservers, timeout)"},
	{"bad file: unknown backoff key", "backoff = {\n  initial = 0.1;\n  steps = 3;\n};\n", 3,
	 "steps: unknown setting in backoff (initial, max, factor, jitter)"},
	{"bad file: string for timeout", "timeout = \"10\";\n", 1, "timeout: expected a number"},
	{"bad file: list for timeout", "\ntimeout = [ 10 ];\n", 2, "timeout: expected a number"},
	{"bad file: boolean for query_timeout", "query_timeout = true;\n", 1,
	 "query_timeout: expected a number"},
	{"bad file: number for mode", "log = \"info\";\nmode = 1;\n", 2, "mode: expected a string"},
	{"bad file: number for log", "log = 3;\n", 1, "log: expected a string"},
	{"bad file: number for suffix", "zones = ( { suffix = 5; } );\n", 1,
	 "suffix: expected a string"},
	{"bad file: number for a nameserver",
	 "zones = ( { suffix = \"a.b\";\n  nameservers = [ 53 ]; } );\n", 2,
	 "value: expected a string"},
	{"bad file: timeout = 0", "timeout = 0;\n", 1, "timeout: 0 is out of range [0.001, 3600]"},
	{"bad file: timeout = -1", "timeout = -1;\n", 1,
	 "timeout: -1 is out of range [0.001, 3600]"},
	{"bad file: timeout = 3601", "timeout = 3601.0;\n", 1,
	 "timeout: 3601 is out of range [0.001, 3600]"},
	{"bad file: query_timeout = 0.001", "query_timeout = 0.001;\n", 1,
	 "query_timeout: 0.001 is out of range [0.01, 60]"},
	{"bad file: fail_fast = -1", "fail_fast = -1;\n", 1,
	 "fail_fast: -1 is out of range [0, 3600]"},
	{"bad file: jitter = 2", "backoff = {\n  jitter = 2;\n};\n", 2,
	 "jitter: 2 is out of range [0, 1]"},
	{"bad file: factor = 0.5", "backoff = {\n  factor = 0.5;\n};\n", 2,
	 "factor: 0.5 is out of range [1, 10]"},
	{"bad file: zone timeout = 0", "zones = ( {\n suffix = \"a.b\";\n timeout = 0; } );\n", 3,
	 "timeout: 0 is out of range [0.001, 3600]"},
	{"bad file: bad mode", "\n\nmode = \"last\";\n", 3,
	 "mode: expected \"fallback\" or \"first\""},
	{"bad file: bad log level", "log = \"verbose\";\n", 1,
	 "log: expected off, error, warn, info or debug"},
	{"bad file: zone without suffix",
	 "zones = (\n  { suffix = \"example.com\"; },\n"
	 "  { nameservers = [ \"192.0.2.1\" ]; }\n);\n",
	 3, "zones: a zone without suffix"},
	{"bad file: invalid suffix a..b", "zones = (\n  { suffix = \"a..b\"; }\n);\n", 2,
	 "suffix: not a valid domain name"},
	{"bad file: suffix with two trailing dots",
	 "zones = ( { suffix = \"example.com..\"; } );\n", 1, "suffix: not a valid domain name"},
	{"bad file: nameserver [::1", "zones = ( { suffix = \"a.b\";\n  nameservers = [\n"
				      "    \"192.0.2.1\",\n    \"[::1\" ]; } );\n",
	 4, NULL},
	{"bad file: nameserver 1.2.3.4:99999",
	 "zones = ( { suffix = \"a.b\";\n  nameservers = [ \"1.2.3.4:99999\" ]; } );\n", 2,
	 "nameservers: bad port"},
	{"bad file: nameserver ns.example.net:0",
	 "zones = ( { suffix = \"a.b\";\n  nameservers = [ \"ns.example.net:0\" ]; } );\n", 2,
	 "nameservers: bad port"},
	{"bad file: nameserver 'not a host'",
	 "zones = ( { suffix = \"a.b\";\n  nameservers = [ \"not a host\" ]; } );\n", 2,
	 "nameservers: not an address or a host name"},
	{"bad file: nameservers not a list",
	 "zones = ( { suffix = \"a.b\";\n  nameservers = \"192.0.2.1\"; } );\n", 2,
	 "nameservers: expected [ \"host\", \"IP:port\", ... ]"},
	{"bad file: 17 nameserver addresses",
	 "zones = ( { suffix = \"example.org\"; nameservers = [\n"
	 "\"192.0.2.1\", \"192.0.2.2\", \"192.0.2.3\", \"192.0.2.4\",\n"
	 "\"192.0.2.5\", \"192.0.2.6\", \"192.0.2.7\", \"192.0.2.8\",\n"
	 "\"192.0.2.9\", \"192.0.2.10\", \"192.0.2.11\", \"192.0.2.12\",\n"
	 "\"192.0.2.13\", \"192.0.2.14\", \"192.0.2.15\", \"192.0.2.16\",\n"
	 "\"192.0.2.17\" ]; } );\n",
	 6, "nameservers: too many addresses"},
	{"bad file: 14 nameserver host names",
	 "zones = ( { suffix = \"example.org\"; nameservers = [\n"
	 "\"a.example.net\", \"b.example.net\", \"c.example.net\", \"d.example.net\",\n"
	 "\"e.example.net\", \"f.example.net\", \"g.example.net\", \"h.example.net\",\n"
	 "\"i.example.net\", \"j.example.net\", \"k.example.net\", \"l.example.net\",\n"
	 "\"m.example.net\",\n\"n.example.net\" ]; } );\n",
	 6, "nameservers: too many host names"},
	{"bad file: backoff max < initial",
	 "timeout = 5;\nbackoff = {\n  initial = 2;\n  max = 1;\n};\n", 2,
	 "backoff: max is smaller than initial"},
	{"bad file: backoff max < default initial", "backoff = { max = 0.05; };\n", 1,
	 "backoff: max is smaller than initial"},
	{"bad file: backoff not a group", "backoff = 1;\n", 1,
	 "backoff: expected a group: { initial = 0.1; ... }"},
	{"bad file: zones not a list", "timeout = 5;\nzones = \"example.com\";\n", 2,
	 "zones: expected a list: ( { suffix = \"...\"; } )"},
	{"bad file: zones a group", "zones = { suffix = \"example.com\"; };\n", 1,
	 "zones: expected a list: ( { suffix = \"...\"; } )"},
	/* libconfig dates a scalar list element by the token after it: keep it
	 * on the element's line. */
	{"bad file: zone not a group", "zones = (\n  \"example.com\" );\n", 2,
	 "zones: each zone is a group: { suffix = \"example.com\"; }"},
};

/* A file of len bytes is refused with one line, at line, saying message
 * (NULL: any "nameservers: " message). */
static void expect_bad(const char *text, size_t len, int at, const char *message)
{
	struct nx_config c;
	nx_config_defaults(&c);
	char *path = util_temp_bytes(text, len);
	nx_log_level = NX_LOG_WARN;
	util_capture_begin();
	int rc = nx_config_read_file(&c, path);
	char *log = util_capture_end();
	char prefix[512], line[1024];
	snprintf(prefix, sizeof prefix, "nxretry: %s:%d: ", path, at);
	snprintf(line, sizeof line, "%s%s\n", prefix, message ? message : "");
	util_temp_remove(path);
	if (message) {
		util_expect_text(log, line);
	} else {
		bool ok = !strncmp(log, prefix, strlen(prefix)) &&
			  !strncmp(log + strlen(prefix), "nameservers: ", 13) &&
			  strchr(log, '\n') == log + strlen(log) - 1;
		char copy[1024];
		snprintf(copy, sizeof copy, "%s", log);
		free(log);
		if (!ok)
			fail_msg("log \"%s\" is not one line starting \"%snameservers: \"", copy,
				 prefix);
	}
	assert_int_equal(rc, -1);
}

static void test_bad_file(void **state)
{
	const struct bad_file *t = *state;
	expect_bad(t->text, strlen(t->text), t->line, t->message);
}

/* Text only: libconfig stops at a NUL and takes any byte in a string. */
struct bad_bytes {
	const char *name;
	const char *text;
	size_t len;
	int line;
	const char *message;
};

#define BAD_BYTES(name, bytes, line, message) {name, bytes, sizeof bytes - 1, line, message}

static const struct bad_bytes bad_bytes[] = {
	BAD_BYTES("bad file: NUL, then bytes not UTF-8", "\x00\xff\xfe garbage {{{", 1,
		  "a NUL byte: not a text file"),
	BAD_BYTES("bad file: NUL at the end of line 2", "timeout = 10;\nmode = \"first\";\x00\n", 2,
		  "a NUL byte: not a text file"),
	BAD_BYTES("bad file: Latin-1 in a suffix", "zones = ( { suffix = \"caf\xe9.example\"; } );\n", 1,
		  "not UTF-8 text"),
	BAD_BYTES("bad file: overlong '/'", "timeout = 10;\n\n# \xc0\xaf\n", 3, "not UTF-8 text"),
	BAD_BYTES("bad file: a surrogate", "# \xed\xa0\x80\n", 1, "not UTF-8 text"),
	BAD_BYTES("bad file: past U+10FFFF", "\n# \xf4\x90\x80\x80\n", 2, "not UTF-8 text"),
	BAD_BYTES("bad file: a sequence cut by the end", "# \xe2\x82", 1, "not UTF-8 text"),
	BAD_BYTES("bad file: a lone continuation byte", "# \x80\n", 1, "not UTF-8 text"),
};

static void test_bad_bytes(void **state)
{
	const struct bad_bytes *t = *state;
	expect_bad(t->text, t->len, t->line, t->message);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct nx_config c;
	nx_config_defaults(&c);
	nx_log_level = NX_LOG_WARN;
	util_capture_begin();
	int rc = nx_config_read_file(&c, "/nonexistent/nxretry.conf");
	char *log = util_capture_end();
	util_expect_text(log, "nxretry: /nonexistent/nxretry.conf: "
			      "cannot read: No such file or directory\n");
	assert_int_equal(rc, -1);
}

/* ---- nameserver strings: read whole, or refused ---- */

struct ns_case {
	const char *name;
	const char *text; /* the string, or NULL: a host name of gen_len characters */
	int gen_len;
	const char *tail;    /* appended to the generated name */
	const char *message; /* NULL: accepted */
	uint16_t port;       /* accepted: the port kept */
};

static const struct ns_case ns_cases[] = {
	{"nameserver: 253-character name with :0000005353 (was cut to :535)", NULL, 253,
	 ":0000005353", NULL, 5353},
	{"nameserver: 253-character name", NULL, 253, "", NULL, 53},
	{"nameserver: 253-character name and a trailing dot", NULL, 253, ".:54", NULL, 54},
	{"nameserver: 254-character name", NULL, 254, "", "host name longer than 253 characters",
	 0},
	{"nameserver: 254-character name with a port", NULL, 254, ":53",
	 "host name longer than 253 characters", 0},
	{"nameserver: 1000-character name", NULL, 1000, ":53",
	 "host name longer than 253 characters", 0},
	{"nameserver: port 65535", "ns.example.net:65535", 0, NULL, NULL, 65535},
	{"nameserver: port 1", "ns.example.net:1", 0, NULL, NULL, 1},
	{"nameserver: empty port", "ns.example.net:", 0, NULL, "bad port", 0},
	{"nameserver: port 0", "ns.example.net:0", 0, NULL, "bad port", 0},
	{"nameserver: port 00000", "ns.example.net:00000", 0, NULL, "bad port", 0},
	{"nameserver: port 65536", "ns.example.net:65536", 0, NULL, "bad port", 0},
	{"nameserver: port overflowing any integer", "ns.example.net:184467440737095516170053",
	 0, NULL, "bad port", 0},
	{"nameserver: port with trailing garbage", "ns.example.net:53x", 0, NULL, "bad port", 0},
	{"nameserver: port with a sign", "ns.example.net:+53", 0, NULL, "bad port", 0},
	{"nameserver: port with a blank", "ns.example.net: 53", 0, NULL, "bad port", 0},
	{"nameserver: port in hex", "ns.example.net:0x35", 0, NULL, "bad port", 0},
	{"nameserver: no host before the port", ":53", 0, NULL,
	 "not an address or a host name", 0},
	{"nameserver: $(id) is no host name", "$(id).example.net", 0, NULL,
	 "not an address or a host name", 0},
	{"nameserver: '_' in a host name accepted", "_ns.example.net:5300", 0, NULL, NULL, 5300},
	{"nameserver: two trailing dots", "ns.example.net..", 0, NULL,
	 "not an address or a host name", 0},
	{"nameserver: a second colon", "ns.example.net:53:54", 0, NULL,
	 "not a valid IPv6 address (\"[2001:db8::1]:53\")", 0},
};

/* A host name of len characters: 63-character labels of 'a'..'d'. */
static void gen_name(char *out, int len)
{
	for (int i = 0; i < len; i++)
		out[i] = i % 64 == 63 ? '.' : (char)('a' + i / 64 % 4);
	out[len] = 0;
}

static void test_nameserver(void **state)
{
	const struct ns_case *t = *state;
	char ns[1200], text[1400];
	if (t->text) {
		snprintf(ns, sizeof ns, "%s", t->text);
	} else {
		gen_name(ns, t->gen_len);
		strcat(ns, t->tail);
	}
	snprintf(text, sizeof text, "zones = ( { suffix = \"a.b\";\n  nameservers = [ \"%s\" ]; } );\n",
		 ns);
	char *path = util_temp_file(text);
	struct nx_config c;
	nx_config_defaults(&c);
	nx_log_level = NX_LOG_WARN;
	util_capture_begin();
	int rc = nx_config_read_file(&c, path);
	char *log = util_capture_end();
	char want[1024] = "";
	if (t->message)
		snprintf(want, sizeof want, "nxretry: %s:2: nameservers: %s\n", path, t->message);
	util_temp_remove(path);
	util_expect_text(log, want);
	assert_int_equal(rc, t->message ? -1 : 0);
	if (t->message) {
		assert_int_equal(c.nzones, 0);
		return;
	}
	assert_int_equal(c.zones[0].nserver_names, 1);
	assert_int_equal(c.zones[0].server_name_ports[0], t->port);
	char host[300];
	if (t->text) {
		snprintf(host, sizeof host, "%s", t->text);
		host[strcspn(host, ":")] = 0;
	} else {
		gen_name(host, t->gen_len);
	}
	assert_string_equal(c.zones[0].server_names[0], host);
}

/* 17 addresses: the 17th must be refused before it is written anywhere
 * (servers[16] is past the array, over nservers and server_names[0]). */
static void test_17th_address_written_nowhere(void **state)
{
	(void)state;
	char *path = util_temp_file(
		"zones = ( { suffix = \"example.org\"; nameservers = [\n"
		"\"ns.example.org\",\n"
		"\"192.0.2.1\", \"192.0.2.2\", \"192.0.2.3\", \"192.0.2.4\",\n"
		"\"192.0.2.5\", \"192.0.2.6\", \"192.0.2.7\", \"192.0.2.8\",\n"
		"\"192.0.2.9\", \"192.0.2.10\", \"192.0.2.11\", \"192.0.2.12\",\n"
		"\"192.0.2.13\", \"192.0.2.14\", \"192.0.2.15\", \"192.0.2.16\",\n"
		"\"192.0.2.17\" ]; } );\n");
	struct nx_config c;
	nx_config_defaults(&c);
	nx_log_level = NX_LOG_OFF;
	int rc = nx_config_read_file(&c, path);
	util_temp_remove(path);
	assert_int_equal(rc, -1);
	assert_int_equal(c.zones[0].nservers, NX_MAXSERVERS);
	assert_string_equal(c.zones[0].server_names[0], "ns.example.org");
}

/* ---- the environment alone ---- */

struct env_case {
	const char *name;
	struct env_var env[6];
	int rc;
	const char *log;                  /* the whole stderr output, "" for none */
	void (*want)(struct nx_config *c); /* from the defaults; NULL: unchanged */
};

static void want_two_zones(struct nx_config *c)
{
	add_zone(c, "example.com");
	add_zone(c, "example.org");
}

static void want_three_zones(struct nx_config *c)
{
	add_zone(c, "example.com");
	add_zone(c, "dev.example.org");
	add_zone(c, "example.net");
}

static void want_one_zone(struct nx_config *c) { add_zone(c, "example.com"); }
static void want_t10(struct nx_config *c) { c->timeout = 10; }
static void want_t2_5(struct nx_config *c) { c->timeout = 2.5; }
static void want_t3600(struct nx_config *c) { c->timeout = 3600; }
static void want_first(struct nx_config *c) { c->mode = NX_MODE_FIRST; }
static void want_fallback(struct nx_config *c) { c->mode = NX_MODE_FALLBACK; }
static void want_log_off(struct nx_config *c) { c->log = NX_LOG_OFF; }
static void want_log_error(struct nx_config *c) { c->log = NX_LOG_ERROR; }
static void want_log_warn(struct nx_config *c) { c->log = NX_LOG_WARN; }
static void want_log_info(struct nx_config *c) { c->log = NX_LOG_INFO; }
static void want_log_debug(struct nx_config *c) { c->log = NX_LOG_DEBUG; }

#define ZONES(v) {{"NXRETRY_ZONES", v}}
#define TIMEOUT(v) {{"NXRETRY_TIMEOUT", v}}
#define MODE(v) {{"NXRETRY_MODE", v}}
#define LOG(v) {{"NXRETRY_LOG", v}}

static const struct env_case env_cases[] = {
	{"env: no variables", {{NULL, NULL}}, 0, "", NULL},
	{"env: zones, comma separated", ZONES("example.com,example.org"), 0, "", want_two_zones},
	{"env: zones, space separated", ZONES("example.com example.org"), 0, "", want_two_zones},
	{"env: zones, mixed separators and blanks", ZONES(" example.com,\texample.org ,, "), 0, "",
	 want_two_zones},
	{"env: zones, trailing dots and case",
	 ZONES("Example.COM., DEV.example.org. example.net"), 0, "", want_three_zones},
	{"env: zones, one", ZONES("example.com"), 0, "", want_one_zone},
	{"env: zones, invalid suffix", ZONES("example.com,a..b"), -1,
	 "nxretry: NXRETRY_ZONES: 'a..b' is not a valid domain name\n", NULL},
	{"env: zones, two trailing dots", ZONES("example.com.."), -1,
	 "nxretry: NXRETRY_ZONES: 'example.com..' is not a valid domain name\n", NULL},
	{"env: zones, a lone dot", ZONES("."), -1,
	 "nxretry: NXRETRY_ZONES: '.' is not a valid domain name\n", NULL},
	{"env: zones, 33", ZONES("a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 "
				 "c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 d0 d1 d2"),
	 -1, "nxretry: NXRETRY_ZONES: more than 32 zones\n", NULL},
	{"env: timeout 10", TIMEOUT("10"), 0, "", want_t10},
	{"env: timeout 2.5", TIMEOUT("2.5"), 0, "", want_t2_5},
	{"env: timeout 3600", TIMEOUT("3600"), 0, "", want_t3600},
	{"env: timeout empty is unset", TIMEOUT(""), 0, "", NULL},
	{"env: timeout abc", TIMEOUT("abc"), -1,
	 "nxretry: NXRETRY_TIMEOUT: 'abc' is not a number of seconds in (0, 3600]\n", NULL},
	{"env: timeout 0", TIMEOUT("0"), -1,
	 "nxretry: NXRETRY_TIMEOUT: '0' is not a number of seconds in (0, 3600]\n", NULL},
	{"env: timeout -1", TIMEOUT("-1"), -1,
	 "nxretry: NXRETRY_TIMEOUT: '-1' is not a number of seconds in (0, 3600]\n", NULL},
	{"env: timeout 1e3", TIMEOUT("1e3"), -1,
	 "nxretry: NXRETRY_TIMEOUT: '1e3' is not a number of seconds in (0, 3600]\n", NULL},
	{"env: timeout inf", TIMEOUT("inf"), -1,
	 "nxretry: NXRETRY_TIMEOUT: 'inf' is not a number of seconds in (0, 3600]\n", NULL},
	{"env: timeout 3601", TIMEOUT("3601"), -1,
	 "nxretry: NXRETRY_TIMEOUT: '3601' is not a number of seconds in (0, 3600]\n", NULL},
	{"env: mode first", MODE("first"), 0, "", want_first},
	{"env: mode fallback", MODE("fallback"), 0, "", want_fallback},
	{"env: mode other", MODE("other"), -1,
	 "nxretry: NXRETRY_MODE: 'other' is not fallback or first\n", NULL},
	{"env: mode in capitals", MODE("FIRST"), -1,
	 "nxretry: NXRETRY_MODE: 'FIRST' is not fallback or first\n", NULL},
	{"env: log off", LOG("off"), 0, "", want_log_off},
	{"env: log error", LOG("error"), 0, "", want_log_error},
	{"env: log warn", LOG("warn"), 0, "", want_log_warn},
	{"env: log info", LOG("info"), 0, "", want_log_info},
	{"env: log debug", LOG("debug"), 0, "", want_log_debug},
	{"env: log verbose", LOG("verbose"), -1,
	 "nxretry: NXRETRY_LOG: 'verbose' is not off, error, warn, info or debug\n", NULL},
	/* Empty or blank: unset, for every variable alike. */
	{"env: zones empty is unset", ZONES(""), 0, "", NULL},
	{"env: zones blank is unset", ZONES(" \t\n"), 0, "", NULL},
	{"env: zones ',' is unset", ZONES(","), 0, "", NULL},
	{"env: zones ' , ,' is unset", ZONES(" , ,"), 0, "", NULL},
	{"env: timeout blank is unset", TIMEOUT("  "), 0, "", NULL},
	{"env: mode empty is unset", MODE(""), 0, "", NULL},
	{"env: mode blank is unset", MODE(" \t"), 0, "", NULL},
	{"env: log empty is unset", LOG(""), 0, "", NULL},
	{"env: log blank is unset", LOG(" "), 0, "", NULL},
	{"env: timeout ',' is a mistake", TIMEOUT(","), -1,
	 "nxretry: NXRETRY_TIMEOUT: ',' is not a number of seconds in (0, 3600]\n", NULL},
};

static void test_env(void **state)
{
	const struct env_case *t = *state;
	struct nx_config got, want;
	nx_config_defaults(&got);
	nx_config_defaults(&want);
	if (t->want)
		t->want(&want);
	fake_env = t->env;
	nx_log_level = NX_LOG_WARN;
	util_capture_begin();
	int rc = nx_config_apply_env(&got, fake_getenv);
	char *log = util_capture_end();
	fake_env = NULL;
	util_expect_text(log, t->log);
	assert_int_equal(rc, t->rc);
	if (rc == 0)
		assert_config_equal(&got, &want);
}

/* ---- file and environment together: nx_config_load ---- */

static const char override_file[] =
	"timeout = 30;\n"
	"mode = \"first\";\n"
	"log = \"debug\";\n"
	"zones = (\n"
	"  { suffix = \"example.com\"; nameservers = [ \"192.0.2.1\" ];\n"
	"    timeout = 5; },\n"
	"  { suffix = \"example.org\"; nameservers = [ \"ns.example.org:5353\" ];\n"
	"    timeout = 7; }\n"
	");\n";

/* Runs nx_config_load with env, where a value "@file" names a temporary
 * file holding `file`; returns its code, and what it logged in *log. */
static int load_with(const char *file, const struct env_var *env, struct nx_config *c,
		     char **log)
{
	struct env_var vars[8];
	char *path = file ? util_temp_file(file) : NULL;
	size_t n = 0;
	for (; env[n].name && n < ARRAY_SIZE(vars) - 1; n++) {
		vars[n] = env[n];
		if (path && !strcmp(vars[n].value, "@file"))
			vars[n].value = path;
	}
	vars[n] = (struct env_var){NULL, NULL};
	fake_env = vars;
	nx_log_level = NX_LOG_WARN;
	util_capture_begin();
	int rc = nx_config_load(c, fake_getenv);
	*log = util_capture_end();
	fake_env = NULL;
	if (path)
		util_temp_remove(path);
	return rc;
}

/* override_file as loaded alone, from the defaults. */
static void want_override_file(struct nx_config *want)
{
	want->enabled = true;
	want->timeout = 30;
	want->mode = NX_MODE_FIRST;
	want->log = NX_LOG_DEBUG;
	struct nx_zone *z = add_zone(want, "example.com");
	server(&z->servers[z->nservers++], "192.0.2.1", 53);
	z->timeout = 5;
	z = add_zone(want, "example.org");
	add_name(z, "ns.example.org", 5353);
	z->timeout = 7;
}

static void test_load_file_only(void **state)
{
	(void)state;
	const struct env_var env[] = {{"NXRETRY_CONFIG", "@file"}, {NULL, NULL}};
	struct nx_config got, want;
	nx_config_defaults(&want);
	want_override_file(&want);
	char *log;
	int rc = load_with(override_file, env, &got, &log);
	util_expect_text(log, "");
	assert_int_equal(rc, 0);
	assert_config_equal(&got, &want);
	assert_int_equal(nx_log_level, NX_LOG_DEBUG); /* the level now in force */
	nx_log_level = NX_LOG_WARN;
}

static void test_load_env_overrides_file(void **state)
{
	(void)state;
	const struct env_var env[] = {{"NXRETRY_CONFIG", "@file"},
				      {"NXRETRY_TIMEOUT", "4.5"},
				      {"NXRETRY_LOG", "error"},
				      {"NXRETRY_MODE", "fallback"},
				      {"NXRETRY_ZONES", "new.example, EXAMPLE.org."},
				      {NULL, NULL}};
	struct nx_config got, want;
	nx_config_defaults(&want);
	want.enabled = true;
	want.timeout = 4.5;
	want.mode = NX_MODE_FALLBACK;
	want.log = NX_LOG_ERROR;
	add_zone(&want, "new.example");
	struct nx_zone *z = add_zone(&want, "example.org"); /* keeps its nameservers */
	add_name(z, "ns.example.org", 5353);
	z->timeout = 0; /* NXRETRY_TIMEOUT wins over the zone's own */
	char *log;
	int rc = load_with(override_file, env, &got, &log);
	util_expect_text(log, "");
	assert_int_equal(rc, 0);
	assert_config_equal(&got, &want);
	assert_int_equal(nx_log_level, NX_LOG_ERROR);
	nx_log_level = NX_LOG_WARN;
}

static void test_load_env_zones_keep_zone_timeout(void **state)
{
	(void)state;
	const struct env_var env[] = {{"NXRETRY_CONFIG", "@file"},
				      {"NXRETRY_ZONES", "example.com"},
				      {NULL, NULL}};
	struct nx_config got;
	char *log;
	int rc = load_with(override_file, env, &got, &log);
	nx_log_level = NX_LOG_WARN;
	util_expect_text(log, "");
	assert_int_equal(rc, 0);
	assert_int_equal(got.nzones, 1);
	assert_string_equal(got.zones[0].suffix, "example.com");
	assert_double_exact(got.zones[0].timeout, 5);
	assert_int_equal(got.zones[0].nservers, 1);
	assert_int_equal(got.zones[0].servers[0].port, 53);
	assert_double_exact(got.timeout, 30);
}

/* An empty or blank variable is unset, whichever it is: the file's
 * settings stay (`ENV NXRETRY_ZONES=`, an empty Kubernetes value). */
struct blank_case {
	const char *name;
	struct env_var env[3];
	void (*want)(struct nx_config *c); /* from the defaults */
};

static void want_env_zone_only(struct nx_config *c)
{
	c->enabled = true;
	add_zone(c, "example.com");
}

#define WITH_FILE(var, value) {{"NXRETRY_CONFIG", "@file"}, {var, value}}

static const struct blank_case blank_cases[] = {
	{"blank: NXRETRY_ZONES='' keeps the file's zones", WITH_FILE("NXRETRY_ZONES", ""),
	 want_override_file},
	{"blank: NXRETRY_ZONES=' ' keeps the file's zones", WITH_FILE("NXRETRY_ZONES", " "),
	 want_override_file},
	{"blank: NXRETRY_ZONES=',' keeps the file's zones", WITH_FILE("NXRETRY_ZONES", ","),
	 want_override_file},
	{"blank: NXRETRY_ZONES=' , \\t,' keeps the file's zones",
	 WITH_FILE("NXRETRY_ZONES", " , \t,"), want_override_file},
	{"blank: NXRETRY_TIMEOUT='' keeps the file's", WITH_FILE("NXRETRY_TIMEOUT", ""),
	 want_override_file},
	{"blank: NXRETRY_TIMEOUT=' ' keeps the file's", WITH_FILE("NXRETRY_TIMEOUT", " "),
	 want_override_file},
	{"blank: NXRETRY_MODE=' ' keeps the file's", WITH_FILE("NXRETRY_MODE", " "),
	 want_override_file},
	{"blank: NXRETRY_LOG=' ' keeps the file's", WITH_FILE("NXRETRY_LOG", " "),
	 want_override_file},
	{"blank: NXRETRY_CONFIG=' ' reads no file", {{"NXRETRY_CONFIG", " "},
						    {"NXRETRY_ZONES", "example.com"}},
	 want_env_zone_only},
};

static void test_load_blank(void **state)
{
	const struct blank_case *t = *state;
	if (t->want == want_env_zone_only && access("/etc/nxretry.conf", F_OK) == 0)
		skip(); /* the default file would be read */
	struct nx_config got, want;
	nx_config_defaults(&want);
	t->want(&want);
	char *log;
	int rc = load_with(override_file, t->env, &got, &log);
	nx_log_level = NX_LOG_WARN;
	util_expect_text(log, "");
	assert_int_equal(rc, 0);
	assert_config_equal(&got, &want);
}

/* Loads that fail: one line (or none, with logging off) and the caller
 * stays inert. */
struct load_error_case {
	const char *name;
	const char *file; /* NULL: no temporary file */
	struct env_var env[4];
	const char *log;
};

static const struct load_error_case load_error_cases[] = {
	{"load: missing NXRETRY_CONFIG file", NULL,
	 {{"NXRETRY_CONFIG", "/nonexistent/dir/nxretry.conf"}, {"NXRETRY_ZONES", "example.com"}},
	 "nxretry: /nonexistent/dir/nxretry.conf: cannot read: No such file or directory\n"},
	{"load: a bad file is quiet with NXRETRY_LOG=off", "timeout = 0;\n",
	 {{"NXRETRY_CONFIG", "@file"}, {"NXRETRY_LOG", "off"}}, ""},
	{"load: an environment error after a good file", override_file,
	 {{"NXRETRY_CONFIG", "@file"}, {"NXRETRY_MODE", "last"}},
	 "nxretry: NXRETRY_MODE: 'last' is not fallback or first\n"},
};

static void test_load_error(void **state)
{
	const struct load_error_case *t = *state;
	struct nx_config c;
	char *log;
	int rc = load_with(t->file, t->env, &c, &log);
	nx_log_level = NX_LOG_WARN;
	util_expect_text(log, t->log);
	assert_int_equal(rc, -1);
}

static void test_load_no_file_no_zones(void **state)
{
	(void)state;
	if (access("/etc/nxretry.conf", F_OK) == 0)
		skip(); /* the default file would be read */
	const struct env_var env[] = {{NULL, NULL}};
	fake_env = env;
	struct nx_config got, want;
	nx_config_defaults(&want);
	nx_log_level = NX_LOG_DEBUG;
	int rc = nx_config_load(&got, fake_getenv);
	fake_env = NULL;
	assert_int_equal(rc, 0);
	assert_config_equal(&got, &want); /* enabled false: no zones */
	assert_int_equal(nx_log_level, NX_LOG_WARN);
}

static void test_load_env_only(void **state)
{
	(void)state;
	if (access("/etc/nxretry.conf", F_OK) == 0)
		skip();
	const struct env_var env[] = {{"NXRETRY_ZONES", "example.com"}, {"NXRETRY_CONFIG", ""},
				      {NULL, NULL}};
	fake_env = env;
	struct nx_config got, want;
	nx_config_defaults(&want);
	want.enabled = true;
	add_zone(&want, "example.com");
	int rc = nx_config_load(&got, fake_getenv);
	fake_env = NULL;
	assert_int_equal(rc, 0);
	assert_config_equal(&got, &want);
}

/* The configuration is read in whichever thread makes the first failing
 * lookup: a thread pool's worker, whose stack may be small (musl's default
 * is 128 KiB; message.c keeps its 45 KiB table off the stack for the same
 * reason). Run nx_config_load on a 128 KiB stack with an unmapped region
 * below it, in a child process: an overflow is a crash there, not here. */
struct small_stack_arg {
	const char *path;
	int rc;
};

static void *load_on_small_stack(void *p)
{
	struct small_stack_arg *a = p;
	const struct env_var env[] = {{"NXRETRY_CONFIG", a->path},
				      {"NXRETRY_ZONES", "example.com, example.org"},
				      {"NXRETRY_LOG", "off"},
				      {NULL, NULL}};
	fake_env = env;
	static struct nx_config c;
	a->rc = nx_config_load(&c, fake_getenv);
	return NULL;
}

static void test_load_on_a_small_thread_stack(void **state)
{
	(void)state;
	enum { STACK = 128 * 1024, GUARD = 1024 * 1024 };
#ifdef __SANITIZE_THREAD__
	skip(); /* TSan's runtime needs ~900 KiB of a thread's own stack */
#endif
	char *path = util_temp_file(override_file);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *region =
			mmap(NULL, GUARD + STACK, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (region == MAP_FAILED || mprotect(region + GUARD, STACK, PROT_READ | PROT_WRITE))
			_exit(3);
		pthread_attr_t attr;
		pthread_t th;
		struct small_stack_arg a = {path, -2};
		pthread_attr_init(&attr);
		pthread_attr_setstack(&attr, region + GUARD, STACK);
		if (pthread_create(&th, &attr, load_on_small_stack, &a) || pthread_join(th, NULL))
			_exit(4);
		_exit(a.rc == 0 ? 0 : 5);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	util_temp_remove(path);
	if (WIFSIGNALED(status))
		fail_msg("nx_config_load overflowed a %d KiB thread stack (signal %d)",
			 STACK / 1024, WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- nx_parse_seconds ---- */

struct seconds_case {
	const char *name;
	const char *text;
	double min, max;
	bool ok;
	double value;
};

static const struct seconds_case seconds_cases[] = {
	{"seconds: 10", "10", 0.001, 3600, true, 10},
	{"seconds: 10.0", "10.0", 0.001, 3600, true, 10},
	{"seconds: 0.5", "0.5", 0.001, 3600, true, 0.5},
	{"seconds: .5", ".5", 0.001, 3600, true, 0.5},
	{"seconds: 10.", "10.", 0.001, 3600, true, 10},
	{"seconds: at max", "3600", 0.001, 3600, true, 3600},
	{"seconds: at min", "0.001", 0.001, 3600, true, 0.001},
	{"seconds: 0 with min 0", "0", 0, 10, true, 0},
	{"seconds: 0 under min", "0", 0.001, 3600, false, 0},
	{"seconds: over max", "3600.5", 0.001, 3600, false, 0},
	{"seconds: negative", "-1", 0.001, 3600, false, 0},
	{"seconds: negative zero", "-0", 0, 10, false, 0},
	{"seconds: plus sign", "+1", 0.001, 3600, false, 0},
	{"seconds: exponent", "1e3", 0.001, 3600, false, 0},
	{"seconds: inf", "inf", 0.001, 3600, false, 0},
	{"seconds: nan", "nan", 0, 3600, false, 0},
	{"seconds: hex float", "0x10", 0.001, 3600, false, 0},
	{"seconds: leading blank", " 10", 0.001, 3600, false, 0},
	{"seconds: trailing blank", "10 ", 0.001, 3600, false, 0},
	{"seconds: unit", "10s", 0.001, 3600, false, 0},
	{"seconds: two dots", "1.2.3", 0.001, 3600, false, 0},
	{"seconds: letters", "abc", 0.001, 3600, false, 0},
	{"seconds: empty", "", 0.001, 3600, false, 0},
	{"seconds: a dot", ".", 0.001, 3600, false, 0},
	{"seconds: NULL", NULL, 0.001, 3600, false, 0},
};

static void test_seconds(void **state)
{
	const struct seconds_case *t = *state;
	double out = -42;
	bool ok = nx_parse_seconds(t->text, t->min, t->max, &out);
	if (ok != t->ok)
		fail_msg("nx_parse_seconds(\"%s\", %g, %g) returned %d",
			 t->text ? t->text : "(null)", t->min, t->max, ok);
	assert_double_exact(out, t->ok ? t->value : -42); /* untouched on failure */
}

/* ---- nx_config_zone_for ---- */

struct zone_for_case {
	const char *name;
	const char *zones[4];
	const char *host;
	const char *expected; /* NULL: no zone */
};

static const struct zone_for_case zone_for_cases[] = {
	{"zone_for: longest suffix, listed last", {"example.com", "dev.example.com"},
	 "a.dev.example.com", "dev.example.com"},
	{"zone_for: longest suffix, listed first", {"dev.example.com", "example.com"},
	 "a.dev.example.com", "dev.example.com"},
	{"zone_for: three levels", {"com", "x.dev.example.com", "example.com"},
	 "b.x.dev.example.com", "x.dev.example.com"},
	{"zone_for: the shorter when the longer does not hold it",
	 {"example.com", "dev.example.com"}, "a.prod.example.com", "example.com"},
	{"zone_for: the suffix itself", {"example.com", "dev.example.com"}, "dev.example.com",
	 "dev.example.com"},
	{"zone_for: label boundary", {"example.com"}, "badexample.com", NULL},
	{"zone_for: label boundary, falls to the parent", {"example.com", "com"}, "badexample.com",
	 "com"},
	{"zone_for: none", {"example.com"}, "example.org", NULL},
	{"zone_for: no zones", {NULL}, "example.org", NULL},
};

static void test_zone_for(void **state)
{
	const struct zone_for_case *t = *state;
	struct nx_config c;
	nx_config_defaults(&c);
	for (int i = 0; i < 4 && t->zones[i]; i++)
		add_zone(&c, t->zones[i]);
	const struct nx_zone *z = nx_config_zone_for(&c, t->host);
	if (!t->expected) {
		assert_null(z);
		return;
	}
	assert_non_null(z);
	assert_true(z >= c.zones && z < c.zones + c.nzones);
	assert_string_equal(z->suffix, t->expected);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(good_files) + ARRAY_SIZE(bad_files) +
				       ARRAY_SIZE(bad_bytes) +
				       ARRAY_SIZE(env_cases) + ARRAY_SIZE(seconds_cases) +
				       ARRAY_SIZE(zone_for_cases) + ARRAY_SIZE(load_error_cases) +
				       ARRAY_SIZE(ns_cases) + ARRAY_SIZE(blank_cases) + 8];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_good_file, good_files);
	UTIL_ADD_ROWS(tests, n, test_bad_file, bad_files);
	UTIL_ADD_ROWS(tests, n, test_bad_bytes, bad_bytes);
	UTIL_ADD_TEST(tests, n, test_missing_file);
	UTIL_ADD_TEST(tests, n, test_17th_address_written_nowhere);
	UTIL_ADD_ROWS(tests, n, test_nameserver, ns_cases);
	UTIL_ADD_ROWS(tests, n, test_env, env_cases);
	UTIL_ADD_TEST(tests, n, test_load_file_only);
	UTIL_ADD_TEST(tests, n, test_load_env_overrides_file);
	UTIL_ADD_TEST(tests, n, test_load_env_zones_keep_zone_timeout);
	UTIL_ADD_ROWS(tests, n, test_load_error, load_error_cases);
	UTIL_ADD_ROWS(tests, n, test_load_blank, blank_cases);
	UTIL_ADD_TEST(tests, n, test_load_no_file_no_zones);
	UTIL_ADD_TEST(tests, n, test_load_env_only);
	UTIL_ADD_TEST(tests, n, test_load_on_a_small_thread_stack);
	UTIL_ADD_ROWS(tests, n, test_seconds, seconds_cases);
	UTIL_ADD_ROWS(tests, n, test_zone_for, zone_for_cases);
	return UTIL_RUN("config", tests, n);
}
