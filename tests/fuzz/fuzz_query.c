/* The stub's query parser (shim/stub/wire.c) and what the server answers
 * for any message a client sends: nothing (no header, a response), an
 * error echoing the header and question, or, for a query it reads, an
 * answer built from it that fits the client's size and echoes the
 * question. The same bytes are also read as an upstream's reply.
 *
 * Input: the message, as a client sends it over UDP. */
#include "fuzz.h"

#include "stub.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_log_setup();
	struct nx_question q;
	enum nx_query_verdict v = nx_stub_parse_query(data, size, &q);
	unsigned char out[NX_STUB_ANSWER_MAX];
	bool has;
	(void)nx_stub_reply_rcode(data, size, NX_T_A, &has);
	if (v == NX_QUERY_DROP) {
		FUZZ_CHECK(size < 12 || (data[2] & 0x80));
		return 0;
	}
	FUZZ_CHECK(size >= 12 && !(data[2] & 0x80));
	if (v != NX_QUERY_OK) {
		int rcode = v == NX_QUERY_NOTIMP ? NX_RCODE_NOTIMP : NX_RCODE_FORMERR;
		size_t len = nx_stub_error(data, size, rcode, out, sizeof out);
		FUZZ_CHECK(len >= 12 && len <= 12 + 255 + 4);
		FUZZ_CHECK(get16(out) == get16(data) && (out[2] & 0x80) && (out[3] & 0xf) == rcode);
		FUZZ_CHECK(get16(out + 4) == (len > 12) && !get16(out + 6) && !get16(out + 10));
		FUZZ_CHECK(len == 12 || !memcmp(out + 12, data + 12, len - 12));
		return 0;
	}
	FUZZ_CHECK(q.qname_len >= 1 && q.qname_len <= 255 && q.qname[q.qname_len - 1] == 0);
	FUZZ_CHECK(fuzz_terminated(q.name, sizeof q.name) && strlen(q.name) < q.qname_len);
	FUZZ_CHECK(q.udp_size >= NX_STUB_UDP_MIN && (q.edns || q.udp_size == NX_STUB_UDP_MIN));
	FUZZ_CHECK(!memcmp(q.qname, data + 12, q.qname_len));
	/* What a wait that found an address answers it with. */
	struct nx_found f = {.outcome = NX_OUT_FOUND, .ttl = 60, .naddrs = 2};
	f.addrs[0].family = AF_INET;
	f.addrs[1].family = AF_INET6;
	size_t len = nx_stub_answer(&q, &f, q.udp_size, out, sizeof out);
	if (q.qtype != NX_T_A && q.qtype != NX_T_AAAA) {
		FUZZ_CHECK(len == 0);
		return 0;
	}
	FUZZ_CHECK(len > 0 && len <= q.udp_size);
	FUZZ_CHECK(nx_stub_reply_matches(out, len, q.id, &q));
	FUZZ_CHECK(nx_stub_reply_rcode(out, len, q.qtype, &has) == 0);
	FUZZ_CHECK(has == !(out[2] & 0x02));
	return 0;
}
