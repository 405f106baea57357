/* Reply classification (message.c): any bytes as the reply to a question.
 *
 * Input: one control byte, then the message.
 *   bit 0     want_aa (the authority asked, RD=0)
 *   bit 1     the id asked differs from the message's
 *   bits 2-4  qtype asked: the question's own, A, AAAA, NS, SOA, CNAME,
 *             TXT, MX
 *   bit 5     the name asked with a trailing dot
 *   bit 6     the name asked in upper case
 *   bit 7     classify twice: the same bytes give the same reply
 * The name asked is the question's (plain labels), else www.example.com. */
#include "fuzz.h"

#include <ctype.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int qtypes[8] = {0, NX_T_A, NX_T_AAAA, NX_T_NS, NX_T_SOA, NX_T_CNAME, 16, 15};
	fuzz_log_setup();
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	const uint8_t *msg = data + 1;
	size_t len = size - 1;

	char name[NX_NAMEMAX + 1];
	uint16_t asked_type = NX_T_A;
	if (!fuzz_question(msg, len, name, &asked_type))
		strcpy(name, "www.example.com");
	int qtype = qtypes[(ctl >> 2) & 7] ? qtypes[(ctl >> 2) & 7] : asked_type;
	if (ctl & 0x20)
		strcat(name, ".");
	if (ctl & 0x40)
		for (char *p = name; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	uint16_t id = len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0;
	if (ctl & 0x02)
		id ^= 0x5a5a;
	bool want_aa = ctl & 0x01;

	char want[NX_NAMEMAX];
	bool asked_ok = nx_name_canonical(name, want);
	struct nx_reply *r = malloc(2 * sizeof *r);
	if (!r)
		return 0;
	nx_message_classify(msg, len, id, name, qtype, want_aa, &r[0]);
	if (!asked_ok)
		FUZZ_CHECK(r[0].status == NX_MALFORMED);
	else
		fuzz_check_reply(&r[0], want, qtype, want_aa);
	/* The records kept for other types: within their bounds, back to
	 * back; none for addresses. */
	const struct nx_records *rs = &r[0].rrs;
	FUZZ_CHECK(rs->n >= 0 && rs->n <= NX_MAXADDRS && rs->used <= NX_MAXRDATA);
	size_t at = 0;
	for (int i = 0; i < rs->n; i++) {
		FUZZ_CHECK(rs->rr[i].off == at);
		at += rs->rr[i].len;
	}
	FUZZ_CHECK(at == rs->used);
	if (qtype == NX_T_A || qtype == NX_T_AAAA)
		FUZZ_CHECK(rs->n == 0 && !rs->cut);
	if (ctl & 0x80) {
		nx_message_classify(msg, len, id, name, qtype, want_aa, &r[1]);
		FUZZ_CHECK(!memcmp(&r[0], &r[1], sizeof r[0]));
	}
	free(r);
	return 0;
}
