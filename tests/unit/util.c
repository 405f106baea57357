/* Test helpers; see util.h. Misuse of the builder fails the running test. */
#include "util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HDR 12
#define C_IN 1
#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_AAAA 28

const char PKT_QNAME[] = "<pointer to the question name>";

static void put(struct pkt *p, const void *data, size_t n)
{
	if (p->len + n > sizeof p->buf)
		fail_msg("pkt: %zu bytes do not fit", p->len + n);
	if (n) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(p->buf + p->len, data, n);
	p->len += n;
}

void pkt_bytes(struct pkt *p, const void *data, size_t n) { put(p, data, n); }

void pkt_u16(struct pkt *p, unsigned v)
{
	unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	put(p, b, 2);
}

void pkt_u32(struct pkt *p, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};
	put(p, b, 4);
}

static void set16(struct pkt *p, size_t at, unsigned v)
{
	p->buf[at] = (unsigned char)(v >> 8);
	p->buf[at + 1] = (unsigned char)v;
}

static unsigned get16(const struct pkt *p, size_t at)
{
	return (unsigned)p->buf[at] << 8 | p->buf[at + 1];
}

void pkt_init(struct pkt *p, uint16_t id, unsigned flags, int rcode)
{
	memset(p, 0, sizeof *p);
	p->len = HDR;
	set16(p, 0, id);
	pkt_set_flags(p, flags);
	pkt_set_rcode(p, rcode);
	p->section = PKT_QD;
}

void pkt_set_flags(struct pkt *p, unsigned flags)
{
	unsigned mask = PKT_QR | PKT_AA | PKT_TC | PKT_RD | PKT_RA;
	set16(p, 2, (get16(p, 2) & ~mask) | (flags & mask));
}

void pkt_set_rcode(struct pkt *p, int rcode)
{
	set16(p, 2, (get16(p, 2) & ~0xfu) | ((unsigned)rcode & 0xfu));
}

unsigned pkt_count(const struct pkt *p, enum pkt_section s)
{
	return get16(p, 4 + 2 * (size_t)s);
}

void pkt_set_count(struct pkt *p, enum pkt_section s, unsigned count)
{
	set16(p, 4 + 2 * (size_t)s, count);
}

void pkt_count_add(struct pkt *p, enum pkt_section s, int delta)
{
	pkt_set_count(p, s, (unsigned)((int)pkt_count(p, s) + delta));
}

static void enter(struct pkt *p, enum pkt_section s)
{
	if (s < p->section)
		fail_msg("pkt: section %d written after section %d", (int)s, (int)p->section);
	p->section = s;
}

void pkt_pointer(struct pkt *p, size_t offset)
{
	if (offset > 0x3fff)
		fail_msg("pkt: pointer offset %zu too large", offset);
	pkt_u16(p, 0xc000u | (unsigned)offset);
}

void pkt_name(struct pkt *p, const char *name)
{
	if (name == PKT_QNAME) {
		if (!p->qname)
			fail_msg("pkt: no question name to point to");
		pkt_pointer(p, p->qname);
		return;
	}
	const char *label = name;
	while (*label && strcmp(label, ".")) {
		const char *dot = strchr(label, '.');
		size_t n = dot ? (size_t)(dot - label) : strlen(label);
		if (n == 0 || n > 63)
			fail_msg("pkt: bad label in '%s'", name);
		unsigned char len = (unsigned char)n;
		put(p, &len, 1);
		put(p, label, n);
		label += n + (dot ? 1 : 0);
	}
	unsigned char root = 0;
	put(p, &root, 1);
}

void pkt_name_loop(struct pkt *p) { pkt_pointer(p, p->len); }

void pkt_question_class(struct pkt *p, const char *name, int qtype, int qclass)
{
	enter(p, PKT_QD);
	size_t at = p->len;
	pkt_name(p, name);
	if (!p->qname)
		p->qname = at;
	pkt_u16(p, (unsigned)qtype);
	pkt_u16(p, (unsigned)qclass);
	pkt_count_add(p, PKT_QD, 1);
}

void pkt_question(struct pkt *p, const char *name, int qtype)
{
	pkt_question_class(p, name, qtype, C_IN);
}

void pkt_reply(struct pkt *p, uint16_t id, unsigned flags, int rcode, const char *name,
	       int qtype)
{
	pkt_init(p, id, flags | PKT_QR, rcode);
	pkt_question(p, name, qtype);
}

