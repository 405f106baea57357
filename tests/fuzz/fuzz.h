/* Helpers shared by the libFuzzer targets (make fuzz): checked invariants,
 * inputs cut into fields, an in-memory file, quiet or discarded log lines.
 * Each target is one fuzz_*.c file with its corpus in corpus/<target>/. */
#ifndef NXRETRY_FUZZ_H
#define NXRETRY_FUZZ_H

#include "nxretry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the code promises: a finding when it does not hold. Said
 * where the sanitizers report (libFuzzer's output, even with
 * -close_fd_mask=2), then abort. */
void __sanitizer_report_error_summary(const char *summary);
#define FUZZ_CHECK(cond)                                                             \
	do {                                                                         \
		if (!(cond)) {                                                       \
			__sanitizer_report_error_summary(__FILE__ ":" FUZZ_LINE(     \
				__LINE__) ": invariant failed: " #cond);             \
			abort();                                                     \
		}                                                                    \
	} while (0)
#define FUZZ_LINE(n) FUZZ_LINE_(n)
#define FUZZ_LINE_(n) #n

/* A string field of exactly its own size, NUL included (ASan sees any read
 * past its end). */
static inline bool fuzz_terminated(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

/* Log lines at NXFUZZ_LOG's level (off by default): tests/fuzz/run sets
 * debug, so that every line is formatted and escaped, and passes
 * -close_fd_mask=2, so that the target's stderr is /dev/null. */
static inline void fuzz_log_setup(void)
{
	static int level = -1;
	if (level < 0) {
		const char *v = getenv("NXFUZZ_LOG");
		enum nx_level l = NX_LOG_OFF;
		if (v && !nx_log_parse_level(v, &l))
			l = NX_LOG_OFF;
		level = (int)l;
	}
	nx_log_level = (enum nx_level)level;
}

/* The input read front to back; past its end, bytes read as 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_byte(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_byte(in);
	return (uint16_t)(hi << 8 | fuzz_byte(in));
}

/* The bytes up to the next NUL (or the end), as a malloc'ed string of
 * exactly that size; NULL without memory. */
static inline char *fuzz_field(struct fuzz_in *in)
{
	const uint8_t *end = memchr(in->p, 0, in->n);
	size_t len = end ? (size_t)(end - in->p) : in->n;
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	if (len)
		memcpy(s, in->p, len);
	s[len] = 0;
	in->p += len + (end ? 1 : 0);
	in->n -= len + (end ? 1 : 0);
	return s;
}

/* A chunk of n bytes (fewer at the end), pointing into the input. */
static inline const uint8_t *fuzz_chunk(struct fuzz_in *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p;
	*got = want < in->n ? want : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

/* A file holding data, named /proc/self/fd/N (a memfd, rewritten on each
 * call: no disk, nothing left behind). NULL if it cannot be made. */
static inline const char *fuzz_file(const void *data, size_t len)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("nxretry-fuzz", MFD_CLOEXEC);
		if (fd < 0)
			return NULL;
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || (len && pwrite(fd, data, len, 0) != (ssize_t)len))
		return NULL;
	return path;
}

/* What every classified reply promises, whatever the bytes (message.c):
 * bounded counts, terminated names, names taken from the reply host names,
 * statuses that agree with the header. want is the canonical name asked. */
static inline void fuzz_check_reply(const struct nx_reply *r, const char *want, int qtype,
				    bool want_aa)
{
	FUZZ_CHECK((r->status >= NX_ANSWER && r->status <= NX_RCODE) || r->status == NX_ERROR);
	FUZZ_CHECK(strcmp(nx_status_name(r->status), "?") != 0);
	FUZZ_CHECK(fuzz_terminated(r->canon, sizeof r->canon));
	FUZZ_CHECK(fuzz_terminated(r->next, sizeof r->next));
	FUZZ_CHECK(fuzz_terminated(r->soa_owner, sizeof r->soa_owner));
	FUZZ_CHECK(r->naddrs >= 0 && r->naddrs <= NX_MAXADDRS);
	FUZZ_CHECK(r->nns >= 0 && r->nns <= NX_MAXNS);
	FUZZ_CHECK(r->nglue >= 0 && r->nglue <= NX_MAXSERVERS);
	FUZZ_CHECK(r->chain >= 0 && r->chain <= NX_MAXCHAIN);
	FUZZ_CHECK(r->rcode >= 0 && r->rcode <= 15);
	for (int i = 0; i < r->naddrs; i++) {
		const struct nx_addr *a = &r->addrs[i];
		FUZZ_CHECK(qtype == NX_T_A || qtype == NX_T_AAAA);
		FUZZ_CHECK(a->family == (qtype == NX_T_A ? AF_INET : AF_INET6));
		for (int b = a->family == AF_INET ? 4 : 16; b < 16; b++)
			FUZZ_CHECK(a->bytes[b] == 0);
	}
	for (int i = 0; i < r->nns; i++) {
		FUZZ_CHECK(fuzz_terminated(r->ns[i], sizeof r->ns[i]));
		FUZZ_CHECK(nx_name_host(r->ns[i]));
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(r->ns[i], r->ns[j]) != 0);
	}
	for (int i = 0; i < r->nglue; i++) {
		FUZZ_CHECK(r->glue_ns[i] >= 0 && r->glue_ns[i] < r->nns);
		FUZZ_CHECK(r->glue[i].family == AF_INET || r->glue[i].family == AF_INET6);
	}
	/* Names: the one asked, or host names from the reply. */
	FUZZ_CHECK(!r->canon[0] || !strcmp(r->canon, want) || nx_name_host(r->canon));
	if (r->has_soa)
		FUZZ_CHECK(!r->soa_owner[0] || nx_name_host(r->soa_owner));
	else
		FUZZ_CHECK(!r->soa_owner[0]);
	switch (r->status) {
	/* A CNAME chain may come with NXDOMAIN, about its last name (RFC
	 * 6604). */
	case NX_ANSWER:
		FUZZ_CHECK(r->rcode == 0 || r->rcode == 3);
		if (qtype == NX_T_A || qtype == NX_T_AAAA)
			FUZZ_CHECK(r->naddrs > 0);
		break;
	case NX_CNAME:
		FUZZ_CHECK(r->rcode == 0 || r->rcode == 3);
		FUZZ_CHECK(nx_name_host(r->next) && !strcmp(r->next, r->canon));
		FUZZ_CHECK(strcmp(r->next, want) != 0);
		break;
	case NX_NODATA:
		FUZZ_CHECK(r->rcode == 0 && r->naddrs == 0);
		break;
	case NX_NXDOMAIN:
		FUZZ_CHECK(r->rcode == 3 && r->naddrs == 0);
		break;
	case NX_REFERRAL:
		FUZZ_CHECK(!r->aa && r->rcode == 0 && r->nns > 0);
		FUZZ_CHECK(nx_name_host(r->next) && nx_name_under(want, r->next));
		break;
	case NX_SERVFAIL:
		FUZZ_CHECK(r->rcode == 2);
		break;
	case NX_REFUSED:
		FUZZ_CHECK(r->rcode == 5);
		break;
	case NX_RCODE:
		FUZZ_CHECK(r->rcode != 0 && r->rcode != 2 && r->rcode != 3 && r->rcode != 5);
		break;
	case NX_TRUNCATED:
		FUZZ_CHECK(r->tc);
		break;
	case NX_MISMATCH:
		FUZZ_CHECK(r->naddrs == 0 && r->nns == 0 && !r->has_soa);
		break;
	default:
		break;
	}
	/* A target or a child zone only where it was found (a CNAME leaving a
	 * truncated or lame reply keeps it, unused). */
	if (r->status == NX_ANSWER || r->status == NX_NODATA || r->status == NX_NXDOMAIN ||
	    r->status == NX_MISMATCH || r->status == NX_SERVFAIL || r->status == NX_REFUSED ||
	    r->status == NX_RCODE)
		FUZZ_CHECK(!r->next[0]);
	/* An answer or a denial counts only with AA when AA is wanted. */
	if (want_aa && !r->aa)
		FUZZ_CHECK(r->status != NX_ANSWER && r->status != NX_NODATA &&
			   r->status != NX_NXDOMAIN && r->status != NX_CNAME);
}

