/* engine.c through its entry point, as hooks.c calls it: which lookups the
 * engine takes, and the verdict each outcome gives the caller, in both
 * modes (libc's answer given, or NULL: first mode). No network: outcomes
 * are put in the memo under the key lookup.c gives the name's wait
 * ("NAME/FAMILY/MAPPED/FIRST"), where a lookup finds them; the names of a
 * second zone, remembered as unreachable, stop before any query. A lookup
 * that would reach the network anyway fails its row within NXRETRY_TIMEOUT.
 * The codes expected are glibc 2.36's (README, "Conformance"). */
#include "util.h"

#include "nxretry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct nx_engine *nxretry_engine_v3(const struct nx_libc *real);

static const struct nx_engine *engine;

static int setup_group(void **state)
{
	(void)state;
	setenv("NXRETRY_ZONES", "lab.test gone.test", 1);
	setenv("NXRETRY_TIMEOUT", "1", 1);
	setenv("NXRETRY_LOG", "off", 1);
	unsetenv("NXRETRY_CONFIG");
	unsetenv("NXRETRY_MODE");
	struct nx_libc libc = {getaddrinfo, freeaddrinfo, NULL};
	engine = nxretry_engine_v3(&libc);
	struct nx_found gone;
	memset(&gone, 0, sizeof gone);
	gone.outcome = NX_OUT_LIBC;
	gone.why = NX_WHY_SILENT;
	nx_memo_keep("gone.test/unreachable", &gone, 3600);
	return engine ? 0 : -1;
}

/* The outcome a lookup of name (family, first mode or not) will find. */
static void outcome_for(const char *name, int family, bool first, enum nx_outcome o,
			const char *addr, const char *alias)
{
	struct nx_found f;
	memset(&f, 0, sizeof f);
	f.outcome = o;
	if (addr) {
		f.addrs[0].family = strchr(addr, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(f.addrs[0].family, addr, f.addrs[0].bytes), 1);
		f.naddrs = 1;
	}
	if (alias) {
		snprintf(f.aliases[0], sizeof f.aliases[0], "%s", alias);
		f.naliases = 1;
	}
	char key[NX_KEYMAX];
	snprintf(key, sizeof key, "%s/%d/0/%d", name, family, first);
	nx_memo_keep(key, &f, 60);
}

struct gai_case {
	const char *name;
	const char *node;
	int family, flags;
	int libc_rc;          /* FIRST: first mode */
	enum nx_outcome seed; /* NX_OUT_LIBC: nothing seeded (gone.test: unreachable) */
	bool final;
	int rc;
};

/* The rows' libc code for first mode, where libc is not asked (the
 * engine is given NULL): outside both EAI_* codes and h_errno values. */
#define FIRST (-100000)

static const struct gai_case gai_cases[] = {
	/* What the engine does not take. */
	{"gai: not libc's no-name failure", "t1.lab.test", AF_INET, 0, EAI_AGAIN, NX_OUT_FOUND, false, 0},
	{"gai: AI_NUMERICHOST", "t2.lab.test", AF_INET, AI_NUMERICHOST, EAI_NONAME, NX_OUT_FOUND,
	 false, 0},
	{"gai: outside the zones", "t3.example.com", AF_INET, 0, EAI_NONAME, NX_OUT_FOUND, false, 0},
	{"gai: not a host name", "t$4.lab.test", AF_INET, 0, FIRST, NX_OUT_FOUND, false, 0},
	{"gai: a hosts-file name", "localhost", AF_INET, 0, FIRST, NX_OUT_LIBC, false, 0},
	{"gai: zone unreachable, fallback", "t5.gone.test", AF_INET, 0, EAI_NONAME, NX_OUT_LIBC,
	 false, 0},
	{"gai: zone unreachable, first", "t6.gone.test", AF_INET, 0, FIRST, NX_OUT_LIBC, false, 0},
	/* Outcomes and their codes. */
	{"gai: found, fallback", "f1.lab.test", AF_INET, 0, EAI_NONAME, NX_OUT_FOUND, true, 0},
	{"gai: found, first", "f2.lab.test", AF_INET, 0, FIRST, NX_OUT_FOUND, true, 0},
	{"gai: no data corrects the stale NXDOMAIN", "n1.lab.test", AF_INET, 0, EAI_NONAME,
	 NX_OUT_NODATA, true, EAI_NODATA},
	{"gai: no data, first", "n2.lab.test", AF_INET6, 0, FIRST, NX_OUT_NODATA, true, EAI_NODATA},
	{"gai: alias without data, AF_INET", "a1.lab.test", AF_INET, 0, EAI_NONAME,
	 NX_OUT_ALIAS_NODATA, true, EAI_NODATA},
	{"gai: alias without data, AF_INET with AI_CANONNAME", "a2.lab.test", AF_INET,
	 AI_CANONNAME, EAI_NONAME, NX_OUT_ALIAS_NODATA, true, EAI_NONAME},
	{"gai: alias without data, AF_INET6", "a3.lab.test", AF_INET6, 0, FIRST,
	 NX_OUT_ALIAS_NODATA, true, EAI_NONAME},
	{"gai: absent, fallback: libc's answer stands", "x1.lab.test", AF_INET, 0, EAI_NONAME,
	 NX_OUT_ABSENT, false, 0},
	{"gai: absent, first", "x2.lab.test", AF_INET, 0, FIRST, NX_OUT_ABSENT, true, EAI_NONAME},
	{"gai: found, but not of the family asked: libc's", "f3.lab.test", AF_INET6, 0, FIRST,
	 NX_OUT_FOUND, false, 0},
};

