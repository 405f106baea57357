/* message.c: query bytes, and the classification of canned replies. */
#include "util.h"

#include "nxretry.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID 0x4a5b
#define WWW "www.example.com"

/* ---- nx_message_query ---- */

struct query_case {
	const char *name;
	const char *host;
	int qtype;
	bool rd;
	uint16_t id;
	size_t buflen;
	int expected_len;     /* -1: rejected */
	const char *wire;     /* the question's labels, dotted (canonical form) */
};

static const struct query_case query_cases[] = {
	{"query: A with RD", WWW, NX_T_A, true, 0x1234, 512, 12 + 17 + 4, WWW},
	{"query: AAAA without RD", WWW, NX_T_AAAA, false, 0xfedc, 512, 12 + 17 + 4, WWW},
	{"query: case folded, trailing dot dropped", "WWW.Example.COM.", NX_T_A, false, 1, 512,
	 12 + 17 + 4, WWW},
	{"query: SOA, single label", "example", NX_T_SOA, false, 0, 512, 12 + 9 + 4, "example"},
	{"query: NS, id 0xffff", "example.com", NX_T_NS, true, 0xffff, 512, 12 + 13 + 4,
	 "example.com"},
	{"query: buffer exactly large enough", WWW, NX_T_A, true, 7, 12 + 17 + 4, 12 + 17 + 4,
	 WWW},
	{"query: buffer one byte short", WWW, NX_T_A, true, 7, 12 + 17 + 4 - 1, -1, NULL},
	{"query: invalid name rejected", "a..b", NX_T_A, true, 7, 512, -1, NULL},
	{"query: empty name rejected", "", NX_T_A, true, 7, 512, -1, NULL},
};

static void test_query(void **state)
{
	const struct query_case *t = *state;
	unsigned char buf[600];
	memset(buf, 0xee, sizeof buf);
	int len = nx_message_query(buf, t->buflen, t->id, t->host, t->qtype, t->rd);
	assert_int_equal(len, t->expected_len);
	if (len < 0)
		return;
	assert_int_equal(buf[len], 0xee); /* nothing written past the end */
	/* Header, byte by byte (RFC 1035 §4.1.1). */
	assert_int_equal(buf[0], t->id >> 8);
	assert_int_equal(buf[1], t->id & 0xff);
	assert_int_equal(buf[2], t->rd ? 0x01 : 0x00); /* QR=0, opcode 0, AA=TC=0, RD */
	assert_int_equal(buf[3], 0x00);                /* RA=0, Z=0, rcode 0 */
	const unsigned char counts[8] = {0, 1, 0, 0, 0, 0, 0, 0};
	assert_memory_equal(buf + 4, counts, 8);
	/* The question, against the builder's. */
	struct pkt p;
	pkt_init(&p, t->id, t->rd ? PKT_RD : 0, 0);
	pkt_question(&p, t->wire, t->qtype);
	assert_int_equal(p.len, (size_t)len);
	assert_memory_equal(buf, p.buf, p.len);
	/* And the tail by hand: QTYPE, QCLASS IN. */
	assert_int_equal(buf[len - 4] << 8 | buf[len - 3], t->qtype);
	assert_int_equal(buf[len - 2] << 8 | buf[len - 1], 1);
}

static void test_query_labels(void **state)
{
	(void)state;
	unsigned char buf[64];
	int len = nx_message_query(buf, sizeof buf, 0x0102, "A.bc.DEF", NX_T_AAAA, false);
	const unsigned char expected[] = {0x01, 0x02, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
					  1, 'a', 2, 'b', 'c', 3, 'd', 'e', 'f', 0,
					  0, 28, 0, 1};
	assert_int_equal(len, sizeof expected);
	assert_memory_equal(buf, expected, sizeof expected);
}

static void test_query_longest_name(void **state)
{
	(void)state;
	char name[254];
	/* 63.63.63.61 = 253 characters: 255 octets on the wire. */
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = 0;
	unsigned char buf[512];
	assert_int_equal(nx_message_query(buf, sizeof buf, 1, name, NX_T_A, true), 12 + 255 + 4);
	assert_int_equal(buf[12], 63);
	assert_int_equal(buf[12 + 64 * 3], 61);
	assert_int_equal(buf[12 + 254], 0);
}

/* ---- nx_message_classify ---- */

struct expect {
	enum nx_status status;
	bool content; /* false: only status, rcode, aa and tc are checked */
	int rcode;
	bool aa, tc;
	uint32_t ttl;
	const char *addrs[4];
	const char *canon;
	int chain;
	const char *next;
	const char *ns[4];
	uint32_t ns_ttl;
	const char *glue[4];
	int glue_ns[4];
	const char *soa_owner; /* NULL: has_soa false */
	uint32_t soa_ttl, soa_minimum;
};

struct classify_case {
	const char *name;
	void (*build)(struct pkt *p);
	const char *qname; /* the query: NULL means WWW */
	int qtype;         /* 0 means A */
	bool want_aa;
	struct expect e;
};

static void parse_addr(const char *text, struct nx_addr *a)
{
	memset(a, 0, sizeof *a);
	a->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a->family, text, a->bytes) != 1)
		fail_msg("bad address in a test table: %s", text);
}

static void assert_addr(const struct nx_addr *got, const char *want, const char *what, int i)
{
	struct nx_addr a;
	parse_addr(want, &a);
	char text[INET6_ADDRSTRLEN] = "?";
	inet_ntop(got->family, got->bytes, text, sizeof text);
	if (got->family != a.family || memcmp(got->bytes, a.bytes, 16))
		fail_msg("%s[%d] is %s (family %d), expected %s", what, i, text, got->family, want);
}

static int count(const char *const *list, int max)
{
	int n = 0;
	while (n < max && list[n])
		n++;
	return n;
}

static void check_reply(const struct nx_reply *r, const struct expect *e)
{
	if (r->status != e->status)
		fail_msg("status %s, expected %s", nx_status_name(r->status),
			 nx_status_name(e->status));
	assert_int_equal(r->rcode, e->rcode);
	assert_int_equal(r->aa, e->aa);
	assert_int_equal(r->tc, e->tc);
	if (!e->content)
		return;
	assert_int_equal(r->ttl, e->ttl);
	int naddrs = count(e->addrs, 4);
	assert_int_equal(r->naddrs, naddrs);
	for (int i = 0; i < naddrs; i++)
		assert_addr(&r->addrs[i], e->addrs[i], "addrs", i);
	assert_string_equal(r->canon, e->canon ? e->canon : WWW);
	assert_int_equal(r->chain, e->chain);
	assert_string_equal(r->next, e->next ? e->next : "");
	int nns = count(e->ns, 4);
	assert_int_equal(r->nns, nns);
	for (int i = 0; i < nns; i++)
		assert_string_equal(r->ns[i], e->ns[i]);
	assert_int_equal(r->ns_ttl, e->ns_ttl);
	int nglue = count(e->glue, 4);
	assert_int_equal(r->nglue, nglue);
	for (int i = 0; i < nglue; i++) {
		assert_addr(&r->glue[i], e->glue[i], "glue", i);
		assert_int_equal(r->glue_ns[i], e->glue_ns[i]);
	}
	assert_int_equal(r->has_soa, e->soa_owner != NULL);
	assert_string_equal(r->soa_owner, e->soa_owner ? e->soa_owner : "");
	assert_int_equal(r->soa_ttl, e->soa_ttl);
	assert_int_equal(r->soa_minimum, e->soa_minimum);
}