bool pkt_read_query(const unsigned char *q, size_t len, struct pkt_query *out)
{
	memset(out, 0, sizeof *out);
	if (len < 12)
		return false;
	out->id = (uint16_t)(q[0] << 8 | q[1]);
	out->flags = (unsigned)(q[2] << 8 | q[3]);
	out->arcount = (unsigned)(q[10] << 8 | q[11]);
	size_t p = 12, o = 0;
	while (p < len && q[p]) {
		size_t n = q[p++];
		if (n > 63 || p + n > len || o + n + 2 > sizeof out->qname)
			return false;
		if (o)
			out->qname[o++] = '.';
		memcpy(out->qname + o, q + p, n);
		o += n;
		p += n;
	}
	if (p + 5 > len)
		return false;
	out->qtype = q[p + 1] << 8 | q[p + 2];
	return true;
}

void pkt_rr_head(struct pkt *p, enum pkt_section s, const char *owner, int type, uint32_t ttl)
{
	if (s == PKT_QD)
		fail_msg("pkt: a resource record in the question section");
	enter(p, s);
	pkt_name(p, owner);
	pkt_u16(p, (unsigned)type);
	pkt_u16(p, C_IN);
	pkt_u32(p, ttl);
}

void pkt_rr(struct pkt *p, enum pkt_section s, const char *owner, int type, int rclass,
	    uint32_t ttl, const void *rdata, size_t rdlen)
{
	if (s == PKT_QD)
		fail_msg("pkt: a resource record in the question section");
	enter(p, s);
	pkt_name(p, owner);
	pkt_u16(p, (unsigned)type);
	pkt_u16(p, (unsigned)rclass);
	pkt_u32(p, ttl);
	pkt_u16(p, (unsigned)rdlen);
	put(p, rdata, rdlen);
	pkt_count_add(p, s, 1);
}

void pkt_a(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl, const char *ip)
{
	unsigned char b[4];
	if (inet_pton(AF_INET, ip, b) != 1)
		fail_msg("pkt: '%s' is not an IPv4 address", ip);
	pkt_rr(p, s, owner, T_A, C_IN, ttl, b, sizeof b);
}

void pkt_aaaa(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl,
	      const char *ip)
{
	unsigned char b[16];
	if (inet_pton(AF_INET6, ip, b) != 1)
		fail_msg("pkt: '%s' is not an IPv6 address", ip);
	pkt_rr(p, s, owner, T_AAAA, C_IN, ttl, b, sizeof b);
}

/* An RR whose RDATA is one name (CNAME, NS): RDLENGTH patched after it. */
static void name_rr(struct pkt *p, enum pkt_section s, const char *owner, int type,
		    uint32_t ttl, const char *target)
{
	pkt_rr_head(p, s, owner, type, ttl);
	size_t rdlen_at = p->len;
	pkt_u16(p, 0);
	pkt_name(p, target);
	set16(p, rdlen_at, (unsigned)(p->len - rdlen_at - 2));
	pkt_count_add(p, s, 1);
}

void pkt_cname(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl,
	       const char *target)
{
	name_rr(p, s, owner, T_CNAME, ttl, target);
}

void pkt_ns(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl,
	    const char *host)
{
	name_rr(p, s, owner, T_NS, ttl, host);
}

void pkt_soa(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl,
	     uint32_t minimum)
{
	pkt_soa_names(p, s, owner, ttl, "ns.invalid", "hostmaster.invalid", minimum);
}

void pkt_soa_names(struct pkt *p, enum pkt_section s, const char *owner, uint32_t ttl,
		   const char *mname, const char *rname, uint32_t minimum)
{
	pkt_rr_head(p, s, owner, T_SOA, ttl);
	size_t rdlen_at = p->len;
	pkt_u16(p, 0);
	pkt_name(p, mname);
	pkt_name(p, rname);
	pkt_u32(p, 1);       /* SERIAL */
	pkt_u32(p, 7200);    /* REFRESH */
	pkt_u32(p, 900);     /* RETRY */
	pkt_u32(p, 1209600); /* EXPIRE */
	pkt_u32(p, minimum); /* MINIMUM */
	set16(p, rdlen_at, (unsigned)(p->len - rdlen_at - 2));
	pkt_count_add(p, s, 1);
}