static void test_gai(void **state)
{
	const struct gai_case *t = *state;
	bool first = t->libc_rc == FIRST;
	if (t->seed != NX_OUT_LIBC) {
		bool v4 = t->family == AF_INET || !strcmp(t->node, "f3.lab.test");
		outcome_for(t->node, t->family, first, t->seed,
			    t->seed == NX_OUT_FOUND ? (v4 ? "192.0.2.7" : "2001:db8::7") : NULL, NULL);
	}
	struct addrinfo hints = {.ai_family = t->family, .ai_socktype = SOCK_STREAM,
				 .ai_flags = t->flags};
	struct addrinfo *res = NULL;
	struct nx_verdict v = engine->getaddrinfo(t->node, "80", &hints, &res,
						  first ? NULL : &t->libc_rc);
	assert_int_equal(v.final, t->final);
	if (!v.final) {
		assert_null(res);
		return;
	}
	assert_int_equal(v.rc, t->rc);
	if (t->rc) {
		assert_null(res);
		return;
	}
	assert_non_null(res);
	assert_int_equal(res->ai_family, AF_INET);
	char text[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, text, sizeof text);
	assert_string_equal(text, "192.0.2.7");
	assert_int_equal(ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port), 80);
	assert_null(res->ai_next);
	assert_true(engine->release(res));
}

struct hostent_case {
	const char *name;
	const char *node;
	int libc_herr;        /* FIRST: first mode */
	enum nx_outcome seed; /* NX_OUT_LIBC: nothing seeded */
	const char *alias;    /* of a found name */
	size_t buflen;
	bool final;
	int rc, herr;
};

static const struct hostent_case hostent_cases[] = {
	{"hostent: libc's failure not about the name", "h1.lab.test", TRY_AGAIN, NX_OUT_FOUND,
	 NULL, 1024, false, 0, 0},
	{"hostent: zone unreachable", "h2.gone.test", HOST_NOT_FOUND, NX_OUT_LIBC, NULL, 1024,
	 false, 0, 0},
	{"hostent: found, fallback", "h3.lab.test", HOST_NOT_FOUND, NX_OUT_FOUND, NULL, 1024,
	 true, 0, NETDB_SUCCESS},
	{"hostent: found through an alias", "h4.lab.test", FIRST, NX_OUT_FOUND, "t.lab.test",
	 1024, true, 0, NETDB_SUCCESS},
	{"hostent: buffer too small, fallback", "h5.lab.test", NO_DATA, NX_OUT_FOUND, NULL, 20,
	 true, ERANGE, NETDB_INTERNAL},
	{"hostent: first mode checks the buffer before any lookup", "1h6.gone.test", FIRST,
	 NX_OUT_LIBC, NULL, 20, true, ERANGE, NETDB_INTERNAL},
	{"hostent: no data", "h7.lab.test", HOST_NOT_FOUND, NX_OUT_NODATA, NULL, 1024, true, -1,
	 NO_DATA},
	{"hostent: alias without data", "h8.lab.test", FIRST, NX_OUT_ALIAS_NODATA, NULL, 1024, true,
	 EAGAIN, NO_RECOVERY},
	{"hostent: absent, fallback: libc's answer stands", "h9.lab.test", HOST_NOT_FOUND,
	 NX_OUT_ABSENT, NULL, 1024, false, 0, 0},
	{"hostent: absent, first", "h10.lab.test", FIRST, NX_OUT_ABSENT, NULL, 1024, true, -1,
	 HOST_NOT_FOUND},
};

static void test_hostent(void **state)
{
	const struct hostent_case *t = *state;
	bool first = t->libc_herr == FIRST;
	if (t->seed != NX_OUT_LIBC)
		outcome_for(t->node, AF_INET, first, t->seed,
			    t->seed == NX_OUT_FOUND ? "192.0.2.8" : NULL, t->alias);
	struct hostent he;
	char *buf = malloc(t->buflen);
	assert_non_null(buf);
	struct nx_verdict v = engine->hostent(t->node, AF_INET, &he, buf, t->buflen,
					      first ? NULL : &t->libc_herr);
	assert_int_equal(v.final, t->final);
	if (v.final) {
		assert_int_equal(v.rc, t->rc);
		assert_int_equal(v.herr, t->herr);
	}
	if (v.final && v.rc == 0) {
		assert_string_equal(he.h_name, t->alias ? t->alias : t->node);
		assert_string_equal(he.h_aliases[0] ? he.h_aliases[0] : "(none)",
				    t->alias ? t->node : "(none)");
		assert_int_equal(he.h_addrtype, AF_INET);
		char text[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, he.h_addr_list[0], text, sizeof text);
		assert_string_equal(text, "192.0.2.8");
		assert_null(he.h_addr_list[1]);
	}
	free(buf);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(gai_cases) + ARRAY_SIZE(hostent_cases)];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_gai, gai_cases);
	UTIL_ADD_ROWS(tests, n, test_hostent, hostent_cases);
	if (!util_check_filled("engine", n, ARRAY_SIZE(tests)))
		return 1;
	return cmocka_run_group_tests_name("engine", tests, setup_group, NULL);
}
