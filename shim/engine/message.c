/* DNS messages (RFC 1035 §4): building one query, classifying one reply.
 * Every read is bounds-checked; a reply is data from the network. */
#include "nxretry.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define HDRLEN 12
#define C_IN 1
#define T_OPT 41

const char *nx_status_name(enum nx_status s)
{
	static const char *const names[] = {
		[NX_ANSWER] = "answer",       [NX_NXDOMAIN] = "NXDOMAIN",
		[NX_NODATA] = "NODATA",       [NX_CNAME] = "CNAME",
		[NX_REFERRAL] = "referral",   [NX_REFUSED] = "REFUSED",
		[NX_SERVFAIL] = "SERVFAIL",   [NX_LAME] = "lame (not authoritative)",
		[NX_LOOP] = "CNAME loop or chain over 8 links",
		[NX_MISMATCH] = "mismatched reply", [NX_TRUNCATED] = "truncated",
		[NX_MALFORMED] = "malformed reply", [NX_RCODE] = "error rcode",
		[NX_TIMEOUT] = "timeout",     [NX_UNREACHABLE] = "unreachable",
		[NX_ERROR] = "local error",
	};
	if ((unsigned)s < sizeof names / sizeof names[0] && names[s])
		return names[s];
	return "?";
}

int nx_message_query(unsigned char *buf, size_t len, uint16_t id, const char *name,
		     int qtype, bool rd)
{
	char canon[NX_NAMEMAX];
	if (!nx_name_canonical(name, canon))
		return -1;
	size_t need = HDRLEN + strlen(canon) + 2 + 4;
	if (need > len)
		return -1;
	memset(buf, 0, HDRLEN);
	buf[0] = id >> 8;
	buf[1] = id & 0xff;
	buf[2] = rd ? 0x01 : 0x00; /* QR=0, opcode QUERY, RD as asked */
	buf[5] = 1;                /* QDCOUNT */
	size_t p = HDRLEN;
	for (const char *label = canon; *label;) {
		const char *dot = strchr(label, '.');
		size_t n = dot ? (size_t)(dot - label) : strlen(label);
		buf[p++] = (unsigned char)n;
		memcpy(buf + p, label, n);
		p += n;
		label += n + (dot ? 1 : 0);
	}
	buf[p++] = 0;
	buf[p++] = (unsigned char)(qtype >> 8);
	buf[p++] = (unsigned char)qtype;
	buf[p++] = 0;
	buf[p++] = C_IN;
	return (int)p;
}

struct cursor {
	const unsigned char *msg;
	size_t len;
	const char *want;  /* the name asked, for the log line */
	bool *rejected;    /* set when a name taken from the reply is no host name */
};

bool nx_name_host(const char *name)
{
	/* glibc's res_hnok (resolv/res_comp.c): labels of letters, digits,
	 * '-' and '_' only, and no '-' first (it would read as an option).
	 * Lengths and empty labels as nx_name_canonical checks them. */
	static const char host_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789-_.";
	char canon[NX_NAMEMAX];
	size_t len = strlen(name);
	return len && name[len - 1] != '.' && name[0] != '-' && strspn(name, host_chars) == len &&
	       nx_name_canonical(name, canon);
}

/* Reads a possibly compressed name at *pos into out (lower case unless
 * keep_case, no trailing dot; "" is the root). Advances *pos past the name
 * as stored. */
