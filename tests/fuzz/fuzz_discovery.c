/* Authority discovery without sockets (authority.c): the system
 * resolver's SOA replies for the configured suffix (and, while it says
 * "alias", for the names above it), then its NS reply for the apex found,
 * each classified as ask_system's probe classifies it (RD=1, AA not
 * wanted), decided by nx_authority_apex and turned into servers by
 * nx_authority_glue.
 *
 * Input: one control byte (bits 0-1: the suffix; bits 2-7: no meaning),
 * then up to 5 messages, each a 2-byte length and its bytes. A message's
 * id is the one asked. */
#include "fuzz.h"

static const uint8_t *next_message(struct fuzz_in *in, size_t *len)
{
	size_t want = fuzz_u16(in);
	return fuzz_chunk(in, want, len);
}

static uint16_t id_of(const uint8_t *msg, size_t len)
{
	return len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const suffixes[] = {"dev.example.com", "example.com",
					       "a.b.c.example.org", "lab.test"};
	static const int soa[] = {NX_T_SOA}, ns_type[] = {NX_T_NS};
	fuzz_log_setup();
	struct fuzz_in in = {data, size};
	const char *suffix = suffixes[fuzz_byte(&in) & 3];
	struct nx_reply *r = malloc(sizeof *r);
	struct nx_authority *a = calloc(1, sizeof *a);
	if (!r || !a)
		goto out;

	char asked[NX_NAMEMAX], apex[NX_NAMEMAX];
	strcpy(asked, suffix);
	enum nx_apex found = NX_APEX_NONE;
	for (int round = 0; round < 4 && in.n; round++) {
		size_t len;
		const uint8_t *msg = next_message(&in, &len);
		nx_message_classify(msg, len, id_of(msg, len), asked, soa[0], false, r);
		fuzz_check_reply(r, asked, soa[0], false);
		memset(apex, 0xa5, sizeof apex);
		found = nx_authority_apex(suffix, r->status, r, apex);
		FUZZ_CHECK(found == NX_APEX_FOUND || found == NX_APEX_PARENT ||
			   found == NX_APEX_ROOT || found == NX_APEX_NONE);
		if (found == NX_APEX_ROOT) {
			/* The root's SOA from an answer or a denial: refused,
			 * apex untouched. */
			FUZZ_CHECK(r->has_soa && !r->soa_owner[0]);
			FUZZ_CHECK(r->status == NX_ANSWER || r->status == NX_NODATA ||
				   r->status == NX_NXDOMAIN);
			FUZZ_CHECK((unsigned char)apex[0] == 0xa5);
			goto out;
		}
		if (found == NX_APEX_FOUND) {
			/* The suffix's own zone or one above it, a host name
			 * (never the root), from an answer or a denial. */
			FUZZ_CHECK(fuzz_terminated(apex, sizeof apex));
			FUZZ_CHECK(nx_name_under(suffix, apex));
			FUZZ_CHECK(apex[0] && nx_name_host(apex));
			FUZZ_CHECK(r->has_soa && !strcmp(apex, r->soa_owner));
			FUZZ_CHECK(r->status == NX_ANSWER || r->status == NX_NODATA ||
				   r->status == NX_NXDOMAIN);
			break;
		}
		const char *dot = strchr(asked, '.');
		if (found != NX_APEX_PARENT || !dot)
			goto out;
		FUZZ_CHECK(r->status == NX_CNAME || (r->status == NX_ANSWER && r->chain > 0));
		memmove(asked, dot + 1, strlen(dot + 1) + 1);
	}
	if (found != NX_APEX_FOUND || !in.n)
		goto out;

	size_t len;
	const uint8_t *msg = next_message(&in, &len);
	nx_message_classify(msg, len, id_of(msg, len), apex, ns_type[0], false, r);
	fuzz_check_reply(r, apex, ns_type[0], false);
	if (r->status != NX_ANSWER || !r->nns)
		goto out;
	uint32_t unglued = nx_authority_glue(r, a);
	FUZZ_CHECK(a->nservers >= 0 && a->nservers <= NX_MAXSERVERS);
	FUZZ_CHECK(a->nservers <= r->nglue);
	FUZZ_CHECK(r->nns == 32 || unglued >> r->nns == 0);
	for (int i = 0; i < a->nservers; i++) {
		const struct nx_nameserver *s = &a->servers[i];
		FUZZ_CHECK(s->port == 53);
		FUZZ_CHECK(s->addr.family == AF_INET || s->addr.family == AF_INET6);
		bool from_glue = false;
		for (int g = 0; g < r->nglue; g++)
			from_glue |= r->glue[g].family == s->addr.family &&
				     !memcmp(r->glue[g].bytes, s->addr.bytes, 16);
		FUZZ_CHECK(from_glue);
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(a->servers[j].addr.family != s->addr.family ||
				   memcmp(a->servers[j].addr.bytes, s->addr.bytes, 16) != 0);
	}
	for (int i = 0; i < r->nns; i++) {
		bool glued = false;
		for (int g = 0; g < r->nglue; g++)
			glued |= r->glue_ns[g] == i;
		FUZZ_CHECK(glued == !(unglued >> i & 1));
		FUZZ_CHECK(nx_name_host(r->ns[i])); /* what the system resolver is asked */
	}
out:
	free(r);
	free(a);
	return 0;
}
