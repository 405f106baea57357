/* shim/stub/wire.c: a client's query read, answers and errors built (the
 * answers read back by the engine's own parser, nx_message_classify), and
 * the pending table (pending.c). */
#include "util.h"

#include "stub.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID 0x1234

/* ---- nx_stub_parse_query ---- */

enum edit { NONE, CUT, OPCODE2, QR, TWO_QUESTIONS, AN1, TWO_OPT, OPT_OWNER, POINTER, LABEL_DOT, BIG_OPT_RD };

struct parse_case {
	const char *name;
	const char *qname;
	int qtype;
	int edns;        /* the OPT's payload size; -1: no OPT */
	bool do_bit;
	enum edit edit;
	size_t cut;      /* CUT: the message's length */
	enum nx_query_verdict want;
	const char *want_name;
	uint16_t want_size;
};

static const struct parse_case parse_cases[] = {
	{"parse: A, no EDNS", "www.Example.COM", NX_T_A, -1, false, NONE, 0, NX_QUERY_OK,
	 "www.example.com", 512},
	{"parse: AAAA, EDNS 1232, DO", "a.b", NX_T_AAAA, 1232, true, NONE, 0, NX_QUERY_OK, "a.b", 1232},
	{"parse: EDNS below 512 counts as 512", "a.b", NX_T_A, 100, false, NONE, 0, NX_QUERY_OK, "a.b",
	 512},
	{"parse: EDNS 65535", "a.b", NX_T_A, 65535, false, NONE, 0, NX_QUERY_OK, "a.b", 65535},
	{"parse: root", "", NX_T_A, -1, false, NONE, 0, NX_QUERY_OK, "", 512},
	{"parse: a label with a dot is no host name", "a.b", NX_T_A, -1, false, LABEL_DOT, 0,
	 NX_QUERY_OK, "", 512},
	{"parse: 11 bytes dropped", "a.b", NX_T_A, -1, false, CUT, 11, NX_QUERY_DROP, "", 0},
	{"parse: header only: FORMERR", "a.b", NX_T_A, -1, false, CUT, 12, NX_QUERY_FORMERR, "", 512},
	{"parse: name cut: FORMERR", "a.b", NX_T_A, -1, false, CUT, 14, NX_QUERY_FORMERR, "", 512},
	{"parse: class cut: FORMERR", "a.b", NX_T_A, -1, false, CUT, 12 + 5 + 3, NX_QUERY_FORMERR, "",
	 512},
	{"parse: OPT cut: FORMERR", "a.b", NX_T_A, 1232, false, CUT, 12 + 5 + 4 + 5, NX_QUERY_FORMERR,
	 "", 512},
	{"parse: a response is dropped", "a.b", NX_T_A, -1, false, QR, 0, NX_QUERY_DROP, "", 0},
	{"parse: opcode 2: NOTIMP", "a.b", NX_T_A, -1, false, OPCODE2, 0, NX_QUERY_NOTIMP, "", 0},
	{"parse: 2 questions: FORMERR", "a.b", NX_T_A, -1, false, TWO_QUESTIONS, 0, NX_QUERY_FORMERR, "",
	 512},
	{"parse: an answer record: FORMERR", "a.b", NX_T_A, -1, false, AN1, 0, NX_QUERY_FORMERR, "", 512},
	{"parse: two OPT: FORMERR", "a.b", NX_T_A, 1232, false, TWO_OPT, 0, NX_QUERY_FORMERR, "", 1232},
	{"parse: OPT not at the root: FORMERR", "a.b", NX_T_A, -1, false, OPT_OWNER, 0,
	 NX_QUERY_FORMERR, "", 512},
	{"parse: compressed question: FORMERR", "a.b", NX_T_A, -1, false, POINTER, 0, NX_QUERY_FORMERR,
	 "", 512},
	{"parse: RD and 4096", "x.y", NX_T_A, 4096, false, BIG_OPT_RD, 0, NX_QUERY_OK, "x.y", 4096},
};

static void opt(struct pkt *p, const char *owner, unsigned size, bool do_bit)
{
	pkt_rr_head(p, PKT_AR, owner, NX_T_OPT, 0);
	/* pkt_rr_head wrote class IN and TTL 0: the OPT's are size and flags */
	p->buf[p->len - 6] = (unsigned char)(size >> 8);
	p->buf[p->len - 5] = (unsigned char)size;
	p->buf[p->len - 2] = do_bit ? 0x80 : 0;
	pkt_u16(p, 0);
	pkt_count_add(p, PKT_AR, 1);
}

