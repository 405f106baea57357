/* Nameserver addresses: parsing, printing, and the system resolver's list.
 * resolv.conf is read here rather than by c-ares, which never reads a file
 * in nxretry (CVE-2024-25629 lives in c-ares 1.18's reader). */
#include "nxretry.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int nx_addr_format(const struct nx_addr *a, char *buf, size_t len)
{
	return inet_ntop(a->family, a->bytes, buf, (socklen_t)len) ? 0 : -1;
}

int nx_nameserver_format(const struct nx_nameserver *s, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	if (nx_addr_format(&s->addr, ip, sizeof ip))
		return -1;
	int n;
	if (s->port == 53)
		n = snprintf(buf, len, "%s", ip);
	else if (s->addr.family == AF_INET6)
		n = snprintf(buf, len, "[%s]:%u", ip, s->port);
	else
		n = snprintf(buf, len, "%s:%u", ip, s->port);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static bool parse_port(const char *text, uint16_t *port)
{
	char *end;
	if (*text < '0' || *text > '9')
		return false;
	unsigned long v = strtoul(text, &end, 10);
	if (*end || v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

int nx_nameserver_parse(const char *text, struct nx_nameserver *out)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL;
	memset(out, 0, sizeof *out);
	out->port = 53;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || (size_t)(close - text - 1) >= sizeof host)
			return -1;
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = 0;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return -1;
		out->addr.family = AF_INET6;
	} else {
		const char *colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':')) {
			/* Bare IPv6: no port can be written without brackets. */
			if (strlen(text) >= sizeof host)
				return -1;
			strcpy(host, text);
			out->addr.family = AF_INET6;
		} else {
			size_t n = colon ? (size_t)(colon - text) : strlen(text);
			if (n >= sizeof host)
				return -1;
			memcpy(host, text, n);
			host[n] = 0;
			port = colon ? colon + 1 : NULL;
			out->addr.family = AF_INET;
		}
	}
	if (inet_pton(out->addr.family, host, out->addr.bytes) != 1)
		return -1;
	if (port && !parse_port(port, &out->port))
		return -1;
	return 0;
}

int nx_system_servers(const char *path, struct nx_nameserver *out, int max)
{
	FILE *f = fopen(path, "re");
	/* Whole lines, as glibc reads them: the tail of a long search or
	 * options line cut at a buffer's end could start with "nameserver". */
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	while (f && n < max && getline(&line, &cap, f) >= 0) {
		/* glibc's rule: the keyword starts the line, blanks follow it,
		 * then the address, up to the next blank. */
		static const char key[] = "nameserver";
		if (strncmp(line, key, sizeof key - 1) ||
		    (line[sizeof key - 1] != ' ' && line[sizeof key - 1] != '\t'))
			continue;
		char *val = line + sizeof key - 1;
		val += strspn(val, " \t");
		val[strcspn(val, " \t\r\n")] = 0;
		char *scope = strchr(val, '%'); /* fe80::1%eth0: link scope not kept */
		if (scope)
			*scope = 0;
		struct nx_nameserver s = {.port = 53};
		if (inet_aton(val, (struct in_addr *)s.addr.bytes)) /* "127.0.53" too, as glibc */
			s.addr.family = AF_INET;
		else if (inet_pton(AF_INET6, val, s.addr.bytes) == 1)
			s.addr.family = AF_INET6;
		else
			continue;
		out[n++] = s;
	}
	free(line);
	if (f)
		fclose(f);
	/* glibc's default when resolv.conf names no server. */
	if (n == 0 && max > 0) {
		out[0] = (struct nx_nameserver){.addr.family = AF_INET, .port = 53};
		inet_pton(AF_INET, "127.0.0.1", out[0].addr.bytes);
		n = 1;
	}
	return n;
}

/* What this process learned of the servers. An address that timed out or
 * was unreachable is skipped while others answer (round.c clears the
 * marks of a zone none of whose addresses is left); the family that last
 * answered is tried first. */
#define FAILED_MAX 32

static pthread_mutex_t strategy_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nx_nameserver failed[FAILED_MAX];
static int nfailed;
static int answered_family;
static unsigned start;
static bool start_chosen;

static bool same_server(const struct nx_nameserver *a, const struct nx_nameserver *b)
{
	return a->port == b->port && a->addr.family == b->addr.family &&
	       !memcmp(a->addr.bytes, b->addr.bytes, sizeof a->addr.bytes);
}

static int failed_index(const struct nx_nameserver *s)
{
	for (int i = 0; i < nfailed; i++)
		if (same_server(&failed[i], s))
			return i;
	return -1;
}

void nx_nameserver_mark(const struct nx_nameserver *s, bool answered)
{
	pthread_mutex_lock(&strategy_lock);
	int i = failed_index(s);
	if (answered) {
		answered_family = s->addr.family;
		if (i >= 0)
			failed[i] = failed[--nfailed];
	} else if (i < 0) {
		if (nfailed == FAILED_MAX)
			nfailed--; /* forget the oldest... any: it is retried */
		failed[nfailed++] = *s;
	}
	pthread_mutex_unlock(&strategy_lock);
}

