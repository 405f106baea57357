/* The stub's messages: a client's query read (every length checked
 * against what is left of the message before a byte is read), an error or
 * an answer built, an upstream's reply recognised. Replies the stub relays
 * are not rewritten here: only their id changes (server.c). */
#include "stub.h"

#include <ctype.h>
#include <string.h>

static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Skips a name at *off (labels, or a compression pointer that ends it). */
static bool skip_name(const unsigned char *m, size_t len, size_t *off)
{
	size_t o = *off;
	for (int labels = 0; labels < 128; labels++) {
		if (o >= len)
			return false;
		unsigned c = m[o];
		if ((c & 0xc0) == 0xc0) {
			if (o + 2 > len)
				return false;
			*off = o + 2;
			return true;
		}
		if (c & 0xc0)
			return false; /* the reserved label types */
		o += 1 + c;
		if (!c) {
			*off = o;
			return true;
		}
	}
	return false;
}

/* The question's name: uncompressed labels (nothing comes before it to
 * point at), 255 bytes at most. name: lower case presentation, or "" when
 * a label holds a byte no host name has (such a name is only relayed). */
static bool read_qname(const unsigned char *m, size_t len, size_t *off, struct nx_question *q)
{
	size_t o = *off, w = 0, p = 0;
	bool plain = true;
	for (;;) {
		if (o >= len)
			return false;
		unsigned c = m[o];
		if (c & 0xc0)
			return false;
		if (o + 1 + c > len || w + 1 + c > 255)
			return false;
		memcpy(q->qname + w, m + o, 1 + c);
		w += 1 + c;
		if (!c)
			break;
		for (unsigned i = 1; i <= c && plain; i++) {
			unsigned char ch = m[o + i];
			if (ch <= ' ' || ch >= 127 || ch == '.' || ch == '\\')
				plain = false;
			else if (p + 2 < sizeof q->name)
				q->name[p++] = (char)tolower(ch);
		}
		if (plain && p + 2 < sizeof q->name)
			q->name[p++] = '.';
		o += 1 + c;
	}
	q->qname_len = w;
	if (p > 0)
		p--; /* the trailing dot */
	q->name[plain ? p : 0] = '\0';
	*off = o + 1;
	return true;
}

enum nx_query_verdict nx_stub_parse_query(const unsigned char *m, size_t len,
					  struct nx_question *q)
{
	memset(q, 0, sizeof *q);
	if (len < 12 || (m[2] & 0x80))
		return NX_QUERY_DROP;
	if ((m[2] >> 3 & 0xf) != 0)
		return NX_QUERY_NOTIMP;
	q->id = get16(m);
	q->rd = m[2] & 1;
	q->cd = m[3] & 0x10;
	q->udp_size = NX_STUB_UDP_MIN;
	/* One question, no answers or authority (RFC 1035 §4.1.2; as Unbound). */
	if (get16(m + 4) != 1 || get16(m + 6) || get16(m + 8))
		return NX_QUERY_FORMERR;
	size_t off = 12;
	if (!read_qname(m, len, &off, q) || off + 4 > len)
		return NX_QUERY_FORMERR;
	q->qtype = get16(m + off);
	q->qclass = get16(m + off + 2);
	off += 4;
	for (unsigned i = 0, n = get16(m + 10); i < n; i++) {
		size_t owner = off;
		if (!skip_name(m, len, &off) || off + 10 > len)
			return NX_QUERY_FORMERR;
		uint16_t type = get16(m + off), rdlen = get16(m + off + 8);
		if (off + 10 + rdlen > len)
			return NX_QUERY_FORMERR;
		if (type == NX_T_OPT) {
			/* One OPT, owned by the root (RFC 6891 §6.1.1). */
			if (q->edns || m[owner] != 0)
				return NX_QUERY_FORMERR;
			q->edns = true;
			uint16_t size = get16(m + off + 2);
			q->udp_size = size > NX_STUB_UDP_MIN ? size : NX_STUB_UDP_MIN;
			q->do_bit = m[off + 6] & 0x80;
		}
		off += 10 + (size_t)rdlen;
	}
	return NX_QUERY_OK;
}