static void query(struct pkt *p, const struct parse_case *t)
{
	pkt_init(p, ID, t->edit == BIG_OPT_RD ? PKT_RD : 0, 0);
	if (t->edit == POINTER) {
		pkt_pointer(p, 12);
		pkt_u16(p, NX_T_A);
		pkt_u16(p, 1);
		pkt_count_add(p, PKT_QD, 1);
	} else if (t->edit == LABEL_DOT) {
		pkt_bytes(p, "\3a.b\0", 5);
		pkt_u16(p, NX_T_A);
		pkt_u16(p, 1);
		pkt_count_add(p, PKT_QD, 1);
	} else {
		pkt_question(p, t->qname, t->qtype);
	}
	if (t->edit == TWO_QUESTIONS)
		pkt_question(p, "c.d", NX_T_A);
	if (t->edit == AN1)
		pkt_a(p, PKT_AN, "a.b", 1, "192.0.2.1");
	if (t->edit == OPT_OWNER)
		opt(p, "a", 1232, false);
	if (t->edns >= 0)
		opt(p, "", (unsigned)t->edns, t->do_bit);
	if (t->edit == TWO_OPT)
		opt(p, "", 1232, false);
	if (t->edit == QR)
		p->buf[2] |= 0x80;
	if (t->edit == OPCODE2)
		p->buf[2] |= 2 << 3;
	if (t->edit == CUT)
		pkt_truncate(p, t->cut);
}

static void test_parse(void **state)
{
	const struct parse_case *t = *state;
	struct pkt p;
	query(&p, t);
	struct nx_question q;
	assert_int_equal(nx_stub_parse_query(p.buf, p.len, &q), t->want);
	if (t->want == NX_QUERY_DROP || t->want == NX_QUERY_NOTIMP)
		return;
	assert_int_equal(q.id, ID);
	assert_int_equal(q.udp_size, t->want_size);
	if (t->want != NX_QUERY_OK)
		return;
	assert_string_equal(q.name, t->want_name);
	assert_int_equal(q.qtype, t->qtype);
	assert_int_equal(q.qclass, NX_C_IN);
	assert_int_equal(q.edns, t->edns >= 0);
	assert_int_equal(q.do_bit, t->do_bit);
	assert_int_equal(q.rd, t->edit == BIG_OPT_RD);
	assert_memory_equal(q.qname, p.buf + 12, q.qname_len); /* the client's letter case */
}

/* Every prefix of a valid query parses or is refused, never read past. */
static void test_parse_prefixes(void **state)
{
	(void)state;
	struct pkt p;
	query(&p, &parse_cases[1]);
	for (size_t n = 0; n <= p.len; n++) {
		unsigned char *copy = malloc(n ? n : 1);
		memcpy(copy, p.buf, n);
		struct nx_question q;
		enum nx_query_verdict v = nx_stub_parse_query(copy, n, &q);
		assert_int_equal(v, n < 12 ? NX_QUERY_DROP : n == p.len ? NX_QUERY_OK : NX_QUERY_FORMERR);
		free(copy);
	}
}

/* ---- nx_stub_error ---- */

static void test_error(void **state)
{
	(void)state;
	struct pkt p;
	pkt_init(&p, ID, PKT_RD, 0);
	pkt_question(&p, "Mixed.Case", NX_T_AAAA);
	unsigned char out[600];
	size_t len = nx_stub_error(p.buf, p.len, NX_RCODE_FORMERR, out, sizeof out);
	assert_int_equal(len, p.len);
	const unsigned char head[12] = {0x12, 0x34, 0x81, 0x81, 0, 1, 0, 0, 0, 0, 0, 0};
	assert_memory_equal(out, head, 12);
	assert_memory_equal(out + 12, p.buf + 12, p.len - 12);
	/* Opcode 2 (STATUS): header only, opcode echoed. */
	p.buf[2] |= 2 << 3;
	len = nx_stub_error(p.buf, p.len, NX_RCODE_NOTIMP, out, sizeof out);
	assert_int_equal(len, 12);
	assert_int_equal(out[2], 0x80 | 2 << 3 | 1);
	assert_int_equal(out[3], 0x80 | NX_RCODE_NOTIMP);
	assert_int_equal(out[5], 0);
	assert_int_equal(nx_stub_error(p.buf, 11, NX_RCODE_FORMERR, out, sizeof out), 0);
}