static void test_classify(void **state)
{
	const struct classify_case *t = *state;
	struct pkt p;
	t->build(&p);
	struct nx_reply *r = malloc(sizeof *r);
	assert_non_null(r);
	memset(r, 0xa5, sizeof *r); /* classify must reset every field */
	nx_message_classify(p.buf, p.len, ID, t->qname ? t->qname : WWW,
			    t->qtype ? t->qtype : NX_T_A, t->want_aa, r);
	struct nx_reply copy = *r;
	free(r);
	check_reply(&copy, &t->e);
}

/* Replies. Each builds a complete packet; the table says what it means. */

static void answer_a(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_a(p, PKT_AN, WWW, 300, "192.0.2.1");
	pkt_a(p, PKT_AN, WWW, 120, "192.0.2.2");
}

static void answer_a_compressed(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_a(p, PKT_AN, PKT_QNAME, 300, "192.0.2.1");
	pkt_a(p, PKT_AN, PKT_QNAME, 120, "192.0.2.2");
	pkt_soa(p, PKT_NS, "example.com", 900, 300);
}

static void answer_aaaa(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_AAAA);
	pkt_aaaa(p, PKT_AN, WWW, 60, "2001:db8::1");
	pkt_aaaa(p, PKT_AN, WWW, 600, "2001:db8::2");
}

static void answer_mixed_types(struct pkt *p)
{
	/* Records of other types and classes beside the answer are skipped. */
	unsigned char txt[] = {3, 'a', 'b', 'c'};
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_rr(p, PKT_AN, WWW, 16, 1, 10, txt, sizeof txt);
	pkt_aaaa(p, PKT_AN, WWW, 10, "2001:db8::9");
	pkt_a(p, PKT_AN, "other.example.com", 10, "192.0.2.99");
	unsigned char ch[4] = {192, 0, 2, 98};
	pkt_rr(p, PKT_AN, WWW, NX_T_A, 3 /* CH */, 10, ch, sizeof ch);
	pkt_a(p, PKT_AN, WWW, 3600, "192.0.2.3");
	pkt_rr(p, PKT_AR, "", 41 /* OPT */, 1232, 0, NULL, 0);
}

static void answer_0x20(struct pkt *p)
{
	/* RFC 7873-era servers echo the question's case (draft-vixie-dnsext-dns0x20). */
	pkt_reply(p, ID, PKT_AA, 0, "WwW.eXaMpLe.CoM", NX_T_A);
	pkt_a(p, PKT_AN, "WWW.EXAMPLE.COM", 300, "192.0.2.1");
	pkt_a(p, PKT_AN, PKT_QNAME, 300, "192.0.2.2");
}

static void cname_chain(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_cname(p, PKT_AN, PKT_QNAME, 300, "a.example.com");
	pkt_cname(p, PKT_AN, "a.example.com", 200, "b.example.net");
	pkt_a(p, PKT_AN, "b.example.net", 400, "192.0.2.7");
	pkt_a(p, PKT_AN, "b.example.net", 400, "192.0.2.8");
}

static void cname_chain_reversed(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_a(p, PKT_AN, "b.example.net", 400, "192.0.2.7");
	pkt_a(p, PKT_AN, "b.example.net", 400, "192.0.2.8");
	pkt_cname(p, PKT_AN, "a.example.com", 200, "b.example.net");
	pkt_cname(p, PKT_AN, WWW, 300, "a.example.com");
}

static void cname_leaves(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_cname(p, PKT_AN, PKT_QNAME, 300, "a.example.com");
	pkt_cname(p, PKT_AN, "a.example.com", 250, "target.elsewhere.net");
}

static void cname_loop(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_cname(p, PKT_AN, WWW, 300, "a.example.com");
	pkt_cname(p, PKT_AN, "a.example.com", 300, WWW);
}

static void cname_self(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_cname(p, PKT_AN, PKT_QNAME, 300, PKT_QNAME);
}

static void cname_query(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_CNAME);
	pkt_cname(p, PKT_AN, PKT_QNAME, 300, "a.example.com");
}

static void nxdomain_soa_ttl_lower(struct pkt *p)
{
	/* A new Route 53 zone: SOA TTL 900, MINIMUM 86400 (docs/design.md). */
	pkt_reply(p, ID, PKT_AA, PKT_RCODE_NXDOMAIN, WWW, NX_T_A);
	pkt_soa(p, PKT_NS, "example.com", 900, 86400);
}

static void nxdomain_minimum_lower(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, PKT_RCODE_NXDOMAIN, WWW, NX_T_A);
	pkt_soa(p, PKT_NS, "example.com", 3600, 300);
}

static void nxdomain_no_soa(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, PKT_RCODE_NXDOMAIN, WWW, NX_T_A);
}

static void nodata(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_AAAA);
	pkt_soa(p, PKT_NS, "example.com", 600, 60);
}

static void referral(struct pkt *p)
{
	pkt_reply(p, ID, 0, 0, "www.sub.example.com", NX_T_A);
	pkt_ns(p, PKT_NS, "sub.example.com", 172800, "ns1.sub.example.com");
	pkt_ns(p, PKT_NS, "sub.example.com", 86400, "ns2.sub.example.com");
	pkt_ns(p, PKT_NS, "sub.example.com", 172800, "ns3.other.net");
	pkt_ns(p, PKT_NS, "sub.example.com", 172800, "ns1.sub.example.com"); /* duplicate */
	pkt_a(p, PKT_AR, "ns1.sub.example.com", 172800, "192.0.2.53");
	pkt_aaaa(p, PKT_AR, "ns1.sub.example.com", 172800, "2001:db8::53");
	pkt_a(p, PKT_AR, "unrelated.example.com", 172800, "192.0.2.99");
	pkt_a(p, PKT_AR, "ns2.sub.example.com", 172800, "192.0.2.54");
}

static void referral_unrelated(struct pkt *p)
{
	/* NS of a zone the name is not under: not a referral for it. */
	pkt_reply(p, ID, 0, 0, WWW, NX_T_A);
	pkt_ns(p, PKT_NS, "example.org", 172800, "ns1.example.org");
	pkt_a(p, PKT_AR, "ns1.example.org", 172800, "192.0.2.53");
}

static void rcode_reply(struct pkt *p, int rcode)
{
	pkt_reply(p, ID, PKT_AA, rcode, WWW, NX_T_A);
}
static void refused(struct pkt *p) { rcode_reply(p, PKT_RCODE_REFUSED); }
static void servfail(struct pkt *p) { rcode_reply(p, PKT_RCODE_SERVFAIL); }
static void formerr(struct pkt *p) { rcode_reply(p, PKT_RCODE_FORMERR); }
static void notimp(struct pkt *p) { rcode_reply(p, PKT_RCODE_NOTIMP); }

