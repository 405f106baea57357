/* lookup.c's first steps: which names are asked of an authority at all,
 * and what the process remembers of a zone. No network: the zone is
 * remembered as unreachable, so a name that gets that far comes back with
 * that memo's reason, and one turned away earlier with NX_WHY_SKIPPED. */
#include "util.h"

#include "nxretry.h"

#include <string.h>

static struct nx_config cfg;
static const struct nx_libc no_libc = {NULL, NULL, NULL};

static int setup(void **state)
{
	(void)state;
	nx_config_defaults(&cfg);
	cfg.nzones = 1;
	strcpy(cfg.zones[0].suffix, "lab.test");
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

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(name_cases)];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_name, name_cases);
	for (size_t i = 0; i < n; i++) {
		tests[i].setup_func = setup;
		tests[i].teardown_func = teardown;
	}
	return UTIL_RUN("lookup", tests, n);
}