/* ---- nx_stub_answer ---- */

struct answer_case {
	const char *name;
	const char *qname; /* as the client wrote it */
	int qtype;
	int edns;          /* -1: none */
	bool do_bit;
	enum nx_outcome outcome;
	int naliases;      /* chain c1.example, c2.example... */
	int naddrs;        /* 192.0.2.1... / 2001:db8::1... */
	size_t max;
	bool want_tc;
	int want_records;
	enum nx_status want_status;
};

static const struct answer_case answer_cases[] = {
	{"answer: one A", "New.Example", NX_T_A, -1, false, NX_OUT_FOUND, 0, 1, 512, false, 1,
	 NX_ANSWER},
	{"answer: AAAA, EDNS with DO", "new.example", NX_T_AAAA, 1232, true, NX_OUT_FOUND, 0, 2, 1232,
	 false, 2, NX_ANSWER},
	{"answer: a chain of 3 and 2 A", "A.Example", NX_T_A, 1232, false, NX_OUT_FOUND, 3, 2, 1232,
	 false, 5, NX_ANSWER},
	{"answer: NODATA", "n.example", NX_T_A, -1, false, NX_OUT_NODATA, 0, 0, 512, false, 0,
	 NX_NODATA},
	/* no SOA: to a resolver's parser, a chain that leaves the reply */
	{"answer: a chain to no data", "n.example", NX_T_AAAA, -1, false, NX_OUT_ALIAS_NODATA, 2, 0, 512,
	 false, 2, NX_CNAME},
	/* 12 + 15 (question) + 48 * 16 = 795 bytes: over 512, TC; the OPT adds 11. */
	{"answer: 48 A over 512: TC", "n.example", NX_T_A, -1, false, NX_OUT_FOUND, 0, 48, 512, true,
	 0, NX_TRUNCATED},
	{"answer: 48 A exactly at the size", "n.example", NX_T_A, -1, false, NX_OUT_FOUND, 0, 48, 795,
	 false, 48, NX_ANSWER},
	{"answer: 48 A one byte short: TC", "n.example", NX_T_A, -1, false, NX_OUT_FOUND, 0, 48, 794,
	 true, 0, NX_TRUNCATED},
	{"answer: with OPT exactly at the size", "n.example", NX_T_A, 512, false, NX_OUT_FOUND, 0, 48,
	 806, false, 48, NX_ANSWER},
	{"answer: with OPT one byte short: TC", "n.example", NX_T_A, 512, false, NX_OUT_FOUND, 0, 48,
	 805, true, 0, NX_TRUNCATED},
	{"answer: 8 links, 48 AAAA over TCP", "n.example", NX_T_AAAA, -1, false, NX_OUT_FOUND, 8, 48,
	 65535, false, 56, NX_ANSWER},
};

static void found_for(const struct answer_case *t, struct nx_found *f)
{
	memset(f, 0, sizeof *f);
	f->outcome = t->outcome;
	f->ttl = 42;
	for (int i = 0; i < t->naliases; i++)
		snprintf(f->aliases[i], sizeof f->aliases[i], "C%d.example", i + 1);
	f->naliases = t->naliases;
	snprintf(f->canon, sizeof f->canon, "%s", t->naliases ? f->aliases[t->naliases - 1] : t->qname);
	for (int i = 0; i < t->naddrs; i++) {
		char ip[64];
		/* both families in the list: only the asked one is written */
		snprintf(ip, sizeof ip, t->qtype == NX_T_A ? "192.0.2.%d" : "2001:db8::%x", i + 1);
		f->addrs[f->naddrs].family = t->qtype == NX_T_A ? AF_INET : AF_INET6;
		inet_pton(f->addrs[f->naddrs].family, ip, f->addrs[f->naddrs].bytes);
		f->naddrs++;
	}
	if (f->naddrs < NX_MAXADDRS && t->naddrs) {
		f->addrs[f->naddrs].family = t->qtype == NX_T_A ? AF_INET6 : AF_INET;
		f->naddrs++;
	}
}