size_t nx_stub_error(const unsigned char *m, size_t len, int rcode, unsigned char *out,
		     size_t outlen)
{
	if (len < 12 || outlen < 12)
		return 0;
	memset(out, 0, 12);
	memcpy(out, m, 2);
	out[2] = (unsigned char)(0x80 | (m[2] & 0x79)); /* QR, opcode and RD echoed */
	out[3] = (unsigned char)(0x80 | rcode);         /* RA */
	struct nx_question q;
	size_t off = 12;
	if (get16(m + 4) == 1 && (m[2] >> 3 & 0xf) == 0 && read_qname(m, len, &off, &q) &&
	    off + 4 <= len && 12 + q.qname_len + 4 <= outlen) {
		memcpy(out + 12, m + 12, q.qname_len + 4);
		put16(out + 4, 1);
		return 12 + q.qname_len + 4;
	}
	return 12;
}

/* Appends a presentation name (labels of a host name) in wire form. */
static bool put_name(unsigned char *out, size_t outlen, size_t *len, const char *name)
{
	size_t o = *len;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		if (n == 0 || n > 63 || o + 1 + n + 1 > outlen)
			return false;
		out[o] = (unsigned char)n;
		memcpy(out + o + 1, name, n);
		o += 1 + n;
		name += n + (dot ? 1 : 0);
	}
	if (o + 1 > outlen)
		return false;
	out[o++] = 0;
	*len = o;
	return true;
}

/* Appends one record's owner (a pointer), type, class IN and TTL. */
static bool put_head(unsigned char *out, size_t outlen, size_t *len, size_t owner, unsigned type,
		     uint32_t ttl)
{
	if (*len + 10 > outlen || owner > 0x3fff)
		return false;
	unsigned char *p = out + *len;
	put16(p, 0xc000 | (unsigned)owner);
	put16(p + 2, type);
	put16(p + 4, NX_C_IN);
	put32(p + 6, ttl);
	*len += 10;
	return true;
}

/* A TTL as it stands age seconds after the servers gave it (RFC 1035
 * §3.2.1: it counts down in a cache; the memo keeps it no longer). */
static uint32_t aged(uint32_t ttl, uint32_t age)
{
	return ttl > age ? ttl - age : 0;
}

/* The answer section: the CNAME chain from the question (owner at offset
 * 12), then the records of q's type owned by its end. Their count, or -1
 * when out is too small. */
static int put_answers(const struct nx_question *q, const struct nx_found *f, unsigned char *out,
		       size_t outlen, size_t *len)
{
	size_t owner = 12;
	int n = 0;
	for (int i = 0; i < f->naliases; i++, n++) {
		if (!put_head(out, outlen, len, owner, NX_T_CNAME, aged(f->ttl, f->age)) ||
		    *len + 2 > outlen)
			return -1;
		size_t rdlen_at = *len;
		*len += 2;
		owner = *len;
		if (!put_name(out, outlen, len, f->aliases[i]))
			return -1;
		put16(out + rdlen_at, (unsigned)(*len - owner));
	}
	if (f->outcome != NX_OUT_FOUND)
		return n;
	const struct nx_records *rs = f->records;
	for (int i = 0; rs && i < rs->n; i++, n++) {
		if (!put_head(out, outlen, len, owner, q->qtype, aged(rs->rr[i].ttl, f->age)) ||
		    *len + 2 + rs->rr[i].len > outlen)
			return -1;
		put16(out + *len, rs->rr[i].len);
		memcpy(out + *len + 2, rs->data + rs->rr[i].off, rs->rr[i].len);
		*len += 2 + rs->rr[i].len;
	}
	if (q->qtype != NX_T_A && q->qtype != NX_T_AAAA)
		return n;
	int family = q->qtype == NX_T_A ? AF_INET : AF_INET6;
	size_t size = family == AF_INET ? 4 : 16;
	for (int i = 0; i < f->naddrs; i++) {
		if (f->addrs[i].family != family)
			continue;
		if (!put_head(out, outlen, len, owner, q->qtype, aged(f->ttl, f->age)) ||
		    *len + 2 + size > outlen)
			return -1;
		put16(out + *len, (unsigned)size);
		memcpy(out + *len + 2, f->addrs[i].bytes, size);
		*len += 2 + size;
		n++;
	}
	return n;
}