static void servfail_with_answer(struct pkt *p)
{
	pkt_reply(p, ID, 0, PKT_RCODE_SERVFAIL, WWW, NX_T_A);
	pkt_a(p, PKT_AN, WWW, 300, "192.0.2.1");
}

static void not_aa_answer(struct pkt *p)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, 0, WWW, NX_T_A);
	pkt_a(p, PKT_AN, WWW, 300, "192.0.2.1");
}

static void not_aa_nxdomain(struct pkt *p)
{
	pkt_reply(p, ID, PKT_RD | PKT_RA, PKT_RCODE_NXDOMAIN, WWW, NX_T_A);
	pkt_soa(p, PKT_NS, "example.com", 900, 300);
}

static void wrong_id(struct pkt *p) { pkt_reply(p, ID + 1, PKT_AA, 0, WWW, NX_T_A); }

static void wrong_name(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, "www.example.org", NX_T_A);
	pkt_a(p, PKT_AN, PKT_QNAME, 300, "192.0.2.1");
}

static void wrong_qtype(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_AAAA);
	pkt_a(p, PKT_AN, PKT_QNAME, 300, "192.0.2.1");
}

static void wrong_qclass(struct pkt *p)
{
	pkt_init(p, ID, PKT_QR | PKT_AA, 0);
	pkt_question_class(p, WWW, NX_T_A, 3);
}

static void qr_clear(struct pkt *p)
{
	pkt_init(p, ID, PKT_AA, 0);
	pkt_question(p, WWW, NX_T_A);
	pkt_a(p, PKT_AN, PKT_QNAME, 300, "192.0.2.1");
}

static void opcode_status(struct pkt *p)
{
	answer_a(p);
	p->buf[2] |= 2 << 3; /* opcode STATUS */
}

static void no_question(struct pkt *p) { pkt_init(p, ID, PKT_QR | PKT_AA, 0); }

static void two_questions(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_question(p, WWW, NX_T_AAAA);
}

static void cut_in_rr(struct pkt *p)
{
	answer_a(p);
	pkt_truncate(p, p->len - 3); /* in the second A record's RDATA */
}

static void cut_in_rr_header(struct pkt *p)
{
	answer_a(p);
	pkt_truncate(p, p->len - 4 - 2 - 3); /* in the second record's TTL */
}

static void cut_in_question(struct pkt *p)
{
	answer_a(p);
	pkt_truncate(p, 12 + 17 + 2); /* QTYPE read, QCLASS cut */
}

static void header_only_short(struct pkt *p)
{
	answer_a(p);
	pkt_truncate(p, 11);
}

static void tc_empty(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA | PKT_TC, 0, WWW, NX_T_A);
}

static void tc_cut_answer(struct pkt *p)
{
	/* A UDP reply cut at 512 octets (RFC 1035 §4.2.1): the count says 3,
	 * two records arrived whole. */
	pkt_reply(p, ID, PKT_AA | PKT_TC, 0, WWW, NX_T_A);
	pkt_a(p, PKT_AN, PKT_QNAME, 300, "192.0.2.1");
	pkt_a(p, PKT_AN, PKT_QNAME, 300, "192.0.2.2");
	pkt_a(p, PKT_AN, PKT_QNAME, 300, "192.0.2.3");
	pkt_truncate(p, p->len - 8);
}

static void tc_complete_answer(struct pkt *p)
{
	/* TC with the answer whole and the additional section dropped. */
	pkt_reply(p, ID, PKT_AA | PKT_TC, 0, WWW, NX_T_A);
	pkt_a(p, PKT_AN, PKT_QNAME, 300, "192.0.2.1");
}

static void tc_referral_cut_authority(struct pkt *p)
{
	pkt_reply(p, ID, PKT_TC, 0, "www.sub.example.com", NX_T_A);
	pkt_ns(p, PKT_NS, "sub.example.com", 3600, "ns1.sub.example.com");
	pkt_ns(p, PKT_NS, "sub.example.com", 7200, "ns2.sub.example.com");
	pkt_ns(p, PKT_NS, "sub.example.com", 3600, "ns3.sub.example.com");
	pkt_truncate(p, p->len - 5);
}

static void tc_referral_cut_additional(struct pkt *p)
{
	pkt_reply(p, ID, PKT_TC, 0, "www.sub.example.com", NX_T_A);
	pkt_ns(p, PKT_NS, "sub.example.com", 3600, "ns1.sub.example.com");
	pkt_ns(p, PKT_NS, "sub.example.com", 7200, "ns2.sub.example.com");
	pkt_a(p, PKT_AR, "ns1.sub.example.com", 3600, "192.0.2.53");
	pkt_a(p, PKT_AR, "ns2.sub.example.com", 3600, "192.0.2.54");
	pkt_truncate(p, p->len - 2);
}

static void garbage_body(struct pkt *p)
{
	pkt_init(p, ID, PKT_QR, 0);
	pkt_set_count(p, PKT_QD, 1);
	for (int i = 0; i < 40; i++) {
		unsigned char b = (unsigned char)(0xff - 13 * i);
		pkt_bytes(p, &b, 1);
	}
}

static void garbage_all(struct pkt *p)
{
	memset(p, 0, sizeof *p);
	for (int i = 0; i < 64; i++)
		p->buf[i] = (unsigned char)(37 * i + 11);
	p->len = 64;
}

/* What follows a hand-written owner name: an A record, IN, TTL 300,
 * 192.0.2.1. */
static void a_rr_rest(struct pkt *p)
{
	pkt_u16(p, NX_T_A);
	pkt_u16(p, 1);
	pkt_u32(p, 300);
	pkt_u16(p, 4);
	pkt_bytes(p, "\xc0\x00\x02\x01", 4);
}

static void loop_in_answer(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_name_loop(p); /* the owner of an A record */
	a_rr_rest(p);
	pkt_count_add(p, PKT_AN, 1);
}

static void loop_in_question(struct pkt *p)
{
	pkt_init(p, ID, PKT_QR | PKT_AA, 0);
	pkt_name_loop(p);
	pkt_u16(p, NX_T_A);
	pkt_u16(p, 1);
	pkt_set_count(p, PKT_QD, 1);
}

static void loop_two_pointers(struct pkt *p)
{
	/* A label then a pointer back to it: www.www.www... until the name
	 * outgrows 255 octets. */
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_cname(p, PKT_AN, PKT_QNAME, 300, "x.example.com");
	size_t at = p->len;
	pkt_bytes(p, "\x03www", 4);
	pkt_pointer(p, at);
	a_rr_rest(p);
	pkt_count_add(p, PKT_AN, 1);
}

static void name_too_long(struct pkt *p)
{
	/* An owner of five 63-octet labels: 321 octets, over the 255 limit. */
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	for (int i = 0; i < 5; i++) {
		unsigned char label[64];
		label[0] = 63;
		memset(label + 1, 'a' + i, 63);
		pkt_bytes(p, label, sizeof label);
	}
	pkt_bytes(p, "", 1);
	a_rr_rest(p);
	pkt_count_add(p, PKT_AN, 1);
}