static void test_answer(void **state)
{
	const struct answer_case *t = *state;
	struct pkt p;
	pkt_init(&p, ID, PKT_RD, 0);
	pkt_question(&p, t->qname, t->qtype);
	if (t->edns >= 0)
		opt(&p, "", (unsigned)t->edns, t->do_bit);
	struct nx_question q;
	assert_int_equal(nx_stub_parse_query(p.buf, p.len, &q), NX_QUERY_OK);
	struct nx_found f;
	found_for(t, &f);
	unsigned char out[NX_STUB_ANSWER_MAX + 1];
	memset(out, 0xee, sizeof out);
	size_t len = nx_stub_answer(&q, &f, t->max, out, NX_STUB_ANSWER_MAX);
	assert_true(len > 0 && len <= t->max);
	assert_int_equal(out[NX_STUB_ANSWER_MAX], 0xee); /* nothing past outlen */
	assert_int_equal(out[0] << 8 | out[1], ID);
	assert_int_equal(out[2], 0x80 | (t->want_tc ? 0x02 : 0) | 0x01); /* QR, TC, RD; AA=0 */
	assert_int_equal(out[3], 0x80);                                  /* RA, NOERROR */
	assert_int_equal(out[6] << 8 | out[7], t->want_records);
	assert_int_equal(out[10] << 8 | out[11], t->edns >= 0);
	assert_memory_equal(out + 12, p.buf + 12, q.qname_len + 4); /* the question as sent */
	if (t->edns >= 0) {
		const unsigned char tail[11] = {0, 0, 41, NX_STUB_EDNS_SIZE >> 8, NX_STUB_EDNS_SIZE & 0xff,
						0, 0, t->do_bit ? 0x80 : 0, 0, 0, 0};
		assert_memory_equal(out + len - 11, tail, 11);
	}
	/* The engine's parser reads it as a resolver's reply. */
	struct nx_reply *r = malloc(sizeof *r);
	nx_message_classify(out, len, ID, t->qname, t->qtype, false, r);
	assert_int_equal(r->status, t->want_status);
	if (t->want_status == NX_ANSWER) {
		int want = t->naddrs < NX_MAXADDRS ? t->naddrs : NX_MAXADDRS;
		assert_int_equal(r->naddrs, want);
		assert_int_equal(r->ttl, 42);
		assert_int_equal(r->chain, t->naliases);
		for (int i = 0; i < t->naliases; i++)
			assert_string_equal(r->aliases[i], f.aliases[i]);
	}
	free(r);
}

/* An answer found, TTL 42, nothing in it yet. */
static void found_42(struct nx_found *f)
{
	memset(f, 0, sizeof *f);
	f->outcome = NX_OUT_FOUND;
	f->ttl = 42;
}

static uint32_t ttl_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A memo's outcome (age > 0): every TTL written is the authority's less
 * the age, 0 once the age passes it; the chain's, the addresses' and each
 * record's. */
static void test_answer_aged(void **state)
{
	(void)state;
	static const struct {
		int qtype;
		uint32_t age, want_cname, want_rr0;
	} rows[] = {
		{NX_T_A, 0, 42, 42},   {NX_T_A, 40, 2, 2},       {NX_T_A, 42, 0, 0},
		{NX_T_A, 4000, 0, 0},  {NX_T_TXT, 0, 42, 100},   {NX_T_TXT, 40, 2, 60},
		{NX_T_TXT, 99, 0, 1},  {NX_T_TXT, 1000, 0, 0},
	};
	static const unsigned char txt[] = {2, 'h', 'i'};
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		struct pkt p;
		pkt_init(&p, ID, PKT_RD, 0);
		pkt_question(&p, "www.example", rows[k].qtype);
		struct nx_question q;
		assert_int_equal(nx_stub_parse_query(p.buf, p.len, &q), NX_QUERY_OK);
		struct nx_records *rs = calloc(1, sizeof *rs);
		struct nx_found f;
		found_42(&f);
		f.age = rows[k].age;
		snprintf(f.aliases[0], sizeof f.aliases[0], "c.example");
		f.naliases = 1;
		if (rows[k].qtype == NX_T_A) {
			f.addrs[0].family = AF_INET;
			inet_pton(AF_INET, "192.0.2.1", f.addrs[0].bytes);
			f.naddrs = 1;
		} else {
			rs->rr[0].ttl = 100;
			rs->rr[0].off = 0;
			rs->rr[0].len = sizeof txt;
			memcpy(rs->data, txt, sizeof txt);
			rs->used = sizeof txt;
			rs->n = 1;
			f.records = rs;
		}
		unsigned char out[NX_STUB_ANSWER_MAX];
		size_t len = nx_stub_answer(&q, &f, 65535, out, sizeof out);
		assert_true(len > 0);
		struct nx_reply *r = calloc(1, sizeof *r);
		nx_message_classify(out, len, ID, "www.example", rows[k].qtype, false, r);
		assert_int_equal(r->status, NX_ANSWER);
		/* The TTLs as written: the CNAME's right after the question, the record's after it. */
		size_t cname_ttl = 12 + q.qname_len + 4 + 2 + 2 + 2;
		size_t rr_ttl = cname_ttl + 4 + 2 + strlen("c.example") + 2 + 2 + 2 + 2;
		assert_int_equal(ttl_at(out + cname_ttl), rows[k].want_cname);
		assert_int_equal(ttl_at(out + rr_ttl), rows[k].want_rr0);
		free(r);
		free(rs);
	}
}

