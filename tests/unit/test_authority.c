/* authority.c: which zone the system resolver's SOA reply makes the
 * authority of a configured suffix, on canned replies (no sockets). */
#include "util.h"

#include "nxretry.h"

#include <stdlib.h>
#include <string.h>

#define ID 0x2b2b
#define SUFFIX "dev.example.com"

struct apex_case {
	const char *name;
	void (*build)(struct pkt *p, const char *asked);
	const char *asked; /* NULL: SUFFIX */
	enum nx_apex expected;
	const char *apex; /* NX_APEX_FOUND */
};

/* The suffix is a zone of its own. */
static void soa_at_suffix(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
	pkt_soa(p, PKT_AN, PKT_QNAME, 3600, 300);
}

/* The suffix is a name inside example.com: NODATA, the zone's SOA. */
static void nodata_parent_soa(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
	pkt_soa(p, PKT_NS, "example.com", 3600, 300);
}

static void nxdomain_parent_soa(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, PKT_RCODE_NXDOMAIN, asked, NX_T_SOA);
	pkt_soa(p, PKT_NS, "example.com", 3600, 300);
}

/* The suffix is a CNAME to another zone's apex: its SOA is that zone's. */
static void cname_to_other_apex(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
	pkt_cname(p, PKT_AN, PKT_QNAME, 300, "attacker.example.net");
	pkt_soa(p, PKT_AN, "attacker.example.net", 3600, 300);
}

/* The same, to a name inside another zone: NODATA through the CNAME. */
static void cname_to_other_name(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
	pkt_cname(p, PKT_AN, PKT_QNAME, 300, "lb.cdn.example.net");
	pkt_soa(p, PKT_NS, "cdn.example.net", 3600, 300);
}

/* A CNAME to the zone above: that zone holds the suffix's names. */
static void cname_to_ancestor(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
	pkt_cname(p, PKT_AN, PKT_QNAME, 300, "example.com");
	pkt_soa(p, PKT_AN, "example.com", 3600, 300);
}

/* A resolver that answers with a different zone's SOA outright. */
static void soa_of_other_zone(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
	pkt_soa(p, PKT_NS, "example.net", 3600, 300);
}

/* NODATA whose SOA is of a zone below the suffix: not the suffix's zone. */
static void nodata_child_soa(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
	pkt_soa(p, PKT_NS, "sub." SUFFIX, 3600, 300);
}

/* A zone whose name merely ends like the suffix's parent. */
static void nodata_lookalike_soa(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
	pkt_soa(p, PKT_NS, "ample.com", 3600, 300);
}

static void nodata_no_soa(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
}

static void servfail(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, PKT_RCODE_SERVFAIL, asked, NX_T_SOA);
}

static void soa_owner_not_host(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
	pkt_soa(p, PKT_NS, "ex$ample.com", 3600, 300);
}

/* The root's SOA, as a resolver gives it for a name under a TLD it does
 * not know, or when broken: never the configured zone. */
static void nxdomain_root_soa(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, PKT_RCODE_NXDOMAIN, asked, NX_T_SOA);
	pkt_soa(p, PKT_NS, "", 86400, 86400);
}

static void nodata_root_soa(struct pkt *p, const char *asked)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, asked, NX_T_SOA);
	pkt_soa(p, PKT_NS, "", 86400, 86400);
}

static const struct apex_case apex_cases[] = {
	{"apex: SOA answer at the suffix", soa_at_suffix, NULL, NX_APEX_FOUND, SUFFIX},
	{"apex: NODATA, the zone above", nodata_parent_soa, NULL, NX_APEX_FOUND, "example.com"},
	{"apex: NXDOMAIN, the zone above", nxdomain_parent_soa, NULL, NX_APEX_FOUND,
	 "example.com"},
	{"apex: suffix a CNAME to another zone's apex: not that zone", cname_to_other_apex, NULL,
	 NX_APEX_PARENT, NULL},
	{"apex: suffix a CNAME into another zone: not that zone", cname_to_other_name, NULL,
	 NX_APEX_PARENT, NULL},
	{"apex: suffix a CNAME to the zone above: that zone", cname_to_ancestor, NULL,
	 NX_APEX_FOUND, "example.com"},
	{"apex: another zone's SOA", soa_of_other_zone, NULL, NX_APEX_NONE, NULL},
	{"apex: a zone below the suffix", nodata_child_soa, NULL, NX_APEX_NONE, NULL},
	{"apex: a zone ending like the parent is not the parent", nodata_lookalike_soa, NULL,
	 NX_APEX_NONE, NULL},
	{"apex: NODATA without SOA", nodata_no_soa, NULL, NX_APEX_NONE, NULL},
	{"apex: SERVFAIL", servfail, NULL, NX_APEX_NONE, NULL},
	{"apex: SOA owner not a host name", soa_owner_not_host, NULL, NX_APEX_NONE, NULL},
	{"apex: NXDOMAIN with the root's SOA: not a zone", nxdomain_root_soa, NULL,
	 NX_APEX_ROOT, NULL},
	{"apex: NODATA with the root's SOA: not a zone", nodata_root_soa, NULL, NX_APEX_ROOT,
	 NULL},
	/* The parent asked after an alias: the answer is checked against the
	 * suffix all the same. */
	{"apex: parent asked, its own SOA", soa_at_suffix, "example.com", NX_APEX_FOUND,
	 "example.com"},
	{"apex: parent asked, NODATA with its SOA", nodata_parent_soa, "example.com",
	 NX_APEX_FOUND, "example.com"},
	{"apex: parent asked, also an alias", cname_to_other_apex, "example.com", NX_APEX_PARENT,
	 NULL},
	{"apex: parent asked, the root's SOA", nxdomain_root_soa, "example.com", NX_APEX_ROOT,
	 NULL},
};