static void label_past_end(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_bytes(p, "\x3f" "abc", 4); /* 63 octets announced, 3 present */
	pkt_set_count(p, PKT_AN, 1);
}

static void extended_label(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_bytes(p, "\x41\x00", 2); /* 0b01 label type (RFC 6891 §5) */
	a_rr_rest(p);
	pkt_set_count(p, PKT_AN, 1);
}

static void count_too_high(struct pkt *p)
{
	answer_a(p);
	pkt_set_count(p, PKT_AN, 3);
}

static void a_bad_rdlength(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_a(p, PKT_AN, WWW, 300, "192.0.2.1");
	pkt_rr(p, PKT_AN, WWW, NX_T_A, 1, 300, "\xc0\x00\x02\x02\x00", 5);
}

static void rdlength_past_end(struct pkt *p)
{
	answer_a(p);
	p->buf[p->len - 6] = 0x40; /* RDLENGTH 0x4004 */
}

static void ns_answer(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, "example.com", NX_T_NS);
	pkt_ns(p, PKT_AN, PKT_QNAME, 7200, "ns1.example.net");
	pkt_ns(p, PKT_AN, PKT_QNAME, 3600, "ns2.example.net");
	pkt_a(p, PKT_AR, "ns2.example.net", 3600, "192.0.2.20");
	pkt_a(p, PKT_AR, "ns1.example.net", 3600, "192.0.2.10");
	pkt_aaaa(p, PKT_AR, "ns1.example.net", 3600, "2001:db8::10");
	pkt_a(p, PKT_AR, "ns3.example.net", 3600, "192.0.2.30"); /* not one of ours */
}

static void soa_answer(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, "example.com", NX_T_SOA);
	pkt_soa(p, PKT_AN, PKT_QNAME, 900, 300);
	pkt_ns(p, PKT_NS, PKT_QNAME, 3600, "ns1.example.net");
}

static void soa_nodata_below_apex(struct pkt *p)
{
	/* SOA asked of a name below the apex: NODATA, the zone's SOA in authority. */
	pkt_reply(p, ID, 0, 0, "dev.example.com", NX_T_SOA);
	pkt_soa(p, PKT_NS, "example.com", 3600, 600);
}

/* Expectations: CONTENT/ONLY set the status and whether the content is
 * checked; every field not named is expected zero or empty. */
#define CONTENT(st) .status = (st), .content = true
#define ONLY(st) .status = (st), .content = false