/* q: a plain query for name and qtype, with an OPT (DO set) if do_bit. */
static void parsed(const char *name, int qtype, bool do_bit, struct nx_question *q)
{
	struct pkt p;
	pkt_init(&p, ID, 0, 0);
	pkt_question(&p, name, qtype);
	if (do_bit)
		opt(&p, "", 1232, true);
	assert_int_equal(nx_stub_parse_query(p.buf, p.len, q), NX_QUERY_OK);
}

static void test_answer_refuses_other_outcomes(void **state)
{
	(void)state;
	struct nx_question q;
	parsed("a.example", NX_T_A, false, &q);
	struct nx_found f = {.outcome = NX_OUT_ABSENT};
	unsigned char out[NX_STUB_ANSWER_MAX];
	assert_int_equal(nx_stub_answer(&q, &f, 512, out, sizeof out), 0);
	f.outcome = NX_OUT_LIBC;
	assert_int_equal(nx_stub_answer(&q, &f, 512, out, sizeof out), 0);
	f.outcome = NX_OUT_FOUND;
	q.qtype = 16; /* TXT without its records: nothing to answer with */
	assert_int_equal(nx_stub_answer(&q, &f, 512, out, sizeof out), 0);
}

/* Another type's records (nx_lookup_type's): the chain, then each record
 * with its own TTL and its rdata as the engine kept it (names
 * decompressed): a resolver reading the answer gets the same set. */
struct records_answer_case {
	const char *name;
	int qtype;
	const char *rdata[2];
	size_t rdlen[2];
	int nrr;
	int naliases;
	bool edns;
	size_t max;
	bool cut;
	bool want_tc;
};

static const struct records_answer_case records_answer_cases[] = {
	{"answer: two TXT, own TTLs, EDNS", 16, {"\5hello", "\2hi"}, {6, 3}, 2, 0, true, 1232, false,
	 false},
	{"answer: MX after two CNAMEs", NX_T_MX, {"\0\12\4mail\7example\0"}, {16}, 1, 2, false, 512,
	 false, false},
	{"answer: SRV", NX_T_SRV, {"\0\1\0\2\1\273\3srv\7example\0"}, {19}, 1, 0, false, 512,
	 false, false},
	{"answer: CAA", 257, {"\0\5issueletsencrypt.org"}, {22}, 1, 0, false, 512, false, false},
	{"answer: unknown type 65280, opaque", 65280, {"\300\14\0\1"}, {4}, 1, 1, false, 512,
	 false, false},
	{"answer: TXT over the client's size: TC", 16, {"\5hello", "\2hi"}, {6, 3}, 2, 0, false,
	 12 + 13 + 4 + 12 + 6 + 12 + 3 - 1, false, true},
	{"answer: a cut set is no answer", 16, {"\5hello"}, {6}, 1, 0, false, 512, true, false},
};

