/* nxretry --serve: a stub resolver on the engine (shim/stub/).
 *
 * The request's path, one file per step:
 *   server.c   the sockets: clients' UDP and TCP in, upstreams' out, one
 *              poll loop; what a question becomes (relay, bypass, wait)
 *   pending.c  one wait per name and type (A and AAAA: one), shared by
 *              every client asking it
 *   wire.c     the messages: a query read, an answer or an error built
 */
#ifndef NXRETRY_STUB_H
#define NXRETRY_STUB_H

#include "nxretry.h"

#include <sys/socket.h>

#define NX_STUB_MAXLISTEN 8
#define NX_STUB_MAXUPSTREAM 8
#define NX_STUB_MAX_WAITS 1024 /* --max-waits default */
#define NX_STUB_MAX_TCP 128    /* --max-tcp default */
#define NX_STUB_QUERY_MAX 4096 /* a longer query is dropped (UDP) or ends its connection (TCP) */
/* Holds any built answer: question 259, 8 CNAMEs of 267, 48 records of 12 plus
 * NX_MAXRDATA (4096) bytes of rdata, OPT 11: ~7.1 KB. */
#define NX_STUB_ANSWER_MAX 8192
#define NX_STUB_UDP_MIN 512    /* RFC 1035 §4.2.1: a client without EDNS */
#define NX_STUB_EDNS_SIZE 1232 /* the payload size the stub advertises (DNS flag day 2020) */

struct nx_stub_options {
	struct nx_nameserver listen[NX_STUB_MAXLISTEN];
	int nlisten; /* 0: 127.0.0.1:53 */
	struct nx_nameserver upstream[NX_STUB_MAXUPSTREAM];
	int nupstream; /* 0: /etc/resolv.conf */
	bool allow_remote;
	int max_waits, max_tcp; /* 0: defaults */
};

struct nx_stub;

/* Fills the defaults of o (listen, upstreams from resolv_conf) and drops
 * upstreams that are its own listen addresses. The number of upstreams
 * left (0: nowhere to forward), or -1 after one line (a non-loopback
 * listen address without allow_remote). */
int nx_stub_settle_options(struct nx_stub_options *o, const char *resolv_conf);
/* Binds every socket: the stub is reachable once this returns 0; -1 after one log line. */
int nx_stub_open(const struct nx_config *cfg, const struct nx_stub_options *o, struct nx_stub **out);
/* Serves until SIGTERM or SIGINT; closes and frees everything; 0, or -1 after one log line. */
int nx_stub_run(struct nx_stub *s);

bool nx_stub_loopback(const struct nx_addr *a);

/* ---- wire.c ---- */
enum { NX_T_OPT = 41, NX_C_IN = 1 };
enum { NX_RCODE_NOERROR = 0, NX_RCODE_FORMERR = 1, NX_RCODE_SERVFAIL = 2, NX_RCODE_NXDOMAIN = 3,
       NX_RCODE_NOTIMP = 4, NX_RCODE_REFUSED = 5 };

/* A client's query, as read. */
struct nx_question {
	uint16_t id;
	bool rd, cd;
	uint16_t qtype, qclass;
	size_t qname_len;            /* wire form, root label included */
	unsigned char qname[256];    /* wire form, the client's letter case */
	char name[NX_NAMEMAX];       /* presentation, lower case, no trailing dot */
	bool edns;                   /* an OPT record came with it */
	bool do_bit;
	uint16_t udp_size;           /* what a UDP answer may take: 512 without EDNS */
};

/* What to do with a message a client sent. */
enum nx_query_verdict {
	NX_QUERY_OK,      /* q is filled */
	NX_QUERY_DROP,    /* no header, or a response (QR=1): no answer at all */
	NX_QUERY_FORMERR, /* answer with rcode FORMERR */
	NX_QUERY_NOTIMP,  /* an opcode other than QUERY */
};
enum nx_query_verdict nx_stub_parse_query(const unsigned char *msg, size_t len,
					  struct nx_question *q);
/* An error answer to msg (its header readable): the id, opcode and RD
 * echoed, the question too when it parses. Its length. */
size_t nx_stub_error(const unsigned char *msg, size_t len, int rcode, unsigned char *out,
		     size_t outlen);
/* The answer to q from the engine's f (FOUND, NODATA or ALIAS_NODATA):
 * the CNAME chain and the records of q's type (addresses, or f->records
 * with each one's TTL for any other type), RA=1, AA=0, an OPT when q had
 * one; over max bytes (UDP: q->udp_size, TCP: 65535), the answer section
 * is left out and TC=1. Its length, or 0 when f is not an answer (a cut
 * record set is none), or out is too small. */
size_t nx_stub_answer(const struct nx_question *q, const struct nx_found *f, size_t max,
		      unsigned char *out, size_t outlen);
/* The reply from an upstream to the query that carried id and q's
 * question: header, QR=1, id, question (letters in any case); or an error
 * (FORMERR, SERVFAIL, NOTIMP, REFUSED) with no question, relayed as it is. */
bool nx_stub_reply_matches(const unsigned char *msg, size_t len, uint16_t id,
			   const struct nx_question *q);
/* The rcode of a reply, and whether its answer section has a record of
 * type qtype (NODATA when the rcode is NOERROR and it has none). -1 when
 * it does not parse. */
int nx_stub_reply_rcode(const unsigned char *msg, size_t len, uint16_t qtype, bool *has_type);

/* ---- pending.c ---- */
/* One wait per engine lookup: (name in lower case, type), A and AAAA
 * being one lookup of both (a client's pair of questions, and Route 53's
 * four servers asked once a round for the two). Only class IN is waited
 * for, and DO does not change what the engine answers. Its waiters are
 * the server's (opaque here); the table only says who asks what, and
 * never holds more than its capacity. */
struct nx_pending {
	struct nx_pending *next;
	char key[NX_KEYMAX];
	void *waiters; /* the server's list */
	int nwaiters;
	int64_t started_ms;
	void *job;     /* the engine's work for it, the server's */
};
struct nx_pending_table {
	struct nx_pending *head;
	int count, capacity;
};
void nx_pending_key(const struct nx_question *q, char key[NX_KEYMAX]);
struct nx_pending *nx_pending_find(struct nx_pending_table *t, const char *key);
/* A new wait for key; NULL when the table is full or there is no memory. */
struct nx_pending *nx_pending_add(struct nx_pending_table *t, const char *key);
/* Unlinks and frees p (its waiters are the caller's to release first). */
void nx_pending_remove(struct nx_pending_table *t, struct nx_pending *p);

#endif
