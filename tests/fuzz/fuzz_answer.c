/* The stub's answer builder (shim/stub/wire.c) from any engine outcome,
 * for any client: the answer parses, echoes the question as sent, fits
 * the client's size or has TC and no answer records, and has exactly the
 * records the outcome holds.
 *
 * Input:
 *   byte 0    bit 0 AAAA (else A), bit 1 EDNS, bit 2 DO, bit 3 over TCP,
 *             bits 4-5 outcome: FOUND, NODATA, ALIAS_NODATA, ABSENT,
 *             bit 6 TXT instead: the address chunks are its records' rdata
 *             (nx_lookup_type's records), each with its own TTL
 *   2 bytes   the client's EDNS size
 *   1 byte    CNAME links (mod 9); 1 byte addresses (mod 49)
 *   4 bytes   TTL
 *   fields    the question's name, then one per link (NUL-separated)
 *   the rest  address bytes, 16 per address, families alternating
 */
#include "fuzz.h"

#include "stub.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* A query for name (dotted labels of 1 to 63 bytes, 255 in all); 0 when
 * name cannot be one. */
static size_t make_query(const char *name, int qtype, bool edns, uint16_t size, bool do_bit,
			 unsigned char *q)
{
	static const unsigned char head[12] = {0xab, 0xcd, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	memcpy(q, head, 12);
	size_t o = 12;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		if (n == 0 || n > 63 || o - 12 + 1 + n + 1 > 255)
			return 0;
		q[o] = (unsigned char)n;
		memcpy(q + o + 1, name, n);
		o += 1 + n;
		name += n + (dot ? 1 : 0);
	}
	q[o++] = 0;
	q[o++] = 0, q[o++] = (unsigned char)qtype, q[o++] = 0, q[o++] = 1;
	if (edns) {
		const unsigned char opt[11] = {0, 0, 41, (unsigned char)(size >> 8), (unsigned char)size,
					       0, 0, do_bit ? 0x80 : 0, 0, 0, 0};
		memcpy(q + o, opt, 11);
		o += 11;
		q[11] = 1;
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum nx_outcome outcomes[4] = {NX_OUT_FOUND, NX_OUT_NODATA, NX_OUT_ALIAS_NODATA,
						    NX_OUT_ABSENT};
	fuzz_log_setup();
	struct fuzz_in in = {data, size};
	uint8_t ctl = fuzz_byte(&in);
	int qtype = ctl & 0x40 ? NX_T_TXT : ctl & 1 ? NX_T_AAAA : NX_T_A;
	static struct nx_records rs;
	memset(&rs, 0, offsetof(struct nx_records, data));
	uint16_t edns_size = fuzz_u16(&in);
	struct nx_found f;
	memset(&f, 0, sizeof f);
	f.outcome = outcomes[ctl >> 4 & 3];
	f.naliases = fuzz_byte(&in) % (NX_MAXCHAIN + 1);
	int naddrs = fuzz_byte(&in) % (NX_MAXADDRS + 1);
	f.ttl = (uint32_t)fuzz_u16(&in) << 16 | fuzz_u16(&in);
	char *name = fuzz_field(&in);
	unsigned char query[12 + 255 + 4 + 11];
	size_t qlen = name ? make_query(name, qtype, ctl & 2, edns_size, ctl & 4, query) : 0;
	free(name);
	for (int i = 0; i < f.naliases; i++) {
		char *alias = fuzz_field(&in);
		if (alias)
			snprintf(f.aliases[i], sizeof f.aliases[i], "%s", alias);
		free(alias);
	}
	int want_records = f.naliases;
	for (int i = 0; i < naddrs; i++) {
		size_t got;
		const uint8_t *b = fuzz_chunk(&in, 16, &got);
		f.addrs[i].family = i % 2 ? AF_INET6 : AF_INET;
		memcpy(f.addrs[i].bytes, b, got);
		want_records += f.outcome == NX_OUT_FOUND && f.addrs[i].family == (qtype == NX_T_A ? AF_INET : AF_INET6);
	}
	f.naddrs = naddrs;
	if (qtype == NX_T_TXT) {
		for (int i = 0; i < naddrs; i++) {
			rs.rr[i].ttl = f.ttl ^ (uint32_t)i;
			rs.rr[i].off = (uint16_t)rs.used;
			rs.rr[i].len = 16;
			memcpy(rs.data + rs.used, f.addrs[i].bytes, 16);
			rs.used += 16;
		}
		rs.n = naddrs;
		f.naddrs = 0;
		f.records = &rs;
		want_records = f.naliases + (f.outcome == NX_OUT_FOUND ? naddrs : 0);
	}
	struct nx_question q;
	if (!qlen || nx_stub_parse_query(query, qlen, &q) != NX_QUERY_OK)
		return 0;
	size_t max = ctl & 8 ? 65535 : q.udp_size;
	unsigned char out[NX_STUB_ANSWER_MAX];
	size_t len = nx_stub_answer(&q, &f, max, out, sizeof out);
	if (f.outcome == NX_OUT_ABSENT) {
		FUZZ_CHECK(len == 0);
		return 0;
	}
	FUZZ_CHECK(len >= qlen - (q.edns ? 11 : 0) && len <= max && len <= sizeof out);
	FUZZ_CHECK(get16(out) == 0xabcd && (out[2] & 0x80) && !(out[2] & 0x04) && (out[3] & 0x80));
	FUZZ_CHECK(!memcmp(out + 12, query + 12, q.qname_len + 4)); /* the question as sent */
	FUZZ_CHECK(nx_stub_reply_matches(out, len, 0xabcd, &q));
	bool has, tc = out[2] & 0x02;
	FUZZ_CHECK(nx_stub_reply_rcode(out, len, (uint16_t)qtype, &has) == 0);
	FUZZ_CHECK(get16(out + 6) == (tc ? 0 : want_records));
	FUZZ_CHECK(get16(out + 10) == q.edns);
	/* TC only when the whole answer does not fit: the same with room to spare has none,
	 * unless a link is no host name (then nothing can be written). */
	if (tc && max < 65535) {
		size_t big = nx_stub_answer(&q, &f, 65535, out, sizeof out);
		FUZZ_CHECK(big > max || (out[2] & 0x02));
	}
	return 0;
}