static void test_answer_records(void **state)
{
	const struct records_answer_case *t = *state;
	struct nx_question q;
	struct pkt p;
	pkt_init(&p, ID, PKT_RD, 0);
	pkt_question(&p, "Www.Example", t->qtype);
	if (t->edns)
		opt(&p, "", 1232, false);
	assert_int_equal(nx_stub_parse_query(p.buf, p.len, &q), NX_QUERY_OK);
	struct nx_records *rs = calloc(1, sizeof *rs);
	struct nx_found f;
	found_42(&f);
	for (int i = 0; i < t->naliases; i++)
		snprintf(f.aliases[i], sizeof f.aliases[i], "C%d.example", i + 1);
	f.naliases = t->naliases;
	for (int i = 0; i < t->nrr; i++) {
		rs->rr[i].ttl = 100 + (uint32_t)i;
		rs->rr[i].off = (uint16_t)rs->used;
		rs->rr[i].len = (uint16_t)t->rdlen[i];
		memcpy(rs->data + rs->used, t->rdata[i], t->rdlen[i]);
		rs->used += t->rdlen[i];
	}
	rs->n = t->nrr;
	rs->cut = t->cut;
	f.records = rs;
	unsigned char out[NX_STUB_ANSWER_MAX];
	size_t len = nx_stub_answer(&q, &f, t->max, out, sizeof out);
	if (t->cut) {
		assert_int_equal(len, 0);
		free(rs);
		return;
	}
	assert_true(len > 0 && len <= t->max);
	assert_int_equal(out[2], 0x81 | (t->want_tc ? 0x02 : 0));
	assert_int_equal(out[6] << 8 | out[7], t->want_tc ? 0 : t->naliases + t->nrr);
	assert_memory_equal(out + 12, p.buf + 12, q.qname_len + 4); /* the client's letter case */
	struct nx_reply *r = calloc(1, sizeof *r);
	nx_message_classify(out, len, ID, "www.example", t->qtype, false, r);
	if (t->want_tc) {
		assert_int_equal(r->status, NX_TRUNCATED);
	} else {
		assert_int_equal(r->status, NX_ANSWER);
		assert_int_equal(r->chain, t->naliases);
		assert_int_equal(r->rrs.n, t->nrr);
		assert_int_equal(r->rrs.used, rs->used);
		for (int i = 0; i < t->nrr; i++) {
			assert_int_equal(r->rrs.rr[i].ttl, 100 + i);
			assert_int_equal(r->rrs.rr[i].len, t->rdlen[i]);
			assert_memory_equal(r->rrs.data + r->rrs.rr[i].off, t->rdata[i], t->rdlen[i]);
		}
	}
	free(r);
	free(rs);
}

/* ---- nx_stub_reply_matches, nx_stub_reply_rcode ---- */

static void test_reply(void **state)
{
	(void)state;
	struct nx_question q;
	parsed("Www.Example", NX_T_A, false, &q);
	struct pkt r;
	pkt_reply(&r, 0x9999, PKT_RA, 0, "wWW.eXAMPLE", NX_T_A);
	pkt_cname(&r, PKT_AN, PKT_QNAME, 5, "x.example");
	assert_true(nx_stub_reply_matches(r.buf, r.len, 0x9999, &q));
	assert_false(nx_stub_reply_matches(r.buf, r.len, 0x9998, &q));
	bool has;
	assert_int_equal(nx_stub_reply_rcode(r.buf, r.len, NX_T_A, &has), 0);
	assert_false(has); /* a CNAME without the A: NODATA for the bypass */
	pkt_a(&r, PKT_AN, "x.example", 5, "192.0.2.1");
	assert_int_equal(nx_stub_reply_rcode(r.buf, r.len, NX_T_A, &has), 0);
	assert_true(has);
	pkt_truncate(&r, r.len - 1);
	assert_int_equal(nx_stub_reply_rcode(r.buf, r.len, NX_T_A, &has), -1);
	pkt_reply(&r, 0x9999, 0, PKT_RCODE_NXDOMAIN, "www.example", NX_T_AAAA);
	assert_false(nx_stub_reply_matches(r.buf, r.len, 0x9999, &q)); /* another type */
	assert_int_equal(nx_stub_reply_rcode(r.buf, r.len, NX_T_AAAA, &has), NX_RCODE_NXDOMAIN);
	pkt_reply(&r, 0x9999, 0, 0, "www.example.org", NX_T_A);
	assert_false(nx_stub_reply_matches(r.buf, r.len, 0x9999, &q)); /* another name */
	pkt_init(&r, 0x9999, 0, 0);
	pkt_question(&r, "www.example", NX_T_A);
	assert_false(nx_stub_reply_matches(r.buf, r.len, 0x9999, &q)); /* QR=0 */
	/* An error without the question (RFC 1035 allows it; an upstream that
	 * cannot parse the query has none to echo): matched by id alone. */
	static const int errors[] = {PKT_RCODE_FORMERR, PKT_RCODE_SERVFAIL, PKT_RCODE_NOTIMP,
				     PKT_RCODE_REFUSED};
	for (size_t i = 0; i < ARRAY_SIZE(errors); i++) {
		pkt_init(&r, 0x9999, PKT_QR, errors[i]);
		assert_true(nx_stub_reply_matches(r.buf, r.len, 0x9999, &q));
		assert_false(nx_stub_reply_matches(r.buf, r.len, 0x9998, &q));
		assert_int_equal(nx_stub_reply_rcode(r.buf, r.len, NX_T_A, &has), errors[i]);
	}
	pkt_init(&r, 0x9999, PKT_QR, 0); /* NOERROR must carry its question */
	assert_false(nx_stub_reply_matches(r.buf, r.len, 0x9999, &q));
	pkt_init(&r, 0x9999, PKT_QR, PKT_RCODE_NXDOMAIN); /* so must a denial */
	assert_false(nx_stub_reply_matches(r.buf, r.len, 0x9999, &q));
}