void nx_nameserver_unmark(const struct nx_nameserver *s)
{
	pthread_mutex_lock(&strategy_lock);
	int i = failed_index(s);
	if (i >= 0)
		failed[i] = failed[--nfailed];
	pthread_mutex_unlock(&strategy_lock);
}

bool nx_nameserver_failed(const struct nx_nameserver *s)
{
	pthread_mutex_lock(&strategy_lock);
	bool f = failed_index(s) >= 0;
	pthread_mutex_unlock(&strategy_lock);
	return f;
}

int nx_nameserver_family(void)
{
	pthread_mutex_lock(&strategy_lock);
	int f = answered_family;
	pthread_mutex_unlock(&strategy_lock);
	return f;
}

/* Where this process's rounds start: random, so that many processes
 * waiting for one name spread over the zone's servers. */
unsigned nx_nameserver_start(void)
{
	pthread_mutex_lock(&strategy_lock);
	if (!start_chosen) {
		start = (unsigned)(nx_random_unit() * 65536);
		start_chosen = true;
	}
	unsigned s = start;
	pthread_mutex_unlock(&strategy_lock);
	return s;
}

void nx_nameserver_reset(void)
{
	pthread_mutex_init(&strategy_lock, NULL);
	nfailed = 0;
	answered_family = 0;
	start_chosen = false; /* a child is a process of its own */
}

bool nx_serial_newer(uint32_t a, uint32_t b)
{
	/* RFC 1982 §3.2 with SERIAL_BITS 32: the difference as a signed
	 * number; 2^31 apart is undefined, and counts as not newer. */
	uint32_t d = a - b;
	return d != 0 && d < 0x80000000u;
}

/* ---- weighing the servers' views of one name ---- */

/* Two sets of records: the same rdata, in any order. */
static bool same_records(const struct nx_records *a, const struct nx_records *b)
{
	if (!a || !b || a->n != b->n || a->cut != b->cut)
		return false;
	for (int i = 0; i < a->n; i++) {
		bool in = false;
		for (int j = 0; j < b->n && !in; j++)
			in = a->rr[i].len == b->rr[j].len &&
			     !memcmp(a->data + a->rr[i].off, b->data + b->rr[j].off, a->rr[i].len);
		if (!in)
			return false;
	}
	return true;
}

static bool same_set(const struct nx_view *a, const struct nx_view *b)
{
	if (a->records || b->records)
		return same_records(a->records, b->records);
	if (a->naddrs != b->naddrs)
		return false;
	for (int i = 0; i < a->naddrs; i++) {
		bool in = false;
		for (int j = 0; j < b->naddrs && !in; j++)
			in = a->addrs[i].family == b->addrs[j].family &&
			     !memcmp(a->addrs[i].bytes, b->addrs[j].bytes, sizeof a->addrs[i].bytes);
		if (!in)
			return false;
	}
	return true;
}

/* The first positive view, and whether every view (or every positive
 * one) has its addresses. */
static int first_found(const struct nx_view *v, int n, bool *all_same, bool *positives_same)
{
	int pos = -1;
	*all_same = *positives_same = true;
	for (int i = 0; i < n; i++) {
		if (!v[i].found) {
			*all_same = false;
			continue;
		}
		if (pos < 0)
			pos = i;
		else if (!same_set(&v[i], &v[pos]))
			*all_same = *positives_same = false;
	}
	return pos;
}

/* Serials count one history of changes only where the SOAs name one
 * primary: secondaries copy their primary's SOA, MNAME included, while
 * independent primaries (two DNS providers, each serving its own copy of
 * the zone) number their changes apart, and a larger number at one says
 * nothing of the other's. Views whose primary is unknown do not count. */
static bool same_primary(const struct nx_view *a, const struct nx_view *b)
{
	return a->has_serial && b->has_serial && a->primary && b->primary &&
	       !strcasecmp(a->primary, b->primary);
}

static bool one_primary(const struct nx_view *v, int n)
{
	const struct nx_view *first = NULL;
	for (int i = 0; i < n; i++) {
		if (!v[i].has_serial || !v[i].primary)
			continue;
		if (!first)
			first = &v[i];
		else if (!same_primary(first, &v[i]))
			return false;
	}
	return true;
}

bool nx_settle_needs_serials(const struct nx_view *v, int n)
{
	bool all_same, positives_same;
	if (first_found(v, n, &all_same, &positives_same) < 0 || all_same)
		return false;
	for (int i = 0; i < n; i++)
		if (v[i].found && !v[i].has_serial)
			return true;
	return false;
}

/* Views of several primaries: each primary's own are weighed as one
 * primary's are. An older serial is a state since changed and does not
 * count; where its serials do order them, a denial at the same newest
 * serial as addresses is a split (wait). The views left must agree as
 * views without order do. */