static void test_apex(void **state)
{
	const struct apex_case *t = *state;
	const char *asked = t->asked ? t->asked : SUFFIX;
	struct pkt p;
	t->build(&p, asked);
	struct nx_reply *r = malloc(sizeof *r);
	assert_non_null(r);
	nx_log_level = NX_LOG_OFF;
	nx_message_classify(p.buf, p.len, ID, asked, NX_T_SOA, false, r);
	nx_log_level = NX_LOG_WARN;
	char apex[NX_NAMEMAX] = "unchanged";
	enum nx_apex got = nx_authority_apex(SUFFIX, r->status, r, apex);
	free(r);
	assert_int_equal(got, t->expected);
	assert_string_equal(apex, t->expected == NX_APEX_FOUND ? t->apex : "unchanged");
}

/* nx_authority_glue: the glue of an NS answer becomes servers on port 53
 * (one address once), the names without glue are left to look up. */
static void test_glue(void **state)
{
	(void)state;
	struct pkt p;
	pkt_reply(&p, ID, PKT_RD | PKT_RA, 0, "example.com", NX_T_NS);
	pkt_ns(&p, PKT_AN, PKT_QNAME, 3600, "ns1.example.com");
	pkt_ns(&p, PKT_AN, PKT_QNAME, 3600, "ns2.example.net");
	pkt_ns(&p, PKT_AN, PKT_QNAME, 3600, "ns3.example.com");
	pkt_a(&p, PKT_AR, "ns1.example.com", 3600, "192.0.2.1");
	pkt_aaaa(&p, PKT_AR, "ns1.example.com", 3600, "2001:db8::1");
	pkt_a(&p, PKT_AR, "ns3.example.com", 3600, "192.0.2.1"); /* the same address */
	struct nx_reply *r = malloc(sizeof *r);
	struct nx_authority *a = calloc(1, sizeof *a);
	assert_non_null(r);
	assert_non_null(a);
	nx_message_classify(p.buf, p.len, ID, "example.com", NX_T_NS, false, r);
	assert_int_equal(r->status, NX_ANSWER);
	assert_int_equal(r->nglue, 3);
	uint32_t unglued = nx_authority_glue(r, a);
	assert_int_equal(unglued, 1u << 1); /* ns2.example.net */
	assert_int_equal(a->nservers, 2);
	char text[64];
	assert_int_equal(nx_nameserver_format(&a->servers[0], text, sizeof text), 0);
	assert_string_equal(text, "192.0.2.1");
	assert_int_equal(nx_nameserver_format(&a->servers[1], text, sizeof text), 0);
	assert_string_equal(text, "2001:db8::1");
	free(r);
	free(a);
}

/* A zone not found is remembered for a while, but not when the lookup's
 * deadline was spent before discovery could ask anything (a CNAME target
 * late in its name's wait): the next lookup, with time of its own, looks
 * again and says so. No query leaves: the deadline has passed. */
static void test_spent_deadline_not_remembered(void **state)
{
	(void)state;
	struct nx_config cfg;
	nx_config_defaults(&cfg);
	cfg.nzones = 1;
	strcpy(cfg.zones[0].suffix, "spent.test");
	struct nx_authority *a = malloc(sizeof *a);
	assert_non_null(a);
	util_capture_begin();
	int first = nx_authority_for(&cfg, &cfg.zones[0], "a.spent.test", nx_now_ms() - 1, a);
	int second = nx_authority_for(&cfg, &cfg.zones[0], "b.spent.test", nx_now_ms() - 1, a);
	char *said = util_capture_end();
	free(a);
	assert_int_equal(first, -1);
	assert_int_equal(second, -1);
	int lines = 0;
	for (const char *s = said; (s = strstr(s, "nxretry: spent.test: cannot find the zone")); s++)
		lines++;
	free(said);
	assert_int_equal(lines, 2);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(apex_cases) + 2];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_apex, apex_cases);
	UTIL_ADD_TEST(tests, n, test_glue);
	UTIL_ADD_TEST(tests, n, test_spent_deadline_not_remembered);
	return UTIL_RUN("authority", tests, n);
}
