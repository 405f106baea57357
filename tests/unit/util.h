/* Test helpers: a DNS packet builder for canned replies (no hex blobs),
 * temporary files, capture of nx_log's stderr lines, and table-driven
 * cmocka groups (one named test per table row). */
#ifndef NXRETRY_TEST_UTIL_H
#define NXRETRY_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the three headers above first. */
#include <cmocka.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- DNS packets (RFC 1035 §4.1) ---- */

/* Header flag bits, as in the second 16-bit word of the header. */
enum {
	PKT_QR = 0x8000,
	PKT_AA = 0x0400,
	PKT_TC = 0x0200,
	PKT_RD = 0x0100,
	PKT_RA = 0x0080,
};

enum { PKT_RCODE_NOERROR = 0, PKT_RCODE_FORMERR = 1, PKT_RCODE_SERVFAIL = 2,
       PKT_RCODE_NXDOMAIN = 3, PKT_RCODE_NOTIMP = 4, PKT_RCODE_REFUSED = 5 };

/* Sections in wire order; records must be added in this order. */
enum pkt_section { PKT_QD, PKT_AN, PKT_NS, PKT_AR };

#define PKT_MAX 16384

struct pkt {
	unsigned char buf[PKT_MAX];
	size_t len;
	size_t qname; /* offset of the question's name, 0 if none yet */
	enum pkt_section section; /* the last section written */
};

/* Pass as an owner or target name to write a compression pointer to the
 * question's name (RFC 1035 §4.1.4) instead of the name in full. */
extern const char PKT_QNAME[];

/* Header: id, flags (PKT_QR|PKT_AA...), rcode; counts start at 0. */
void pkt_init(struct pkt *p, uint16_t id, unsigned flags, int rcode);
void pkt_set_flags(struct pkt *p, unsigned flags); /* replaces QR/AA/TC/RD/RA */
void pkt_set_rcode(struct pkt *p, int rcode);
/* Appends a question (class IN unless pkt_question_class). */
void pkt_question(struct pkt *p, const char *name, int qtype);
void pkt_question_class(struct pkt *p, const char *name, int qtype, int qclass);
/* pkt_init + pkt_question: a reply (QR set) to the question name/qtype. */
void pkt_reply(struct pkt *p, uint16_t id, unsigned flags, int rcode, const char *name,
	       int qtype);

/* Resource records. owner/target: a dotted name ("" is the root) or PKT_QNAME. */
void pkt_rr(struct pkt *p, enum pkt_section s, const char *owner, int type, int rclass,
	    uint32_t ttl, const void *rdata, size_t rdlen);
void pkt_a(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl, const char *ip);
void pkt_aaaa(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl,
	      const char *ip);
void pkt_cname(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl,
	       const char *target);
void pkt_ns(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl,
	    const char *host);
/* SOA with MNAME ns.invalid, RNAME hostmaster.invalid, serial 1 and the given
 * MINIMUM (the negative-caching TTL, RFC 2308 §4). */
void pkt_soa(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl,
	     uint32_t minimum);
/* The same with the given MNAME and RNAME. */
void pkt_soa_names(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl,
		   const char *mname, const char *rname, uint32_t minimum);

/* Low level, for malformed packets: raw bytes, a name in labels, a pointer. */
void pkt_bytes(struct pkt *p, const void *data, size_t n);
void pkt_u16(struct pkt *p, unsigned v);
void pkt_u32(struct pkt *p, uint32_t v);
void pkt_name(struct pkt *p, const char *name);
void pkt_pointer(struct pkt *p, size_t offset);
/* Starts an RR by hand: owner, type, class IN, ttl; the caller writes
 * RDLENGTH and RDATA with pkt_u16/pkt_bytes and bumps the count with
 * pkt_count_add. */
void pkt_rr_head(struct pkt *p, enum pkt_section s, const char *owner, int type,
		 uint32_t ttl);
void pkt_count_add(struct pkt *p, enum pkt_section s, int delta);

/* The header and question of a query, as a test server reads it. */
struct pkt_query {
	uint16_t id;
	unsigned flags;   /* the header's second word */
	unsigned arcount; /* additional records: an EDNS OPT would be one */
	char qname[256];  /* labels joined by dots, case kept */
	int qtype;
};
/* false when len bytes hold no readable question. */
bool pkt_read_query(const unsigned char *q, size_t len, struct pkt_query *out);

/* Corruptions. */
void pkt_truncate(struct pkt *p, size_t n);
void pkt_set_count(struct pkt *p, enum pkt_section s, unsigned count);
unsigned pkt_count(const struct pkt *p, enum pkt_section s);
/* Writes a name that is a compression pointer to itself (a loop). */
void pkt_name_loop(struct pkt *p);

/* ---- files and stderr ---- */

/* Writes contents to a new temporary file; returns its path (malloc'ed).
 * util_temp_remove unlinks and frees it. */
char *util_temp_file(const char *contents);
char *util_temp_bytes(const char *contents, size_t len); /* NULs included */
void util_temp_remove(char *path);
/* head, blank-separated filler words, then tail starting at byte offset at
 * (at > strlen(head)): a long line whose chosen word lands where a fixed
 * line buffer would break it. malloc'ed. */
char *util_long_line(const char *head, size_t at, const char *tail);

/* Redirects fd 2 into a temporary file until util_capture_end, which
 * returns everything written (malloc'ed, NUL-terminated). Call only the code
 * under test in between: cmocka reports failures on stderr. */
void util_capture_begin(void);
char *util_capture_end(void);
/* Frees got, then fails the test unless it was exactly want. */
void util_expect_text(char *got, const char *want);

/* Sleeps ms milliseconds, whole (resumed after a signal). */
void util_sleep_ms(long ms);

/* ---- table-driven groups ---- */

/* Appends one test per row of a table whose rows start with
 * `const char *name;`: the test is named after the row and receives the
 * row as its state. */
#define UTIL_ADD_ROWS(tests, n, fn, table)                                              \
	util_add_rows((tests), ARRAY_SIZE(tests), &(n), (fn), (table), sizeof((table)[0]), \
		      ARRAY_SIZE(table))
#define UTIL_ADD_TEST(tests, n, fn) util_add_test((tests), ARRAY_SIZE(tests), &(n), #fn, (fn))
void util_add_rows(struct CMUnitTest *tests, size_t cap, size_t *n, CMUnitTestFunction fn,
		   const void *rows, size_t row_size, size_t nrows);
void util_add_test(struct CMUnitTest *tests, size_t cap, size_t *n, const char *name,
		   CMUnitTestFunction fn);
/* Runs the group once every slot of the array is filled (sized exactly:
 * the sum of the tables' sizes plus the single tests). */
#define UTIL_RUN(group, tests, n)                                                    \
	(util_check_filled(group, (n), ARRAY_SIZE(tests))                             \
		 ? cmocka_run_group_tests_name(group, tests, NULL, NULL)              \
		 : 1)
bool util_check_filled(const char *group, size_t n, size_t size);

#endif