static const struct classify_case classify_cases[] = {
	{"classify: A answer (AA, TTL is the lowest)", answer_a, NULL, 0, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 120, .addrs = {"192.0.2.1", "192.0.2.2"}}},
	{"classify: A answer, owners compressed, SOA kept", answer_a_compressed, NULL, 0, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 120, .addrs = {"192.0.2.1", "192.0.2.2"},
	  .soa_owner = "example.com", .soa_ttl = 900, .soa_minimum = 300}},
	{"classify: AAAA answer", answer_aaaa, NULL, NX_T_AAAA, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 60, .addrs = {"2001:db8::1", "2001:db8::2"}}},
	{"classify: other types, classes and owners skipped", answer_mixed_types, NULL, 0, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 3600, .addrs = {"192.0.2.3"}}},
	{"classify: 0x20 question case still matches", answer_0x20, NULL, 0, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 300, .addrs = {"192.0.2.1", "192.0.2.2"}}},
	{"classify: query name in another case matches", answer_a, "WWW.EXAMPLE.COM.", 0, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 120, .addrs = {"192.0.2.1", "192.0.2.2"}}},
	{"classify: CNAME chain inside the reply", cname_chain, NULL, 0, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 200, .addrs = {"192.0.2.7", "192.0.2.8"},
	  .canon = "b.example.net", .chain = 2}},
	{"classify: CNAME chain in reverse order", cname_chain_reversed, NULL, 0, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 200, .addrs = {"192.0.2.7", "192.0.2.8"},
	  .canon = "b.example.net", .chain = 2}},
	{"classify: CNAME chain leaving the reply", cname_leaves, NULL, 0, true,
	 {CONTENT(NX_CNAME), .aa = true, .ttl = 250, .canon = "target.elsewhere.net", .chain = 2,
	  .next = "target.elsewhere.net"}},
	{"classify: CNAME loop is a loop", cname_loop, NULL, 0, true,
	 {ONLY(NX_LOOP), .aa = true}},
	{"classify: CNAME to itself is a loop", cname_self, NULL, 0, true,
	 {ONLY(NX_LOOP), .aa = true}},
	{"classify: CNAME query answered", cname_query, NULL, NX_T_CNAME, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 300}},
	{"classify: NXDOMAIN, TTL = SOA TTL < MINIMUM", nxdomain_soa_ttl_lower, NULL, 0, true,
	 {CONTENT(NX_NXDOMAIN), .rcode = 3, .aa = true, .ttl = 900, .soa_owner = "example.com",
	  .soa_ttl = 900, .soa_minimum = 86400}},
	{"classify: NXDOMAIN, TTL = MINIMUM < SOA TTL", nxdomain_minimum_lower, NULL, 0, true,
	 {CONTENT(NX_NXDOMAIN), .rcode = 3, .aa = true, .ttl = 300, .soa_owner = "example.com",
	  .soa_ttl = 3600, .soa_minimum = 300}},
	{"classify: NXDOMAIN without SOA, TTL 0", nxdomain_no_soa, NULL, 0, true,
	 {CONTENT(NX_NXDOMAIN), .rcode = 3, .aa = true, .ttl = 0}},
	{"classify: NODATA", nodata, NULL, NX_T_AAAA, true,
	 {CONTENT(NX_NODATA), .aa = true, .ttl = 60, .soa_owner = "example.com", .soa_ttl = 600,
	  .soa_minimum = 60}},
	{"classify: referral with glue", referral, "www.sub.example.com", 0, true,
	 {CONTENT(NX_REFERRAL), .canon = "www.sub.example.com", .next = "sub.example.com",
	  .ns = {"ns1.sub.example.com", "ns2.sub.example.com", "ns3.other.net"}, .ns_ttl = 86400,
	  .glue = {"192.0.2.53", "2001:db8::53", "192.0.2.54"}, .glue_ns = {0, 0, 1}}},
	{"classify: referral without want_aa", referral, "www.sub.example.com", 0, false,
	 {CONTENT(NX_REFERRAL), .canon = "www.sub.example.com", .next = "sub.example.com",
	  .ns = {"ns1.sub.example.com", "ns2.sub.example.com", "ns3.other.net"}, .ns_ttl = 86400,
	  .glue = {"192.0.2.53", "2001:db8::53", "192.0.2.54"}, .glue_ns = {0, 0, 1}}},
	{"classify: NS of an unrelated zone is lame", referral_unrelated, NULL, 0, true,
	 {ONLY(NX_LAME)}},
	{"classify: NS of an unrelated zone, recursive: NODATA", referral_unrelated, NULL, 0, false,
	 {CONTENT(NX_NODATA)}},
	{"classify: REFUSED", refused, NULL, 0, true, {ONLY(NX_REFUSED), .rcode = 5, .aa = true}},
	{"classify: SERVFAIL", servfail, NULL, 0, true,
	 {ONLY(NX_SERVFAIL), .rcode = 2, .aa = true}},
	{"classify: SERVFAIL with an answer section", servfail_with_answer, NULL, 0, false,
	 {ONLY(NX_SERVFAIL), .rcode = 2}},
	{"classify: FORMERR", formerr, NULL, 0, true, {ONLY(NX_RCODE), .rcode = 1, .aa = true}},
	{"classify: NOTIMP", notimp, NULL, 0, true, {ONLY(NX_RCODE), .rcode = 4, .aa = true}},
	{"classify: answer without AA, want_aa: lame", not_aa_answer, NULL, 0, true,
	 {ONLY(NX_LAME)}},
	{"classify: answer without AA, recursive: answer", not_aa_answer, NULL, 0, false,
	 {CONTENT(NX_ANSWER), .ttl = 300, .addrs = {"192.0.2.1"}}},
	{"classify: NXDOMAIN without AA, want_aa: lame", not_aa_nxdomain, NULL, 0, true,
	 {ONLY(NX_LAME), .rcode = 3}},
	{"classify: NXDOMAIN without AA, recursive", not_aa_nxdomain, NULL, 0, false,
	 {CONTENT(NX_NXDOMAIN), .rcode = 3, .ttl = 300, .soa_owner = "example.com", .soa_ttl = 900,
	  .soa_minimum = 300}},
	{"classify: mismatched id", wrong_id, NULL, 0, true, {ONLY(NX_MISMATCH)}},
	{"classify: mismatched question name", wrong_name, NULL, 0, true, {ONLY(NX_MISMATCH)}},
	{"classify: mismatched qtype", wrong_qtype, NULL, 0, true, {ONLY(NX_MISMATCH)}},
	{"classify: mismatched qclass", wrong_qclass, NULL, 0, true, {ONLY(NX_MISMATCH)}},
	{"classify: QR bit clear", qr_clear, NULL, 0, true, {ONLY(NX_MISMATCH)}},
	{"classify: opcode not QUERY", opcode_status, NULL, 0, true, {ONLY(NX_MISMATCH)}},
	{"classify: no question", no_question, NULL, 0, true, {ONLY(NX_MISMATCH)}},
	{"classify: two questions", two_questions, NULL, 0, true, {ONLY(NX_MISMATCH)}},
	{"classify: cut inside an RR", cut_in_rr, NULL, 0, true, {ONLY(NX_MALFORMED), .aa = true}},
	{"classify: cut inside an RR header", cut_in_rr_header, NULL, 0, true,
	 {ONLY(NX_MALFORMED), .aa = true}},
	{"classify: cut inside the question", cut_in_question, NULL, 0, true,
	 {ONLY(NX_MALFORMED)}},
	{"classify: shorter than a header", header_only_short, NULL, 0, true,
	 {ONLY(NX_MALFORMED)}},
	{"classify: TC and no answer: truncated", tc_empty, NULL, 0, true,
	 {ONLY(NX_TRUNCATED), .aa = true, .tc = true}},
	{"classify: TC, answer cut after two whole records", tc_cut_answer, NULL, 0, true,
	 {CONTENT(NX_ANSWER), .aa = true, .tc = true, .ttl = 300,
	  .addrs = {"192.0.2.1", "192.0.2.2"}}},
	{"classify: TC with the answer whole", tc_complete_answer, NULL, 0, true,
	 {CONTENT(NX_ANSWER), .aa = true, .tc = true, .ttl = 300, .addrs = {"192.0.2.1"}}},
	{"classify: TC, referral cut in the authority section", tc_referral_cut_authority,
	 "www.sub.example.com", 0, true,
	 {CONTENT(NX_REFERRAL), .tc = true, .canon = "www.sub.example.com",
	  .next = "sub.example.com", .ns = {"ns1.sub.example.com", "ns2.sub.example.com"},
	  .ns_ttl = 3600}},
	{"classify: TC, referral cut in the additional section", tc_referral_cut_additional,
	 "www.sub.example.com", 0, true,
	 {CONTENT(NX_REFERRAL), .tc = true, .canon = "www.sub.example.com",
	  .next = "sub.example.com", .ns = {"ns1.sub.example.com", "ns2.sub.example.com"},
	  .ns_ttl = 3600, .glue = {"192.0.2.53"}, .glue_ns = {0}}},
	{"classify: garbage after a valid header", garbage_body, NULL, 0, true,
	 {ONLY(NX_MALFORMED)}},
	{"classify: garbage bytes", garbage_all, NULL, 0, true, {ONLY(NX_MISMATCH)}},
	{"classify: compression pointer loop in an owner", loop_in_answer, NULL, 0, true,
	 {ONLY(NX_MALFORMED), .aa = true}},
	{"classify: compression pointer loop in the question", loop_in_question, NULL, 0, true,
	 {ONLY(NX_MALFORMED)}},
	{"classify: label + pointer loop outgrows a name", loop_two_pointers, NULL, 0, true,
	 {ONLY(NX_MALFORMED), .aa = true}},
	{"classify: owner name over 255 octets", name_too_long, NULL, 0, true,
	 {ONLY(NX_MALFORMED), .aa = true}},
	{"classify: label running past the end", label_past_end, NULL, 0, true,
	 {ONLY(NX_MALFORMED), .aa = true}},
	{"classify: extended label type", extended_label, NULL, 0, true,
	 {ONLY(NX_MALFORMED), .aa = true}},
	{"classify: ANCOUNT larger than the records", count_too_high, NULL, 0, true,
	 {ONLY(NX_MALFORMED), .aa = true}},
	{"classify: A record with RDLENGTH 5", a_bad_rdlength, NULL, 0, true,
	 {ONLY(NX_MALFORMED), .aa = true}},
	{"classify: RDLENGTH past the end", rdlength_past_end, NULL, 0, true,
	 {ONLY(NX_MALFORMED), .aa = true}},
	{"classify: NS query answer with glue", ns_answer, "example.com", NX_T_NS, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 3600, .canon = "example.com",
	  .ns = {"ns1.example.net", "ns2.example.net"}, .ns_ttl = 3600,
	  .glue = {"192.0.2.20", "192.0.2.10", "2001:db8::10"}, .glue_ns = {1, 0, 0}}},
	{"classify: SOA query answer", soa_answer, "example.com", NX_T_SOA, true,
	 {CONTENT(NX_ANSWER), .aa = true, .ttl = 900, .canon = "example.com",
	  .soa_owner = "example.com", .soa_ttl = 900, .soa_minimum = 300}},
	{"classify: SOA query below the apex, recursive: NODATA", soa_nodata_below_apex,
	 "dev.example.com", NX_T_SOA, false,
	 {CONTENT(NX_NODATA), .ttl = 600, .canon = "dev.example.com", .soa_owner = "example.com",
	  .soa_ttl = 3600, .soa_minimum = 600}},
};

/* ---- names that are not host names (glibc's res_hnok) ---- */

/* A reply that takes `bad` as a CNAME target, an NS target, a referral's
 * zone, an SOA owner or MNAME. The whole reply is then malformed, with one
 * log line naming what and where; names glibc accepts pass untouched. */