size_t nx_stub_answer(const struct nx_question *q, const struct nx_found *f, size_t max,
		      unsigned char *out, size_t outlen)
{
	if (f->outcome != NX_OUT_FOUND && f->outcome != NX_OUT_NODATA &&
	    f->outcome != NX_OUT_ALIAS_NODATA)
		return 0;
	bool addresses = q->qtype == NX_T_A || q->qtype == NX_T_AAAA;
	/* FOUND for another type carries that type's whole set, or is none. */
	if (f->outcome == NX_OUT_FOUND && !addresses && (!f->records || f->records->cut))
		return 0;
	if (addresses && f->records)
		return 0;
	size_t opt = q->edns ? 11 : 0, len = 12 + q->qname_len + 4;
	if (len + opt > outlen || len + opt > max)
		return 0;
	memset(out, 0, 12);
	put16(out, q->id);
	out[2] = (unsigned char)(0x80 | (q->rd ? 1 : 0)); /* QR, AA=0, RD echoed */
	out[3] = (unsigned char)(0x80 | (q->cd ? 0x10 : 0)); /* RA, CD echoed, NOERROR */
	put16(out + 4, 1);
	memcpy(out + 12, q->qname, q->qname_len); /* the client's letter case */
	put16(out + 12 + q->qname_len, q->qtype);
	put16(out + 14 + q->qname_len, q->qclass);
	size_t question_end = len;
	int n = put_answers(q, f, out, outlen - opt, &len);
	if (n < 0 || len + opt > max) {
		/* RFC 2181 §9: too big for the client's size: TC, and no
		 * partial RRset; the client asks again over TCP. */
		len = question_end;
		n = 0;
		out[2] |= 0x02;
	}
	put16(out + 6, (unsigned)n);
	if (q->edns) {
		unsigned char *p = out + len;
		p[0] = 0; /* root */
		put16(p + 1, NX_T_OPT);
		put16(p + 3, NX_STUB_EDNS_SIZE);
		put32(p + 5, q->do_bit ? 0x8000 : 0); /* extended rcode 0, version 0, DO echoed */
		put16(p + 9, 0);
		len += 11;
		put16(out + 10, 1);
	}
	return len;
}

/* Label by label, letters in any case (RFC 4343). */
static bool same_qname(const unsigned char *m, size_t len, size_t *off, const struct nx_question *q)
{
	if (*off + q->qname_len > len)
		return false;
	for (size_t i = 0; i < q->qname_len; i++)
		if (tolower(m[*off + i]) != tolower(q->qname[i]))
			return false;
	*off += q->qname_len;
	return true;
}

/* An error an upstream may send without the question (RFC 1035 §4.1.1:
 * it could not read one). A denial or an answer always echoes it. */
static bool bare_error(const unsigned char *m)
{
	int rcode = m[3] & 0xf;
	return get16(m + 4) == 0 && (rcode == NX_RCODE_FORMERR || rcode == NX_RCODE_SERVFAIL ||
				     rcode == NX_RCODE_NOTIMP || rcode == NX_RCODE_REFUSED);
}

bool nx_stub_reply_matches(const unsigned char *m, size_t len, uint16_t id,
			   const struct nx_question *q)
{
	if (len < 12 || get16(m) != id || !(m[2] & 0x80))
		return false;
	if (bare_error(m))
		return true;
	size_t off = 12;
	return get16(m + 4) == 1 && same_qname(m, len, &off, q) && off + 4 <= len &&
	       get16(m + off) == q->qtype && get16(m + off + 2) == q->qclass;
}

int nx_stub_reply_rcode(const unsigned char *m, size_t len, uint16_t qtype, bool *has_type)
{
	*has_type = false;
	if (len < 12)
		return -1;
	size_t off = 12;
	for (unsigned i = 0, n = get16(m + 4); i < n; i++) {
		if (!skip_name(m, len, &off) || off + 4 > len)
			return -1;
		off += 4;
	}
	for (unsigned i = 0, n = get16(m + 6); i < n; i++) {
		if (!skip_name(m, len, &off) || off + 10 > len)
			return -1;
		uint16_t type = get16(m + off), rdlen = get16(m + off + 8);
		if (off + 10 + rdlen > len)
			return -1;
		*has_type |= type == qtype;
		off += 10 + (size_t)rdlen;
	}
	return m[3] & 0xf;
}