void pkt_truncate(struct pkt *p, size_t n)
{
	if (n > p->len)
		fail_msg("pkt: cannot truncate %zu bytes to %zu", p->len, n);
	p->len = n;
}

/* ---- files ---- */

static char *temp_name(const char *what)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	if (asprintf(&path, "%s/nxretry-%s-XXXXXX", dir && *dir ? dir : "/tmp", what) < 0)
		fail_msg("asprintf failed");
	return path;
}

char *util_temp_file(const char *contents)
{
	return util_temp_bytes(contents, strlen(contents));
}

char *util_temp_bytes(const char *contents, size_t len)
{
	char *path = temp_name("test");
	int fd = mkstemp(path);
	if (fd < 0)
		fail_msg("mkstemp %s failed", path);
	if (write(fd, contents, len) != (ssize_t)len)
		fail_msg("cannot write %s", path);
	close(fd);
	return path;
}

void util_temp_remove(char *path)
{
	if (path)
		unlink(path);
	free(path);
}

char *util_long_line(const char *head, size_t at, const char *tail)
{
	size_t len = strlen(head);
	if (at <= len)
		fail_msg("util_long_line: offset %zu within the head", at);
	char *line = malloc(at + strlen(tail) + 1);
	if (!line)
		fail_msg("malloc failed");
	memcpy(line, head, len);
	/* Words of at most 63 letters (a label), each after one blank. */
	while (len < at) {
		line[len++] = ' ';
		for (int w = 0; w < 63 && len + 1 < at; w++)
			line[len++] = 'f';
	}
	strcpy(line + len, tail);
	return line;
}

/* ---- stderr capture ---- */

static int saved_fd = -1, capture_fd = -1;

void util_capture_begin(void)
{
	if (saved_fd >= 0)
		fail_msg("capture already active");
	char *path = temp_name("capture");
	fflush(stderr);
	capture_fd = mkstemp(path);
	if (capture_fd < 0)
		fail_msg("mkstemp %s failed", path);
	unlink(path);
	free(path);
	saved_fd = dup(STDERR_FILENO);
	if (saved_fd < 0 || dup2(capture_fd, STDERR_FILENO) < 0)
		fail_msg("cannot redirect stderr");
}

char *util_capture_end(void)
{
	fflush(stderr);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	saved_fd = -1;
	off_t size = lseek(capture_fd, 0, SEEK_END);
	char *text = calloc(1, (size_t)size + 1);
	if (!text)
		fail_msg("out of memory");
	if (size > 0 && pread(capture_fd, text, (size_t)size, 0) != size)
		fail_msg("cannot read the captured stderr");
	close(capture_fd);
	capture_fd = -1;
	return text;
}

void util_expect_text(char *got, const char *want)
{
	static char copy[4096];
	bool same = !strcmp(got, want);
	snprintf(copy, sizeof copy, "%s", got);
	free(got);
	if (!same)
		fail_msg("got:\n%s\nexpected:\n%s", copy, want);
}

/* ---- groups ---- */

void util_add_rows(struct CMUnitTest *tests, size_t cap, size_t *n, CMUnitTestFunction fn,
		   const void *rows, size_t row_size, size_t nrows)
{
	for (size_t i = 0; i < nrows; i++) {
		const void *row = (const char *)rows + i * row_size;
		const char *name;
		memcpy(&name, row, sizeof name); /* rows start with their name */
		if (*n >= cap) {
			fprintf(stderr, "util_add_rows: more than %zu tests\n", cap);
			abort();
		}
		tests[(*n)++] = (struct CMUnitTest){name, fn, NULL, NULL, (void *)(uintptr_t)row};
	}
}

void util_add_test(struct CMUnitTest *tests, size_t cap, size_t *n, const char *name,
		   CMUnitTestFunction fn)
{
	if (*n >= cap) {
		fprintf(stderr, "util_add_test: more than %zu tests\n", cap);
		abort();
	}
	tests[(*n)++] = (struct CMUnitTest){name, fn, NULL, NULL, NULL};
}

bool util_check_filled(const char *group, size_t n, size_t size)
{
	if (n == size)
		return true;
	fprintf(stderr, "%s: %zu tests registered for an array of %zu\n", group, n, size);
	return false;
}

void util_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
	while (nanosleep(&ts, &ts))
		;
}