struct name_case {
	const char *name;
	void (*build)(struct pkt *p, const char *bad);
	const char *bad;
	const char *qname; /* NULL: WWW */
	int qtype;         /* 0: A */
	enum nx_status status;
	const char *log; /* the whole stderr output at debug level */
	const char *next; /* NX_CNAME: the target kept */
};

static void cname_to(struct pkt *p, const char *target)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_cname(p, PKT_AN, PKT_QNAME, 300, target);
}

static void cname_then_a(struct pkt *p, const char *target)
{
	/* The addresses are there, under the strange name: still refused. */
	cname_to(p, target);
	pkt_a(p, PKT_AN, target, 300, "192.0.2.66");
}

static void ns_target(struct pkt *p, const char *host)
{
	pkt_reply(p, ID, PKT_AA, 0, "example.com", NX_T_NS);
	pkt_ns(p, PKT_AN, PKT_QNAME, 3600, "ns1.example.net");
	pkt_ns(p, PKT_AN, PKT_QNAME, 3600, host);
}

static void referral_target(struct pkt *p, const char *host)
{
	pkt_reply(p, ID, 0, 0, "www.sub.example.com", NX_T_A);
	pkt_ns(p, PKT_NS, "sub.example.com", 3600, host);
	pkt_a(p, PKT_AR, host, 3600, "192.0.2.53");
}

static void referral_zone(struct pkt *p, const char *zone)
{
	char q[NX_NAMEMAX];
	snprintf(q, sizeof q, "www.%s", zone);
	pkt_reply(p, ID, 0, 0, q, NX_T_A);
	pkt_ns(p, PKT_NS, zone, 3600, "ns1.example.net");
}

static void nxdomain_soa_owner(struct pkt *p, const char *owner)
{
	pkt_reply(p, ID, PKT_AA, PKT_RCODE_NXDOMAIN, WWW, NX_T_A);
	pkt_soa(p, PKT_NS, owner, 900, 300);
}

static void nxdomain_soa_mname(struct pkt *p, const char *mname)
{
	pkt_reply(p, ID, PKT_AA, PKT_RCODE_NXDOMAIN, WWW, NX_T_A);
	pkt_soa_names(p, PKT_NS, "example.com", 900, mname, "hostmaster.example.com", 300);
}

static void nxdomain_soa_rname(struct pkt *p, const char *rname)
{
	pkt_reply(p, ID, PKT_AA, PKT_RCODE_NXDOMAIN, WWW, NX_T_A);
	pkt_soa_names(p, PKT_NS, "example.com", 900, "ns.example.com", rname, 300);
}

#define IGNORED(q, what, shown) \
	"nxretry: " q ": reply ignored: its " what " '" shown "' is not a host name\n"

static const struct name_case name_cases[] = {
	{"host name: CNAME target with a newline", cname_to, "a\nb.example.com", NULL, 0,
	 NX_MALFORMED, IGNORED(WWW, "CNAME target", "a\\010b.example.com"), NULL},
	{"host name: CNAME target with ESC", cname_to, "\x1b[0mx.example.com", NULL, 0,
	 NX_MALFORMED, IGNORED(WWW, "CNAME target", "\\027[0mx.example.com"), NULL},
	{"host name: CNAME target $(id)", cname_to, "$(id).example.com", NULL, 0, NX_MALFORMED,
	 IGNORED(WWW, "CNAME target", "$(id).example.com"), NULL},
	{"host name: CNAME target with a space", cname_to, "a b.example.com", NULL, 0,
	 NX_MALFORMED, IGNORED(WWW, "CNAME target", "a b.example.com"), NULL},
	{"host name: CNAME target with a backslash", cname_to, "a\\b.example.com", NULL, 0,
	 NX_MALFORMED, IGNORED(WWW, "CNAME target", "a\\\\b.example.com"), NULL},
	{"host name: CNAME target with a byte over 0x7f", cname_to, "caf\xc3\xa9.example.com",
	 NULL, 0, NX_MALFORMED, IGNORED(WWW, "CNAME target", "caf\\195\\169.example.com"),
	 NULL},
	{"host name: CNAME target '*' (glibc 2.36 refuses it)", cname_to, "*.example.com", NULL,
	 0, NX_MALFORMED, IGNORED(WWW, "CNAME target", "*.example.com"), NULL},
	{"host name: CNAME target with a leading '-'", cname_to, "-x.example.com", NULL, 0,
	 NX_MALFORMED, IGNORED(WWW, "CNAME target", "-x.example.com"), NULL},
	{"host name: CNAME target to the root", cname_to, "", NULL, 0, NX_MALFORMED,
	 IGNORED(WWW, "CNAME target", ""), NULL},
	{"host name: addresses under a bad CNAME target refused", cname_then_a,
	 "a\nb.example.com", NULL, 0, NX_MALFORMED,
	 IGNORED(WWW, "CNAME target", "a\\010b.example.com"), NULL},
	{"host name: CNAME target with '_' accepted", cname_to, "_srv.example.com", NULL, 0,
	 NX_CNAME, "", "_srv.example.com"},
	{"host name: '-' inside a label or a later label accepted", cname_to,
	 "a-b.-c.example.com", NULL, 0, NX_CNAME, "", "a-b.-c.example.com"},
	{"host name: digits accepted", cname_to,
	 "x9.example.com", NULL, 0, NX_CNAME, "", "x9.example.com"},
	{"host name: NS target with a newline", ns_target, "ns\n2.example.net", "example.com",
	 NX_T_NS, NX_MALFORMED, IGNORED("example.com", "NS target", "ns\\0102.example.net"),
	 NULL},
	{"host name: referral NS target $(id)", referral_target, "$(id).example.net",
	 "www.sub.example.com", 0, NX_MALFORMED,
	 IGNORED("www.sub.example.com", "NS target", "$(id).example.net"), NULL},
	{"host name: referral to a zone with ';'", referral_zone, "s;b.example.com",
	 "www.s;b.example.com", 0, NX_MALFORMED,
	 IGNORED("www.s;b.example.com", "delegated zone", "s;b.example.com"), NULL},
	{"host name: SOA owner with ESC", nxdomain_soa_owner, "ex\x1b""ample.com", NULL, 0,
	 NX_MALFORMED, IGNORED(WWW, "SOA owner", "ex\\027ample.com"), NULL},
	{"host name: SOA MNAME with a space", nxdomain_soa_mname, "ns 1.example.com", NULL, 0,
	 NX_MALFORMED, IGNORED(WWW, "SOA primary server", "ns 1.example.com"), NULL},
	{"host name: SOA RNAME is a mailbox, not checked", nxdomain_soa_rname,
	 "john doe+dns.example.com", NULL, 0, NX_NXDOMAIN, "", NULL},
	{"host name: SOA MNAME the root accepted", nxdomain_soa_mname, "", NULL, 0, NX_NXDOMAIN,
	 "", NULL},
};