/* ---- pending.c ---- */

static void key_of(const char *name, int qtype, bool do_bit, char key[NX_KEYMAX])
{
	struct nx_question q;
	parsed(name, qtype, do_bit, &q);
	nx_pending_key(&q, key);
}

static void test_pending(void **state)
{
	(void)state;
	struct nx_pending_table t = {.capacity = 3};
	char a[NX_KEYMAX], a_upper[NX_KEYMAX], aaaa[NX_KEYMAX], a_do[NX_KEYMAX], b[NX_KEYMAX];
	char txt[NX_KEYMAX], mx[NX_KEYMAX];
	key_of("a.example", NX_T_A, false, a);
	key_of("A.EXAMPLE", NX_T_A, false, a_upper);
	key_of("a.example", NX_T_AAAA, false, aaaa);
	key_of("a.example", NX_T_A, true, a_do);
	key_of("b.example", NX_T_A, false, b);
	key_of("a.example", NX_T_TXT, false, txt);
	key_of("a.example", NX_T_MX, false, mx);
	assert_string_equal(a, a_upper); /* one wait whatever the letter case */
	assert_string_equal(a, aaaa);    /* one lookup for both address types */
	assert_string_equal(a, a_do);    /* the engine's answer is the same with DO */
	assert_string_not_equal(a, txt);
	assert_string_not_equal(txt, mx);
	assert_string_not_equal(a, b);
	assert_null(nx_pending_find(&t, a));
	struct nx_pending *pa = nx_pending_add(&t, a);
	assert_non_null(pa);
	assert_ptr_equal(nx_pending_find(&t, a_upper), pa);
	assert_ptr_equal(nx_pending_find(&t, aaaa), pa);
	struct nx_pending *pt = nx_pending_add(&t, txt), *pm = nx_pending_add(&t, mx);
	assert_non_null(pt);
	assert_non_null(pm);
	assert_null(nx_pending_add(&t, b)); /* full at its capacity */
	assert_int_equal(t.count, 3);
	nx_pending_remove(&t, pt);
	assert_null(nx_pending_find(&t, txt));
	assert_ptr_equal(nx_pending_find(&t, a), pa);
	assert_ptr_equal(nx_pending_find(&t, mx), pm);
	struct nx_pending *pb = nx_pending_add(&t, b);
	assert_non_null(pb);
	nx_pending_remove(&t, pa);
	nx_pending_remove(&t, pm);
	nx_pending_remove(&t, pb);
	assert_int_equal(t.count, 0);
	assert_null(t.head);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(parse_cases) + ARRAY_SIZE(answer_cases) + ARRAY_SIZE(records_answer_cases) + 6];
	size_t n = 0;
	UTIL_ADD_ROWS(tests, n, test_parse, parse_cases);
	UTIL_ADD_TEST(tests, n, test_parse_prefixes);
	UTIL_ADD_TEST(tests, n, test_error);
	UTIL_ADD_ROWS(tests, n, test_answer, answer_cases);
	UTIL_ADD_TEST(tests, n, test_answer_refuses_other_outcomes);
	UTIL_ADD_ROWS(tests, n, test_answer_records, records_answer_cases);
	UTIL_ADD_TEST(tests, n, test_reply);
	UTIL_ADD_TEST(tests, n, test_answer_aged);
	UTIL_ADD_TEST(tests, n, test_pending);
	return UTIL_RUN("stub_wire", tests, n);
}