static enum nx_settle settle_primaries(const struct nx_view *v, int n, struct nx_settled *out)
{
	int pos = -1, superseded_by = -1;
	for (int i = 0; i < n; i++) {
		int newer = -1, denied = -1;
		bool ordered = false;
		for (int j = 0; j < n; j++) {
			if (j == i || !same_primary(&v[i], &v[j]))
				continue;
			if (nx_serial_newer(v[j].serial, v[i].serial) && newer < 0)
				newer = j;
			ordered |= v[j].serial != v[i].serial;
			if (v[j].serial == v[i].serial && !v[j].found && denied < 0)
				denied = j;
		}
		if (newer >= 0) {
			if (v[i].found && superseded_by < 0)
				superseded_by = newer;
			continue;
		}
		if (!v[i].found)
			continue;
		if (ordered && denied >= 0) {
			out->newest = i;
			out->a = i;
			return out->how = NX_SETTLE_NEWEST_SPLIT;
		}
		if (pos < 0) {
			pos = i;
		} else if (!same_set(&v[i], &v[pos]) && out->a < 0) {
			out->a = pos;
			out->b = i;
		}
	}
	if (pos < 0) {
		out->newest = superseded_by; /* the addresses are older than its denial */
		return out->how = NX_SETTLE_NEWEST_DENIES;
	}
	if (out->a >= 0)
		return out->how = NX_SETTLE_SPLIT;
	out->use = pos;
	return out->how = NX_SETTLE_UNORDERED;
}

enum nx_settle nx_settle_views(const struct nx_view *v, int n, struct nx_settled *out)
{
	*out = (struct nx_settled){NX_SETTLE_NONE, -1, -1, -1, -1};
	bool all_same, positives_same;
	int pos = first_found(v, n, &all_same, &positives_same);
	if (pos < 0)
		return out->how;
	if (all_same) {
		out->use = pos;
		return out->how = NX_SETTLE_AGREE;
	}
	if (!one_primary(v, n))
		return settle_primaries(v, n, out);
	bool ordered = false, all_serials = true;
	int newest = -1;
	for (int i = 0; i < n; i++)
		all_serials &= v[i].has_serial;
	for (int i = 0; all_serials && i < n; i++) {
		if (newest < 0 || nx_serial_newer(v[i].serial, v[newest].serial))
			newest = i;
		ordered |= v[i].serial != v[0].serial;
	}
	if (ordered) {
		/* Only the views at the newest serial count: a positive view
		 * older than a denial is a record since deleted. */
		out->newest = newest;
		int agreed = -1;
		bool denied = false;
		for (int i = 0; i < n; i++) {
			if (v[i].serial != v[newest].serial)
				continue;
			if (!v[i].found)
				denied = true;
			else if (agreed < 0)
				agreed = i;
			else if (!same_set(&v[i], &v[agreed]) && out->a < 0)
				out->a = agreed, out->b = i;
		}
		if (agreed < 0)
			return out->how = NX_SETTLE_NEWEST_DENIES;
		if (out->a >= 0 || denied) { /* the same serial, different contents */
			if (out->a < 0)
				out->a = agreed;
			return out->how = NX_SETTLE_NEWEST_SPLIT;
		}
		out->use = agreed;
		return out->how = NX_SETTLE_NEWEST;
	}
	/* Serials cannot order the views (equal, as Route 53's, missing, or
	 * from independent primaries):
	 * the positive ones must agree; denials from servers the change has
	 * not reached yet do not outweigh them. */
	if (positives_same) {
		out->use = pos;
		return out->how = NX_SETTLE_UNORDERED;
	}
	for (int i = pos + 1; i < n; i++)
		if (v[i].found && !same_set(&v[i], &v[pos])) {
			out->a = pos, out->b = i;
			break;
		}
	return out->how = NX_SETTLE_SPLIT;
}

bool nx_settle_uses(enum nx_settle how)
{
	return how == NX_SETTLE_AGREE || how == NX_SETTLE_NEWEST || how == NX_SETTLE_UNORDERED;
}

int nx_settle_residual(char *buf, size_t len, int ndeny, int n)
{
	return snprintf(buf, len, "the residual case: %d of %d nameservers deny the name and SOA "
			"serials cannot order their views (equal, missing or of different primaries): "
			"the addresses the other %d agree on are returned, and may be a record since "
			"deleted", ndeny, n, n - ndeny);
}

const char *nx_settle_name(enum nx_settle how)
{
	switch (how) {
	case NX_SETTLE_NONE: return "none";
	case NX_SETTLE_AGREE: return "agree";
	case NX_SETTLE_NEWEST: return "newest";
	case NX_SETTLE_NEWEST_DENIES: return "newest-denies";
	case NX_SETTLE_NEWEST_SPLIT: return "newest-split";
	case NX_SETTLE_UNORDERED: return "unordered";
	case NX_SETTLE_SPLIT: return "split";
	}
	return "?";
}
