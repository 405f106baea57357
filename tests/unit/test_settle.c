/* nameserver.c: RFC 1982 serial comparison, and how the views of one round
 * settle (nx_settle_views): agreement, the newest serial, positive views
 * that must agree when serials cannot order them. */
#include "util.h"

#include "nxretry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- nx_serial_newer ---- */

struct serial_case {
	const char *name;
	uint32_t a, b;
	bool newer;
};

static const struct serial_case serial_cases[] = {
	{"serial: equal is not newer", 7, 7, false},
	{"serial: one more", 8, 7, true},
	{"serial: one less", 7, 8, false},
	{"serial: zero vs zero", 0, 0, false},
	{"serial: wraps: 0 after 2^32-1", 0, 0xffffffffu, true},
	{"serial: wraps: 2^32-1 before 0", 0xffffffffu, 0, false},
	{"serial: 5 after 2^32-3", 5, 0xfffffffdu, true},
	{"serial: 2^31-1 ahead is newer", 0x7fffffffu, 0, true},
	{"serial: 2^31-1 behind is older", 0, 0x7fffffffu, false},
	{"serial: 2^31 apart is undefined, not newer (a)", 0x80000000u, 0, false},
	{"serial: 2^31 apart is undefined, not newer (b)", 0, 0x80000000u, false},
	{"serial: 2^31+1 ahead is behind", 0x80000001u, 0, false},
	{"serial: 2^31+1 behind is ahead", 0, 0x80000001u, true},
	{"serial: date serials", 2026120201u, 2026120199u, true},
	{"serial: Route 53's 1 vs 1", 1, 1, false},
};

static void test_serial(void **state)
{
	const struct serial_case *t = *state;
	assert_int_equal(nx_serial_newer(t->a, t->b), t->newer);
}

/* ---- nx_settle_views ---- */

/* Views in a line: "A1@5 NX@6 A12": A followed by digits is a positive
 * view holding 192.0.2.<digit> for each digit, NX a denial; @N its serial,
 * none when absent; "@N/p" with the primary its SOA names (p.ns), unknown
 * when absent. */
struct settle_case {
	const char *name;
	const char *views;
	enum nx_settle how;
	int use, newest, a, b;
	bool needs_serials; /* before settling: some positive view lacks the serial that decides */
};