static bool read_name_as(const struct cursor *c, size_t *pos, char out[NX_NAMEMAX], bool keep_case)
{
	size_t p = *pos, o = 0;
	bool jumped = false;
	int hops = 0;
	for (;;) {
		if (p >= c->len)
			return false;
		unsigned char n = c->msg[p];
		if ((n & 0xc0) == 0xc0) {
			if (p + 1 >= c->len || ++hops > 64)
				return false;
			size_t target = ((size_t)(n & 0x3f) << 8) | c->msg[p + 1];
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = target;
			continue;
		}
		if (n & 0xc0)
			return false; /* extended label types (RFC 6891 §5) */
		p++;
		if (n == 0)
			break;
		if (p + n > c->len || o + n + 1 >= NX_NAMEMAX)
			return false;
		if (o)
			out[o++] = '.';
		for (unsigned i = 0; i < n; i++) {
			unsigned char ch = c->msg[p + i];
			if (ch == '.' || ch == 0)
				return false; /* not representable in a host name */
			out[o++] = (char)((!keep_case && ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
		}
		p += n;
	}
	out[o] = 0;
	if (!jumped)
		*pos = p;
	return true;
}

static bool read_name(const struct cursor *c, size_t *pos, char out[NX_NAMEMAX])
{
	return read_name_as(c, pos, out, false);
}

/* A name nxretry takes from the reply (to return to a caller, to ask, or
 * to log): it must be a host name, or the root where root_ok. Anything
 * else means a broken or lying server: the whole reply is rejected, said
 * once at warn level (a lying server answers every round), then at debug. */
static bool host_name(const struct cursor *c, const char *name, bool root_ok, const char *what)
{
	if (nx_name_host(name) || (root_ok && !name[0]))
		return true;
	static int said;
	bool first = !__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED);
	nx_log(first ? NX_LOG_WARN : NX_LOG_DEBUG,
	       "%s: reply ignored: its %s '%s' is not a host name", c->want, what, name);
	*c->rejected = true;
	return false;
}

static bool take_name(const struct cursor *c, size_t *pos, char out[NX_NAMEMAX], bool root_ok,
		      const char *what)
{
	char name[NX_NAMEMAX];
	if (!read_name(c, pos, name) || !host_name(c, name, root_ok, what))
		return false;
	strcpy(out, name);
	return true;
}

struct rr {
	char owner[NX_NAMEMAX];
	uint16_t type, class;
	uint32_t ttl;
	size_t rdata, rdlen;
};

static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool read_rr(const struct cursor *c, size_t *pos, struct rr *rr)
{
	if (!read_name(c, pos, rr->owner) || *pos + 10 > c->len)
		return false;
	const unsigned char *p = c->msg + *pos;
	rr->type = get16(p);
	rr->class = get16(p + 2);
	rr->ttl = get32(p + 4) & 0x7fffffffu; /* RFC 2181 §8 */
	rr->rdlen = get16(p + 8);
	rr->rdata = *pos + 10;
	if (rr->rdata + rr->rdlen > c->len)
		return false;
	*pos = rr->rdata + rr->rdlen;
	return true;
}

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* Sections parsed into a bounded table; large replies keep what fits. */
#define MAXRR 160

struct parsed {
	struct rr rr[MAXRR];
	int n, an, ns; /* rr[0..an) answer, [an..an+ns) authority, rest additional */
};

static int add_ns(struct nx_reply *out, const struct cursor *c, const struct rr *rr)
{
	size_t p = rr->rdata;
	char name[NX_NAMEMAX];
	if (!take_name(c, &p, name, true, "NS target") || !name[0])
		return -1;
	for (int i = 0; i < out->nns; i++)
		if (!strcmp(out->ns[i], name))
			return 0;
	if (out->nns < NX_MAXNS)
		strcpy(out->ns[out->nns++], name);
	out->ns_ttl = out->nns == 1 ? rr->ttl : min32(out->ns_ttl, rr->ttl);
	return 0;
}

static void add_glue(struct nx_reply *out, const struct cursor *c, const struct rr *rr)
{
	for (int i = 0; i < out->nns && out->nglue < NX_MAXSERVERS; i++) {
		if (strcmp(out->ns[i], rr->owner))
			continue;
		struct nx_addr *a = &out->glue[out->nglue];
		if (rr->type == NX_T_A && rr->rdlen == 4)
			a->family = AF_INET;
		else if (rr->type == NX_T_AAAA && rr->rdlen == 16)
			a->family = AF_INET6;
		else
			return;
		memset(a->bytes, 0, sizeof a->bytes);
		memcpy(a->bytes, c->msg + rr->rdata, rr->rdlen);
		out->glue_ns[out->nglue++] = i;
		return;
	}
}

bool nx_reply_serial(const struct nx_reply *r, int n, const char *apex, uint32_t *serial,
		     char primary[NX_NAMEMAX])
{
	for (int i = 0; i < n; i++)
		if (r[i].has_soa && !strcmp(r[i].soa_owner, apex)) {
			*serial = r[i].soa_serial;
			snprintf(primary, NX_NAMEMAX, "%s", r[i].soa_mname);
			return true;
		}
	return false;
}

static bool read_soa(const struct cursor *c, const struct rr *rr, struct nx_reply *out)
{
	size_t p = rr->rdata;
	char mname[NX_NAMEMAX], skip[NX_NAMEMAX];
	/* MNAME is a host name; RNAME a mailbox, whose first label may hold
	 * anything (RFC 1035 §8), and never used. */
	if (!host_name(c, rr->owner, true, "SOA owner") ||
	    !take_name(c, &p, mname, true, "SOA primary server") || !read_name(c, &p, skip) ||
	    p + 20 > rr->rdata + rr->rdlen)
		return false;
	strcpy(out->soa_owner, rr->owner);
	strcpy(out->soa_mname, mname);
	out->soa_ttl = rr->ttl;
	out->soa_serial = get32(c->msg + p);
	out->soa_minimum = get32(c->msg + p + 16);
	out->has_soa = true;
	return true;
}

/* Copies the name at *pos (compressed or not) in wire form to rs->data at
 * *w, 255 bytes at most, its stored form ending by limit. 0, -1 when it
 * does not parse, 1 when rs has no room. */
static int copy_name(const struct cursor *c, size_t *pos, size_t limit, struct nx_records *rs,
		     size_t *w)
{
	size_t p = *pos, start = *w, end = 0;
	int hops = 0;
	for (;;) {
		if (p >= c->len)
			return -1;
		unsigned char n = c->msg[p];
		if ((n & 0xc0) == 0xc0) {
			if (p + 1 >= c->len || ++hops > 64)
				return -1;
			if (!end)
				end = p + 2;
			p = ((size_t)(n & 0x3f) << 8) | c->msg[p + 1];
			continue;
		}
		if (n & 0xc0 || p + 1 + n > c->len || *w + 1 + n - start > 255)
			return -1;
		if (*w + 1 + n > NX_MAXRDATA)
			return 1;
		memcpy(rs->data + *w, c->msg + p, 1 + (size_t)n);
		*w += 1 + (size_t)n;
		p += 1 + (size_t)n;
		if (!n)
			break;
	}
	*pos = end ? end : p;
	return *pos <= limit ? 0 : -1;
}

/* Adds rr's rdata to rs: the fixed fields and names of the types whose
 * rdata holds names (RFC 1035 §3.3, RFC 2782), names decompressed so the
 * rdata stands in another message; any other type's bytes as they are
 * (RFC 3597 §4: no compression in them). A record that does not parse,
 * or over the bounds, leaves rs cut. */
static void add_rdata(const struct cursor *c, const struct rr *rr, struct nx_records *rs)
{
	/* per type: fixed bytes before the names, names, fixed bytes after */
	size_t before = 0, names = 0, after = 0;
	switch (rr->type) {
	case NX_T_NS: case NX_T_CNAME: case NX_T_PTR: names = 1; break;
	case NX_T_MX: before = 2, names = 1; break;
	case NX_T_SRV: before = 6, names = 1; break;
	case NX_T_SOA: names = 2, after = 20; break;
	default: before = rr->rdlen; break;
	}
	size_t p = rr->rdata, end = rr->rdata + rr->rdlen, w = rs->used;
	if (rs->cut || rs->n == NX_MAXADDRS || before + after > rr->rdlen) {
		rs->cut = true;
		return;
	}
	if (w + before > NX_MAXRDATA) {
		rs->cut = true;
		return;
	}
	memcpy(rs->data + w, c->msg + p, before);
	w += before, p += before;
	for (size_t i = 0; i < names; i++)
		if (copy_name(c, &p, end - after, rs, &w)) {
			rs->cut = true;
			return;
		}
	if (p + after != end || w + after > NX_MAXRDATA || w - rs->used > 0xffff) {
		rs->cut = true;
		return;
	}
	memcpy(rs->data + w, c->msg + p, after);
	w += after;
	rs->rr[rs->n].ttl = rr->ttl;
	rs->rr[rs->n].off = (uint16_t)rs->used;
	rs->rr[rs->n].len = (uint16_t)(w - rs->used);
	rs->n++;
	rs->used = w;
}

struct nx_records *nx_records_copy(const struct nx_records *r)
{
	struct nx_records *copy = malloc(sizeof *copy);
	if (copy) {
		*copy = *r;
		copy->refs = 1;
	}
	return copy;
}

void nx_records_hold(struct nx_records *r)
{
	if (r)
		__atomic_add_fetch(&r->refs, 1, __ATOMIC_RELAXED);
}

void nx_records_drop(struct nx_records *r)
{
	if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(r);
}

/* Follows the answer section from `name` through CNAMEs, collecting the
 * records of qtype owned by the final name (RFC 1034 §3.6.2). */
static void collect_answer(const struct cursor *c, const struct parsed *ps, const char *name,
			   int qtype, struct nx_reply *out)
{
	char cur[NX_NAMEMAX];
	strcpy(cur, name);
	bool found = false;
	uint32_t ttl = UINT32_MAX;
	for (int link = 0; link <= NX_MAXCHAIN; link++) {
		const struct rr *cname = NULL;
		for (int i = 0; i < ps->an; i++) {
			const struct rr *rr = &ps->rr[i];
			if (rr->class != C_IN || strcmp(rr->owner, cur))
				continue;
			if (rr->type == NX_T_CNAME && qtype != NX_T_CNAME) {
				cname = rr;
			} else if (rr->type == qtype) {
				found = true;
				ttl = min32(ttl, rr->ttl);
				if ((qtype == NX_T_A && rr->rdlen == 4) ||
				    (qtype == NX_T_AAAA && rr->rdlen == 16)) {
					if (out->naddrs < NX_MAXADDRS) {
						struct nx_addr *a = &out->addrs[out->naddrs++];
						a->family = qtype == NX_T_A ? AF_INET : AF_INET6;
						memset(a->bytes, 0, sizeof a->bytes);
						memcpy(a->bytes, c->msg + rr->rdata, rr->rdlen);
					}
				} else if (qtype == NX_T_NS) {
					add_ns(out, c, rr);
				} else if (qtype == NX_T_SOA) {
					read_soa(c, rr, out);
				} else if (qtype == NX_T_A || qtype == NX_T_AAAA) {
					out->status = NX_MALFORMED;
					return;
				}
				if (qtype != NX_T_A && qtype != NX_T_AAAA)
					add_rdata(c, rr, &out->rrs);
			}
		}
		strcpy(out->canon, cur);
		out->chain = link;
		if (found) {
			out->ttl = ttl;
			out->status = NX_ANSWER;
			return;
		}
		if (!cname)
			break;
		if (link == NX_MAXCHAIN) {
			out->status = NX_LOOP; /* a loop or an overlong chain */
			return;
		}
		ttl = min32(ttl, cname->ttl);
		size_t p = cname->rdata;
		if (!take_name(c, &p, cur, false, "CNAME target")) {
			out->status = NX_MALFORMED;
			return;
		}
		p = cname->rdata; /* and as the server wrote it, for the caller */
		if (out->naliases < NX_MAXCHAIN &&
		    read_name_as(c, &p, out->aliases[out->naliases], true))
			out->naliases++;
	}
	if (strcmp(out->canon, name)) {
		/* The chain ends at a name this reply has no records for. */
		strcpy(out->next, out->canon);
		out->ttl = ttl;
		out->status = NX_CNAME;
	}
}

/* Reads the three sections, then decides. ps holds the records read. */
static void classify_sections(const struct cursor *c, size_t pos, const char *want, int qtype,
			      bool want_aa, struct parsed *ps, struct nx_reply *out)
{
	const unsigned char *msg = c->msg;
	unsigned counts[3] = {get16(msg + 6), get16(msg + 8), get16(msg + 10)};
	bool cut = false;
	for (int s = 0; s < 3 && !cut; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			struct rr rr;
			if (!read_rr(c, &pos, &rr)) {
				if (!out->tc)
					return; /* NX_MALFORMED */
				cut = true; /* a cut message: keep what was read */
				break;
			}
			if (ps->n < MAXRR && rr.type != T_OPT)
				ps->rr[ps->n++] = rr;
		}
		if (s == 0)
			ps->an = ps->n;
		if (s <= 1)
			ps->ns = ps->n - ps->an;
	}

	switch (out->rcode) {
	case 0:
	case 3:
		break;
	case 2:
		out->status = NX_SERVFAIL;
		return;
	case 5:
		out->status = NX_REFUSED;
		return;
	default:
		out->status = NX_RCODE;
		return;
	}

	for (int i = ps->an; i < ps->an + ps->ns; i++) {
		const struct rr *rr = &ps->rr[i];
		if (rr->class == C_IN && rr->type == NX_T_SOA && !out->has_soa)
			read_soa(c, rr, out);
	}

	out->status = NX_NODATA;
	strcpy(out->canon, want);
	/* NXDOMAIN with a CNAME chain (RFC 6604) is about the chain's last
	 * name: a resolver asks the target itself, and so does nxretry (a
	 * server may miss its own in-zone target, as Knot does for a target
	 * written in another letter case). */
	if (out->rcode == 0 || out->rcode == 3)
		collect_answer(c, ps, want, qtype, out);
	if (out->status == NX_MALFORMED || out->status == NX_LOOP)
		return;

	if (out->status == NX_NODATA && out->rcode == 3)
		out->status = NX_NXDOMAIN;
	if (out->status == NX_NODATA || out->status == NX_NXDOMAIN)
		/* RFC 2308 §5: a negative answer lives min(SOA TTL, MINIMUM). */
		out->ttl = out->has_soa ? min32(out->soa_ttl, out->soa_minimum) : 0;

	if (out->status == NX_NODATA && !out->aa) {
		/* No answer and not authoritative: a referral when the authority
		 * section delegates an ancestor of the name (RFC 1034 §4.3.2). */
		const char *zone = NULL;
		for (int i = ps->an; i < ps->an + ps->ns; i++) {
			const struct rr *rr = &ps->rr[i];
			if (rr->type != NX_T_NS || rr->class != C_IN || !rr->owner[0] ||
			    !nx_name_under(want, rr->owner))
				continue;
			if (!zone && !host_name(c, rr->owner, false, "delegated zone"))
				return; /* rejected: NX_MALFORMED */
			if (!zone)
				zone = rr->owner;
			if (!strcmp(zone, rr->owner))
				add_ns(out, c, rr);
		}
		if (zone && out->nns) {
			strcpy(out->next, zone);
			out->status = NX_REFERRAL;
		}
	}
	if (out->tc && out->status != NX_ANSWER && out->status != NX_REFERRAL) {
		out->status = NX_TRUNCATED;
		return;
	}
	if (qtype == NX_T_NS || out->status == NX_REFERRAL)
		for (int i = ps->an + ps->ns; i < ps->n; i++)
			if (ps->rr[i].class == C_IN)
				add_glue(out, c, &ps->rr[i]);
	if (want_aa && !out->aa && out->status != NX_REFERRAL)
		out->status = NX_LAME;
}