static void test_host_names(void **state)
{
	const struct name_case *t = *state;
	struct pkt p;
	t->build(&p, t->bad);
	struct nx_reply *r = malloc(sizeof *r);
	assert_non_null(r);
	nx_log_level = NX_LOG_DEBUG;
	util_capture_begin();
	nx_message_classify(p.buf, p.len, ID, t->qname ? t->qname : WWW,
			    t->qtype ? t->qtype : NX_T_A, true, r);
	char *log = util_capture_end();
	nx_log_level = NX_LOG_WARN;
	struct nx_reply copy = *r;
	free(r);
	util_expect_text(log, t->log);
	if (copy.status != t->status)
		fail_msg("status %s, expected %s", nx_status_name(copy.status),
			 nx_status_name(t->status));
	assert_string_equal(copy.next, t->next ? t->next : "");
	if (t->status == NX_MALFORMED) {
		/* Nothing of it is kept: no name, no address. */
		assert_int_equal(copy.naddrs, 0);
		assert_int_equal(copy.nns, 0);
		assert_int_equal(copy.nglue, 0);
		assert_false(copy.has_soa);
		assert_string_equal(copy.canon, "");
		assert_string_equal(copy.soa_owner, "");
	}
}

/* The rule itself, on presentation-form names. */
static void test_name_host(void **state)
{
	(void)state;
	static const char *const good[] = {
		"a", "example.com", "_dmarc.example.com", "a_b-c.d", "a.-b", "A9.B",
		"x.y.z.w.v", "0.1.2.3",
	};
	static const char *const bad[] = {
		"", ".", "a.", ".a", "a..b", "-a.b", "a b", "a\nb", "*.a", "a*b", "a$b",
		"a/b", "a\\b", "caf\xc3\xa9", "a\x7f", "a@b", "a:b",
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!nx_name_host(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (nx_name_host(bad[i]))
			fail_msg("bad name %zu accepted", i);
	/* Lengths: 63-octet labels, 253 characters in all. */
	char name[300];
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = 0;
	assert_true(nx_name_host(name));
	name[253] = 'a';
	name[254] = 0;
	assert_false(nx_name_host(name)); /* 254 characters */
	memset(name, 'b', 64);
	name[64] = 0;
	assert_false(nx_name_host(name)); /* a 64-character label */
	name[63] = 0;
	assert_true(nx_name_host(name));
}

/* ---- cases that do not fit the table ---- */

static void classify_pkt(const struct pkt *p, const char *name, int qtype, bool want_aa,
			 struct nx_reply *r)
{
	nx_message_classify(p->buf, p->len, ID, name, qtype, want_aa, r);
}

static void test_classify_200_records(void **state)
{
	(void)state;
	struct pkt p;
	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_A);
	for (int i = 0; i < 200; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "10.0.%d.%d", i / 100, i % 100);
		pkt_a(&p, PKT_AN, PKT_QNAME, 300, ip);
	}
	pkt_soa(&p, PKT_NS, "example.com", 900, 300);
	assert_int_equal(pkt_count(&p, PKT_AN), 200);
	struct nx_reply r;
	classify_pkt(&p, WWW, NX_T_A, true, &r);
	assert_int_equal(r.status, NX_ANSWER);
	assert_int_equal(r.naddrs, NX_MAXADDRS);
	for (int i = 0; i < NX_MAXADDRS; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "10.0.%d.%d", i / 100, i % 100);
		assert_addr(&r.addrs[i], ip, "addrs", i);
	}
	assert_int_equal(r.ttl, 300);
	assert_string_equal(r.canon, WWW);
	assert_int_equal(r.chain, 0);
}

static void test_classify_status_names(void **state)
{
	(void)state;
	assert_string_equal(nx_status_name(NX_ANSWER), "answer");
	assert_string_equal(nx_status_name(NX_NXDOMAIN), "NXDOMAIN");
	assert_string_equal(nx_status_name(NX_REFUSED), "REFUSED");
	assert_string_equal(nx_status_name(NX_ERROR), "local error");
	assert_string_equal(nx_status_name((enum nx_status)99), "?");
	for (int s = NX_ANSWER; s <= NX_ERROR; s++)
		assert_string_not_equal(nx_status_name((enum nx_status)s), "?");
}

static void test_classify_null_and_bad_name(void **state)
{
	(void)state;
	struct pkt p;
	struct nx_reply r;
	answer_a(&p);
	nx_message_classify(NULL, 0, ID, WWW, NX_T_A, true, &r);
	assert_int_equal(r.status, NX_MALFORMED);
	classify_pkt(&p, "a..b", NX_T_A, true, &r);
	assert_int_equal(r.status, NX_MALFORMED);
}

/* Every prefix of a good reply is rejected without reading past it
 * (valgrind and ASan see any overread of the exact-size copy). */
static void test_classify_every_prefix(void **state)
{
	(void)state;
	struct pkt p;
	referral(&p);
	for (size_t n = 0; n < p.len; n++) {
		unsigned char *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, p.buf, n);
		struct nx_reply r;
		nx_message_classify(copy, n, ID, "www.sub.example.com", NX_T_A, true, &r);
		free(copy);
		if (r.status != NX_MALFORMED)
			fail_msg("prefix of %zu/%zu bytes: %s", n, p.len, nx_status_name(r.status));
	}
}

/* The SOA's MNAME is kept, in canonical form: servers whose SOAs name one
 * primary share one history of serials (nameserver.c's settling). */
static void test_classify_soa_mname(void **state)
{
	(void)state;
	struct pkt p;
	struct nx_reply r;
	nxdomain_soa_mname(&p, "NS1.Example.COM");
	nx_message_classify(p.buf, p.len, ID, WWW, NX_T_A, true, &r);
	assert_int_equal(r.status, NX_NXDOMAIN);
	assert_string_equal(r.soa_mname, "ns1.example.com");
	nxdomain_soa_mname(&p, "");
	nx_message_classify(p.buf, p.len, ID, WWW, NX_T_A, true, &r);
	assert_int_equal(r.status, NX_NXDOMAIN);
	assert_string_equal(r.soa_mname, "");
}

/* ---- the records of a type other than A/AAAA (nx_reply.rrs) ---- */

/* An RR whose rdata is `fixed` bytes then a name written as labels `prefix`
 * (wire form) followed by a pointer to the question's name. */
static void rr_named(struct pkt *p, const char *owner, int type, uint32_t ttl, const char *fixed,
		     size_t nfixed, const char *prefix)
{
	pkt_rr_head(p, PKT_AN, owner, type, ttl);
	pkt_u16(p, (unsigned)(nfixed + strlen(prefix) + 2));
	pkt_bytes(p, fixed, nfixed);
	pkt_bytes(p, prefix, strlen(prefix));
	pkt_pointer(p, 12);
	pkt_count_add(p, PKT_AN, 1);
}

static void rec_txt(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_TXT);
	pkt_rr(p, PKT_AN, PKT_QNAME, NX_T_TXT, 1, 300, "\5hello\2hi", 9);
	pkt_rr(p, PKT_AN, PKT_QNAME, NX_T_TXT, 1, 60, "\0", 1);
}

static void rec_mx(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_MX);
	rr_named(p, PKT_QNAME, NX_T_MX, 3600, "\0\12", 2, "\4mail");
}