static const struct settle_case settle_cases[] = {
	{"settle: nothing but denials", "NX@3 NX@4 NX NX@4", NX_SETTLE_NONE, -1, -1, -1, -1, false},
	{"settle: one server, addresses", "A1", NX_SETTLE_AGREE, 0, -1, -1, -1, false},
	{"settle: all agree, no serial needed", "A1 A1 A1 A1", NX_SETTLE_AGREE, 0, -1, -1, -1, false},
	{"settle: same set in another order", "A12 A21", NX_SETTLE_AGREE, 0, -1, -1, -1, false},
	{"settle: a subset is not the same", "A12 A1", NX_SETTLE_SPLIT, -1, -1, 0, 1, true},
	{"settle: first server has it, newest serial", "A1@6 NX@5 NX@5 NX@5", NX_SETTLE_NEWEST, 0, 0,
	 -1, -1, false},
	{"settle: later server has it, newest serial", "NX@5 NX@5 A1@6 NX@5", NX_SETTLE_NEWEST, 2, 2,
	 -1, -1, false},
	{"settle: deleted since: the denial is newer", "A1@5 A1@5 NX@6 NX@6",
	 NX_SETTLE_NEWEST_DENIES, -1, 2, -1, -1, false},
	{"settle: deleted then recreated: the newest wins", "A1@5 NX@6 A2@7 A1@5", NX_SETTLE_NEWEST,
	 2, 2, -1, -1, false},
	{"settle: recreated on two, same serial", "A2@7 NX@6 A2@7 A1@5", NX_SETTLE_NEWEST, 0, 0, -1,
	 -1, false},
	{"settle: newest serial, different addresses", "A1@7 A2@7 NX@6", NX_SETTLE_NEWEST_SPLIT, -1,
	 0, 0, 1, false},
	{"settle: newest serial, addresses and a denial", "A1@7 NX@7 NX@6",
	 NX_SETTLE_NEWEST_SPLIT, -1, 0, 0, -1, false},
	{"settle: serials across the wrap", "NX@4294967295 A1@2", NX_SETTLE_NEWEST, 1, 1, -1, -1,
	 false},
	{"settle: older across the wrap", "NX@2 A1@4294967295", NX_SETTLE_NEWEST_DENIES, -1, 0, -1,
	 -1, false},
	{"settle: equal serials, positives agree", "NX@1 A1@1 NX@1 A1@1", NX_SETTLE_UNORDERED, 1,
	 -1, -1, -1, false},
	{"settle: equal serials, positives differ", "A1@1 NX@1 A2@1 A1@1", NX_SETTLE_SPLIT, -1, -1,
	 0, 2, false},
	{"settle: a serial missing: cannot order", "A1@5 NX", NX_SETTLE_UNORDERED, 0, -1, -1, -1,
	 false},
	{"settle: a positive without serial", "A1 NX@5", NX_SETTLE_UNORDERED, 0, -1, -1, -1, true},
	{"settle: positives without serials differ", "A1 A2 NX@5", NX_SETTLE_SPLIT, -1, -1, 0, 1,
	 true},
	/* Serials of independent primaries (two providers) are two histories. */
	{"settle: one primary: the newer denial wins", "A1@5/p NX@6/p", NX_SETTLE_NEWEST_DENIES,
	 -1, 1, -1, -1, false},
	{"settle: one primary named in another case", "A1@6/p NX@5/P", NX_SETTLE_NEWEST, 0, 0, -1,
	 -1, false},
	{"settle: two primaries: a larger serial is not newer", "A1@5/p NX@6/q",
	 NX_SETTLE_UNORDERED, 0, -1, -1, -1, false},
	{"settle: two primaries: positives differ", "A1@7/p A2@9/q", NX_SETTLE_SPLIT, -1, -1, 0, 1,
	 false},
	{"settle: two primaries: one's own newer denial wins", "A1@5/p A1@5/p NX@6/p NX@2026/q",
	 NX_SETTLE_NEWEST_DENIES, -1, 2, -1, -1, false},
	{"settle: two primaries, each one's newest has it", "A1@5/p A1@6/p A1@2026/q NX@2025/q",
	 NX_SETTLE_UNORDERED, 1, -1, -1, -1, false},
	{"settle: two primaries, one's newest has other addresses", "A1@5/p A2@6/p A1@2026/q",
	 NX_SETTLE_SPLIT, -1, -1, 1, 2, false},
	{"settle: two primaries: a positive's own serial is asked", "A1 NX@5/p NX@6/q",
	 NX_SETTLE_UNORDERED, 0, -1, -1, -1, true},
	{"settle: a primary unknown does not split one history", "A1@6 NX@5/p", NX_SETTLE_NEWEST, 0,
	 0, -1, -1, false},
	{"settle: one primary: addresses and a denial at its newest", "A1@7/p NX@7/p NX@6/p",
	 NX_SETTLE_NEWEST_SPLIT, -1, 0, 0, -1, false},
	{"settle: two primaries: the same, whatever the other says", "A1@7/p NX@7/p NX@6/p NX@100/q",
	 NX_SETTLE_NEWEST_SPLIT, -1, 0, 0, -1, false},
	{"settle: two primaries: equal serials do not split", "A1@1/p NX@1/p NX@100/q",
	 NX_SETTLE_UNORDERED, 0, -1, -1, -1, false},	/* Records of another type (T: one TXT record per letter) weigh as addresses do. */
	{"settle: records, same set in another order", "Tab Tba", NX_SETTLE_AGREE, 0, -1, -1, -1,
	 false},
	{"settle: records, a subset is not the same", "Tab Ta", NX_SETTLE_SPLIT, -1, -1, 0, 1, true},
	{"settle: records at the newest serial", "NX@5 Ta@6 NX@5", NX_SETTLE_NEWEST, 1, 1, -1, -1,
	 false},
	{"settle: records, the newest serial differ", "Ta@7 Tb@7 NX@6", NX_SETTLE_NEWEST_SPLIT, -1,
	 0, 0, 1, false},
	{"settle: records, equal serials, positives agree", "NX@1 Tc@1 Tc@1", NX_SETTLE_UNORDERED,
	 1, -1, -1, -1, false},
	{"settle: records never equal addresses", "A1 Ta", NX_SETTLE_SPLIT, -1, -1, 0, 1, true},
};