void nx_message_classify(const unsigned char *msg, size_t len, uint16_t id,
			 const char *name, int qtype, bool want_aa, struct nx_reply *out)
{
	bool rejected = false;
	struct cursor c = {msg, len, NULL, &rejected};
	char qname[NX_NAMEMAX], want[NX_NAMEMAX];

	memset(out, 0, sizeof *out);
	out->status = NX_MALFORMED;
	if (!msg || len < HDRLEN || !nx_name_canonical(name, want))
		return;
	if (get16(msg) != id || !(msg[2] & 0x80) || ((msg[2] >> 3) & 0xf) != 0 ||
	    get16(msg + 4) != 1) {
		out->status = NX_MISMATCH;
		return;
	}
	size_t pos = HDRLEN;
	if (!read_name(&c, &pos, qname) || pos + 4 > len)
		return;
	if (strcmp(qname, want) || get16(msg + pos) != qtype || get16(msg + pos + 2) != C_IN) {
		out->status = NX_MISMATCH;
		return;
	}
	out->aa = msg[2] & 0x04;
	out->tc = msg[2] & 0x02;
	out->rcode = msg[3] & 0x0f;

	/* ~45 KiB: on the heap, not on a thread pool's small stack. */
	struct parsed *ps = calloc(1, sizeof *ps);
	if (!ps) {
		out->status = NX_ERROR;
		return;
	}
	c.want = want;
	classify_sections(&c, pos + 4, want, qtype, want_aa, ps, out);
	free(ps);
	if (rejected) {
		/* Nothing of a reply that carries a name no host can have is
		 * used: malformed, as glibc's res_hnok would refuse it. */
		int rcode = out->rcode;
		bool aa = out->aa, tc = out->tc;
		memset(out, 0, sizeof *out);
		out->status = NX_MALFORMED;
		out->rcode = rcode;
		out->aa = aa;
		out->tc = tc;
	}
}