/* The question's name in a message, when written in plain labels (no
 * pointer), dotted; false otherwise. Lets a target ask what the input's
 * question holds, so that mutations reach past the question check. */
static inline bool fuzz_question(const uint8_t *msg, size_t len, char out[NX_NAMEMAX],
				 uint16_t *qtype)
{
	size_t p = 12, o = 0;
	while (p < len && msg[p]) {
		size_t n = msg[p++];
		if (n > 63 || p + n > len || o + n + 2 > NX_NAMEMAX)
			return false;
		if (o)
			out[o++] = '.';
		memcpy(out + o, msg + p, n);
		o += n;
		p += n;
	}
	if (p + 5 > len || memchr(out, 0, o))
		return false;
	out[o] = 0;
	*qtype = (uint16_t)(msg[p + 1] << 8 | msg[p + 2]);
	return o > 0;
}

static inline bool fuzz_in_range(double v, double min, double max)
{
	return isfinite(v) && v >= min && v <= max;
}

/* What a configuration read without error promises (config.c): every
 * number in its range, zone suffixes canonical, pinned servers numeric
 * with a port, pinned names host names, bounded counts. */
static inline void fuzz_check_config(const struct nx_config *c)
{
	FUZZ_CHECK(fuzz_in_range(c->timeout, 0.001, 3600));
	FUZZ_CHECK(fuzz_in_range(c->query_timeout, 0.01, 60));
	FUZZ_CHECK(fuzz_in_range(c->fail_fast, 0, 3600));
	FUZZ_CHECK(c->mode == NX_MODE_FALLBACK || c->mode == NX_MODE_FIRST);
	FUZZ_CHECK(c->log >= NX_LOG_OFF && c->log <= NX_LOG_DEBUG);
	FUZZ_CHECK(fuzz_in_range(c->backoff.initial, 0.001, 60));
	FUZZ_CHECK(fuzz_in_range(c->backoff.max, 0.001, 600));
	FUZZ_CHECK(c->backoff.max >= c->backoff.initial);
	FUZZ_CHECK(fuzz_in_range(c->backoff.factor, 1, 10));
	FUZZ_CHECK(fuzz_in_range(c->backoff.jitter, 0, 1));
	FUZZ_CHECK(c->nzones >= 0 && c->nzones <= NX_MAXZONES);
	for (int i = 0; i < c->nzones; i++) {
		const struct nx_zone *z = &c->zones[i];
		char canon[NX_NAMEMAX];
		FUZZ_CHECK(fuzz_terminated(z->suffix, sizeof z->suffix));
		FUZZ_CHECK(nx_name_canonical(z->suffix, canon) && !strcmp(canon, z->suffix));
		FUZZ_CHECK(z->timeout == 0 || fuzz_in_range(z->timeout, 0.001, 3600));
		FUZZ_CHECK(z->nservers >= 0 && z->nservers <= NX_MAXSERVERS);
		for (int s = 0; s < z->nservers; s++) {
			char text[64];
			FUZZ_CHECK(z->servers[s].port > 0);
			FUZZ_CHECK(nx_nameserver_format(&z->servers[s], text, sizeof text) == 0);
			for (int t = 0; t < s; t++) /* each listed once */
				FUZZ_CHECK(z->servers[t].port != z->servers[s].port ||
					   z->servers[t].addr.family != z->servers[s].addr.family ||
					   memcmp(z->servers[t].addr.bytes, z->servers[s].addr.bytes, 16));
		}
		FUZZ_CHECK(z->nserver_names >= 0 && z->nserver_names <= NX_MAXNS);
		for (int s = 0; s < z->nserver_names; s++) {
			FUZZ_CHECK(fuzz_terminated(z->server_names[s], NX_NAMEMAX));
			FUZZ_CHECK(nx_name_host(z->server_names[s]));
			FUZZ_CHECK(z->server_name_ports[s] > 0);
			for (int t = 0; t < s; t++)
				FUZZ_CHECK(z->server_name_ports[t] != z->server_name_ports[s] ||
					   strcmp(z->server_names[t], z->server_names[s]));
		}
		/* The longest suffix holding the zone's own suffix. */
		const struct nx_zone *best = nx_config_zone_for(c, z->suffix);
		FUZZ_CHECK(best && nx_name_under(z->suffix, best->suffix) &&
			   strlen(best->suffix) >= strlen(z->suffix));
	}
}

#endif