struct parsed {
	struct nx_view v[NX_MAXSERVERS];
	struct nx_addr addrs[NX_MAXSERVERS][4];
	char primaries[NX_MAXSERVERS][8];
	struct nx_records records[NX_MAXSERVERS];
	int n;
};

static void parse_views(const char *text, struct parsed *p)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", text);
	memset(p, 0, sizeof *p);
	char *save = NULL;
	for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		assert_true(p->n < NX_MAXSERVERS);
		struct nx_view *v = &p->v[p->n];
		char *at = strchr(tok, '@');
		if (at) {
			*at = 0;
			v->has_serial = true;
			char *end;
			v->serial = (uint32_t)strtoul(at + 1, &end, 10);
			if (*end == '/') {
				snprintf(p->primaries[p->n], sizeof p->primaries[0], "%s.ns", end + 1);
				v->primary = p->primaries[p->n];
			}
		}
		if (tok[0] == 'A') {
			v->found = true;
			v->addrs = p->addrs[p->n];
			for (const char *d = tok + 1; *d; d++) {
				struct nx_addr *a = &p->addrs[p->n][v->naddrs++];
				a->family = AF_INET;
				unsigned char ip[4] = {192, 0, 2, (unsigned char)(*d - '0')};
				memcpy(a->bytes, ip, 4);
			}
		} else if (tok[0] == 'T') {
			struct nx_records *r = &p->records[p->n];
			v->found = true;
			v->records = r;
			for (const char *c = tok + 1; *c; c++) { /* TXT rdata: one string, the letter */
				r->rr[r->n].off = (uint16_t)r->used;
				r->rr[r->n++].len = 2;
				r->data[r->used++] = 1;
				r->data[r->used++] = (unsigned char)*c;
			}
		} else {
			assert_string_equal(tok, "NX");
		}
		p->n++;
	}
}

static void test_settle(void **state)
{
	const struct settle_case *t = *state;
	static struct parsed p; /* 16 record sets: not on the stack */
	parse_views(t->views, &p);
	assert_int_equal(nx_settle_needs_serials(p.v, p.n), t->needs_serials);
	struct nx_settled s;
	enum nx_settle how = nx_settle_views(p.v, p.n, &s);
	assert_string_equal(nx_settle_name(how), nx_settle_name(t->how));
	assert_int_equal(s.how, how);
	assert_int_equal(s.use, t->use);
	assert_int_equal(s.newest, t->newest);
	assert_int_equal(s.a, t->a);
	assert_int_equal(s.b, t->b);
	assert_int_equal(nx_settle_uses(how), t->use >= 0);
}

/* No view at all: nothing to use. */
static void test_settle_empty(void **state)
{
	(void)state;
	struct nx_settled s;
	assert_int_equal(nx_settle_views(NULL, 0, &s), NX_SETTLE_NONE);
	assert_int_equal(s.use, -1);
	assert_false(nx_settle_needs_serials(NULL, 0));
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(serial_cases) + ARRAY_SIZE(settle_cases) + 1];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_serial, serial_cases);
	UTIL_ADD_ROWS(tests, n, test_settle, settle_cases);
	UTIL_ADD_TEST(tests, n, test_settle_empty);
	return UTIL_RUN("settle", tests, n);
}