static void rec_srv_chain(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_SRV);
	pkt_cname(p, PKT_AN, PKT_QNAME, 120, "srv.example.com");
	rr_named(p, "srv.example.com", NX_T_SRV, 90, "\0\1\0\2\1\273", 6, "");
}

static void rec_caa(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, 257);
	pkt_rr(p, PKT_AN, PKT_QNAME, 257, 1, 30, "\0\5issueletsencrypt.org", 22);
}

static void rec_opaque(struct pkt *p)
{
	/* A pointer-like pair in an unknown type's rdata is data (RFC 3597 §4). */
	pkt_reply(p, ID, PKT_AA, 0, WWW, 65280);
	pkt_rr(p, PKT_AN, PKT_QNAME, 65280, 1, 7, "\300\14\0\1", 4);
}

static void rec_soa_full(struct pkt *p)
{
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_SOA);
	pkt_rr_head(p, PKT_AN, PKT_QNAME, NX_T_SOA, 5);
	pkt_u16(p, 5 + 2 + 20);
	pkt_bytes(p, "\2ns\300\14", 5);
	pkt_pointer(p, 12);
	pkt_bytes(p, "\0\0\0\7\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4", 20);
	pkt_count_add(p, PKT_AN, 1);
}

static void rec_name_past_rdata(struct pkt *p)
{
	/* MX whose RDLENGTH ends inside its name: the set is cut. */
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_MX);
	pkt_rr_head(p, PKT_AN, PKT_QNAME, NX_T_MX, 60);
	pkt_u16(p, 5);
	pkt_bytes(p, "\0\1\4ma", 5);
	pkt_count_add(p, PKT_AN, 1);
	pkt_rr(p, PKT_AN, PKT_QNAME, NX_T_TXT, 1, 1, "\0", 1);
}

static void rec_over_budget(struct pkt *p)
{
	static char big[2001];
	memset(big, 'x', sizeof big);
	big[0] = (char)200;
	pkt_reply(p, ID, PKT_AA, 0, WWW, NX_T_TXT);
	for (int i = 0; i < 3; i++) {
		big[1] = (char)('a' + i); /* three distinct records, 6003 bytes */
		pkt_rr(p, PKT_AN, PKT_QNAME, NX_T_TXT, 1, 60, big, sizeof big);
	}
}

struct want_rr {
	uint32_t ttl;
	size_t len;
	const char *bytes;
};

struct records_case {
	const char *name;
	void (*build)(struct pkt *p);
	int qtype;
	enum nx_status status;
	const char *canon;
	bool cut;
	int n;
	struct want_rr want[2];
};

#define WWW_WIRE "\3www\7example\3com\0"
static const struct records_case records_cases[] = {
	{"records: two TXT, each with its TTL", rec_txt, NX_T_TXT, NX_ANSWER, WWW, false, 2,
	 {{300, 9, "\5hello\2hi"}, {60, 1, "\0"}}},
	{"records: MX target decompressed", rec_mx, NX_T_MX, NX_ANSWER, WWW, false, 1,
	 {{3600, 2 + 5 + 17, "\0\12\4mail" WWW_WIRE}}},
	{"records: SRV at the end of a CNAME", rec_srv_chain, NX_T_SRV, NX_ANSWER,
	 "srv.example.com", false, 1, {{90, 6 + 17, "\0\1\0\2\1\273" WWW_WIRE}}},
	{"records: CAA copied as it came", rec_caa, 257, NX_ANSWER, WWW, false, 1,
	 {{30, 22, "\0\5issueletsencrypt.org"}}},
	{"records: unknown type opaque, pointer-like bytes kept", rec_opaque, 65280, NX_ANSWER, WWW,
	 false, 1, {{7, 4, "\300\14\0\1"}}},
	{"records: SOA names decompressed, 20 fixed bytes kept", rec_soa_full, NX_T_SOA, NX_ANSWER,
	 WWW, false, 1,
	 {{5, 3 + 17 + 17 + 20,
	   "\2ns" WWW_WIRE WWW_WIRE "\0\0\0\7\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4"}}},
	{"records: a name past RDLENGTH cuts the set", rec_name_past_rdata, NX_T_MX, NX_ANSWER, WWW,
	 true, 0, {{0, 0, ""}}},
	{"records: over NX_MAXRDATA bytes cuts the set", rec_over_budget, NX_T_TXT, NX_ANSWER, WWW,
	 true, 2, {{60, 2001, NULL}, {60, 2001, NULL}}},
};

static void test_records(void **state)
{
	const struct records_case *t = *state;
	struct pkt *p = calloc(1, sizeof *p);
	struct nx_reply *r = calloc(1, sizeof *r);
	assert_non_null(p);
	assert_non_null(r);
	t->build(p);
	nx_message_classify(p->buf, p->len, ID, WWW, t->qtype, true, r);
	assert_int_equal(r->status, t->status);
	assert_string_equal(r->canon, t->canon);
	assert_int_equal(r->rrs.cut, t->cut);
	assert_int_equal(r->rrs.n, t->n);
	size_t used = 0;
	for (int i = 0; i < t->n; i++) {
		assert_int_equal(r->rrs.rr[i].ttl, t->want[i].ttl);
		assert_int_equal(r->rrs.rr[i].len, t->want[i].len);
		assert_int_equal(r->rrs.rr[i].off, used);
		if (t->want[i].bytes)
			assert_memory_equal(r->rrs.data + r->rrs.rr[i].off, t->want[i].bytes,
					    t->want[i].len);
		used += t->want[i].len;
	}
	assert_int_equal(r->rrs.used, used);
	/* A and AAAA keep addresses only. */
	if (t->qtype == NX_T_TXT) {
		struct pkt *a = calloc(1, sizeof *a);
		assert_non_null(a);
		pkt_reply(a, ID, PKT_AA, 0, WWW, NX_T_A);
		pkt_a(a, PKT_AN, PKT_QNAME, 60, "192.0.2.1");
		nx_message_classify(a->buf, a->len, ID, WWW, NX_T_A, true, r);
		assert_int_equal(r->naddrs, 1);
		assert_int_equal(r->rrs.n, 0);
		free(a);
	}
	free(p);
	free(r);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(query_cases) + ARRAY_SIZE(classify_cases) +
				       ARRAY_SIZE(name_cases) + ARRAY_SIZE(records_cases) + 8];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_query, query_cases);
	UTIL_ADD_TEST(tests, n, test_query_labels);
	UTIL_ADD_TEST(tests, n, test_query_longest_name);
	UTIL_ADD_ROWS(tests, n, test_classify, classify_cases);
	UTIL_ADD_ROWS(tests, n, test_host_names, name_cases);
	UTIL_ADD_TEST(tests, n, test_name_host);
	UTIL_ADD_TEST(tests, n, test_classify_200_records);
	UTIL_ADD_TEST(tests, n, test_classify_status_names);
	UTIL_ADD_TEST(tests, n, test_classify_null_and_bad_name);
	UTIL_ADD_TEST(tests, n, test_classify_every_prefix);
	UTIL_ADD_TEST(tests, n, test_classify_soa_mname);
	UTIL_ADD_ROWS(tests, n, test_records, records_cases);
	return UTIL_RUN("message", tests, n);
}
