/* Configuration: defaults, then the libconfig file, then the environment.
 *
 * libconfig is linked into the engine statically and hidden (a PIC archive
 * built by scripts/build-deps from Debian's source package): the engine
 * needs no library but libc's, in any image, and the thin preload, which
 * every process loads, never carries it (docs/design.md, "Lazy everything"). */
#include "nxretry.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_FILE "/etc/nxretry.conf"

void nx_config_defaults(struct nx_config *c)
{
	memset(c, 0, sizeof *c);
	c->timeout = 60.0; /* Route 53: changes reach every server within 60 s */
	c->query_timeout = 0.8;
	c->fail_fast = 30.0;
	c->mode = NX_MODE_FALLBACK;
	c->log = NX_LOG_WARN;
	/* Rounds at about 0, 0.25, 0.75, 1.75 s, then every second: an answer
	 * at most ~1 s after the record appears, at about one query per second
	 * per waiting name (make bench, rows 4a and 4b). */
	c->backoff = (struct nx_backoff){.initial = 0.25, .max = 1.0, .factor = 2.0, .jitter = 0.2};
}

bool nx_parse_seconds(const char *text, double min, double max, double *out)
{
	if (!text || !*text)
		return false;
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || *end || end == text || !isfinite(v) || v < min || v > max)
		return false;
	/* Decimal numbers only: no "inf", hex floats or leading blanks. */
	for (const char *p = text; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return false;
	*out = v;
	return true;
}

bool nx_parse_port(const char *text, uint16_t *out)
{
	/* Digits only (no sign, blank or base prefix), 1 to 65535, however
	 * many leading zeros. */
	unsigned long v = 0;
	if (!*text)
		return false;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return false;
	}
	if (v == 0)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* ---- the file ---- */

struct reader {
	const char *path;
	struct nx_config *c;
};

static int bad(const struct reader *r, const config_setting_t *s, const char *what,
	       const char *detail)
{
	nx_log(NX_LOG_ERROR, "%s:%u: %s%s%s", r->path, s ? config_setting_source_line(s) : 0,
	       what, detail ? ": " : "", detail ? detail : "");
	return -1;
}

static int get_seconds(const struct reader *r, const config_setting_t *s, double min,
		       double max, double *out)
{
	double v;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		v = config_setting_get_int(s);
		break;
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		return bad(r, s, config_setting_name(s), "expected a number");
	}
	if (!isfinite(v) || v < min || v > max) {
		char range[96];
		snprintf(range, sizeof range, "%g is out of range [%g, %g]", v, min, max);
		return bad(r, s, config_setting_name(s), range);
	}
	*out = v;
	return 0;
}

static const char *get_string(const struct reader *r, const config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		bad(r, s, config_setting_name(s) ? config_setting_name(s) : "value",
		    "expected a string");
		return NULL;
	}
	return config_setting_get_string(s);
}

/* A nameserver listed twice is kept once: each pinned one is a host of its
 * own (authority.c numbers them), and a repeat would take a slot. */
static bool listed(const struct nx_zone *z, const struct nx_nameserver *server)
{
	for (int i = 0; i < z->nservers; i++)
		if (z->servers[i].port == server->port &&
		    z->servers[i].addr.family == server->addr.family &&
		    !memcmp(z->servers[i].addr.bytes, server->addr.bytes, sizeof server->addr.bytes))
			return true;
	return false;
}

static bool listed_name(const struct nx_zone *z, const char *name, uint16_t port)
{
	for (int i = 0; i < z->nserver_names; i++)
		if (z->server_name_ports[i] == port && !strcmp(z->server_names[i], name))
			return true;
	return false;
}

static int add_nameserver(const struct reader *r, const config_setting_t *s, struct nx_zone *z)
{
	const char *text = get_string(r, s);
	if (!text)
		return -1;
	struct nx_nameserver server;
	if (nx_nameserver_parse(text, &server) == 0) {
		if (listed(z, &server))
			return 0;
		if (z->nservers >= NX_MAXSERVERS)
			return bad(r, s, "nameservers", "too many addresses");
		z->servers[z->nservers++] = server;
		return 0;
	}
	if (text[0] == '[' || strchr(text, ':') != strrchr(text, ':'))
		return bad(r, s, "nameservers", "not a valid IPv6 address (\"[2001:db8::1]:53\")");
	/* A host name, with an optional ":port": read whole, never cut. */
	const char *colon = strchr(text, ':');
	size_t len = colon ? (size_t)(colon - text) : strlen(text);
	uint16_t port = 53;
	if (colon && !nx_parse_port(colon + 1, &port))
		return bad(r, s, "nameservers", "bad port");
	char host[NX_NAMEMAX];
	if (len >= sizeof host - 1 || (len > 253 && text[253] != '.'))
		return bad(r, s, "nameservers", "host name longer than 253 characters");
	memcpy(host, text, len);
	host[len] = 0;
	char name[NX_NAMEMAX];
	if (!nx_name_canonical(host, name) || !nx_name_host(name))
		return bad(r, s, "nameservers", "not an address or a host name");
	if (listed_name(z, name, port))
		return 0;
	if (z->nserver_names >= NX_MAXNS)
		return bad(r, s, "nameservers", "too many host names");
	memcpy(z->server_names[z->nserver_names], name, sizeof name);
	z->server_name_ports[z->nserver_names++] = port;
	return 0;
}

static int read_zone(const struct reader *r, const config_setting_t *g)
{
	struct nx_config *c = r->c;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return bad(r, g, "zones", "each zone is a group: { suffix = \"example.com\"; }");
	if (c->nzones >= NX_MAXZONES)
		return bad(r, g, "zones", "too many zones");
	struct nx_zone *z = &c->zones[c->nzones];
	memset(z, 0, sizeof *z);
	bool have_suffix = false;
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(s);
		if (!strcmp(key, "suffix")) {
			const char *v = get_string(r, s);
			if (!v)
				return -1;
			if (!nx_name_canonical(v, z->suffix))
				return bad(r, s, "suffix", "not a valid domain name");
			have_suffix = true;
		} else if (!strcmp(key, "timeout")) {
			if (get_seconds(r, s, 0.001, 3600, &z->timeout))
				return -1;
		} else if (!strcmp(key, "nameservers")) {
			int t = config_setting_type(s);
			if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
				return bad(r, s, "nameservers", "expected [ \"host\", \"IP:port\", ... ]");
			for (int j = 0; j < config_setting_length(s); j++)
				if (add_nameserver(r, config_setting_get_elem(s, (unsigned)j), z))
					return -1;
		} else {
			return bad(r, s, key, "unknown setting in a zone (suffix, nameservers, timeout)");
		}
	}
	if (!have_suffix)
		return bad(r, g, "zones", "a zone without suffix");
	c->nzones++;
	return 0;
}

static int read_backoff(const struct reader *r, const config_setting_t *g)
{
	struct nx_backoff *b = &r->c->backoff;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return bad(r, g, "backoff", "expected a group: { initial = 0.1; ... }");
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(s);
		int rc;
		if (!strcmp(key, "initial"))
			rc = get_seconds(r, s, 0.001, 60, &b->initial);
		else if (!strcmp(key, "max")) {
			rc = get_seconds(r, s, 0.001, 600, &b->max);
			r->c->backoff_max_given = true;
		} else if (!strcmp(key, "factor"))
			rc = get_seconds(r, s, 1, 10, &b->factor);
		else if (!strcmp(key, "jitter"))
			rc = get_seconds(r, s, 0, 1, &b->jitter);
		else
			rc = bad(r, s, key, "unknown setting in backoff (initial, max, factor, jitter)");
		if (rc)
			return -1;
	}
	if (b->max < b->initial)
		return bad(r, g, "backoff", "max is smaller than initial");
	return 0;
}

static int read_root(const struct reader *r, const config_setting_t *root)
{
	struct nx_config *c = r->c;
	for (int i = 0; i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *key = config_setting_name(s);
		const char *v;
		if (!strcmp(key, "timeout")) {
			if (get_seconds(r, s, 0.001, 3600, &c->timeout))
				return -1;
		} else if (!strcmp(key, "query_timeout")) {
			if (get_seconds(r, s, 0.01, 60, &c->query_timeout))
				return -1;
		} else if (!strcmp(key, "fail_fast")) {
			if (get_seconds(r, s, 0, 3600, &c->fail_fast))
				return -1;
		} else if (!strcmp(key, "mode")) {
			if (!(v = get_string(r, s)))
				return -1;
			if (!strcmp(v, "fallback"))
				c->mode = NX_MODE_FALLBACK;
			else if (!strcmp(v, "first"))
				c->mode = NX_MODE_FIRST;
			else
				return bad(r, s, "mode", "expected \"fallback\" or \"first\"");
		} else if (!strcmp(key, "log")) {
			if (!(v = get_string(r, s)))
				return -1;
			if (!nx_log_parse_level(v, &c->log))
				return bad(r, s, "log", "expected off, error, warn, info or debug");
		} else if (!strcmp(key, "backoff")) {
			if (read_backoff(r, s))
				return -1;
		} else if (!strcmp(key, "zones")) {
			int t = config_setting_type(s);
			if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
				return bad(r, s, "zones", "expected a list: ( { suffix = \"...\"; } )");
			for (int j = 0; j < config_setting_length(s); j++)
				if (read_zone(r, config_setting_get_elem(s, (unsigned)j)))
					return -1;
		} else {
			return bad(r, s, key,
				   "unknown setting (timeout, query_timeout, fail_fast, mode, log, backoff, zones)");
		}
	}
	return 0;
}

/* The file's text, NUL-terminated, read here rather than by libconfig's
 * config_read_file: that one needs fstat, a libc function only since glibc
 * 2.33, and a directory must fail here with EISDIR before libconfig's
 * scanner sees a read error (flex's answer to one is exit()). */
#define FILE_MAX (1 << 20)

static char *read_text(const char *path, size_t *length)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t len = 0, cap = 4096;
	char *text = malloc(cap);
	for (;;) {
		if (!text)
			break;
		if (len + 1 == cap) {
			char *more = cap < FILE_MAX ? realloc(text, cap * 2) : NULL;
			if (!more) {
				errno = cap < FILE_MAX ? ENOMEM : EFBIG;
				break;
			}
			text = more;
			cap *= 2;
		}
		ssize_t n = read(fd, text + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			close(fd);
			text[len] = 0;
			*length = len;
			return text;
		}
		len += (size_t)n;
	}
	int e = errno;
	close(fd);
	free(text);
	errno = e;
	return NULL;
}

/* The length of the UTF-8 sequence at p (at most n bytes), or 0 when it is
 * not one: overlong forms, surrogates and code points past U+10FFFF are
 * not UTF-8 either. */
static size_t utf8_length(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
		   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || /* overlong, surrogate */
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))   /* overlong, > U+10FFFF */
		return 0;
	return len;
}

/* libconfig reads up to the first NUL and takes any byte in a string: a
 * file is text, UTF-8 without NUL, or an error at the line of the first
 * byte that is not. Returns that line, or 0. */
static int not_text_line(const char *text, size_t len, const char **why)
{
	const unsigned char *p = (const unsigned char *)text;
	int line = 1;
	for (size_t i = 0; i < len;) {
		size_t n = p[i] ? utf8_length(p + i, len - i) : 0;
		if (!n) {
			*why = p[i] ? "not UTF-8 text" : "a NUL byte: not a text file";
			return line;
		}
		line += p[i] == '\n';
		i += n;
	}
	return 0;
}

/* libconfig opens "@include" files itself, with none of read_text's care:
 * a directory makes its scanner exit() the process, /dev/stdin takes the
 * program's input. nxretry's file includes nothing. Returns the number of
 * the first line libconfig would read as an include (blanks, @include,
 * blanks, a quote), or 0. */
static int include_line(const char *text)
{
	const char *p = text;
	for (int line = 1;; line++) {
		const char *s = p + strspn(p, " \t");
		if (!strncmp(s, "@include", 8) && (s[8] == ' ' || s[8] == '\t') &&
		    s[8 + strspn(s + 8, " \t")] == '"')
			return line;
		p = strchr(p, '\n');
		if (!p)
			return 0;
		p++;
	}
}

int nx_config_read_file(struct nx_config *c, const char *path)
{
	size_t len = 0;
	char *text = read_text(path, &len);
	if (!text) {
		nx_log(NX_LOG_ERROR, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	const char *why = NULL;
	int bad_line = not_text_line(text, len, &why);
	if (bad_line) {
		nx_log(NX_LOG_ERROR, "%s:%d: %s", path, bad_line, why);
		free(text);
		return -1;
	}
	int include = include_line(text);
	if (include) {
		nx_log(NX_LOG_ERROR, "%s:%d: @include is not supported", path, include);
		free(text);
		return -1;
	}
	config_t cfg;
	config_init(&cfg);
	int rc = -1;
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		nx_log(NX_LOG_ERROR, "%s:%d: %s", path, config_error_line(&cfg),
		       config_error_text(&cfg));
	} else {
		struct reader r = {path, c};
		rc = read_root(&r, config_root_setting(&cfg));
	}
	config_destroy(&cfg);
	free(text);
	return rc;
}

/* ---- the environment ---- */

static int env_zones(struct nx_config *c, const char *text)
{
	/* ~140 KiB: on the heap, the first lookup may come from a small-stack
	 * thread pool worker. */
	struct nx_zone *zones = calloc(NX_MAXZONES, sizeof *zones);
	char(*names)[NX_NAMEMAX] = calloc(NX_MAXZONES, sizeof *names);
	char why[NX_NAMEMAX + 64] = "out of memory";
	int n = zones && names ? nx_zone_list(text, names, NX_MAXZONES, why, sizeof why) : -1;
	if (n <= 0) {
		/* None named (",", " , "): as unset, the file's zones stay. */
		if (n < 0)
			nx_log(NX_LOG_ERROR, "NXRETRY_ZONES: %s", why);
		free(zones);
		free(names);
		return n;
	}
	for (int k = 0; k < n; k++) {
		/* A zone the file also names keeps the file's settings. */
		const struct nx_zone *known = NULL;
		for (int i = 0; i < c->nzones; i++)
			if (!strcmp(c->zones[i].suffix, names[k]))
				known = &c->zones[i];
		if (known)
			zones[k] = *known;
		else
			strcpy(zones[k].suffix, names[k]);
	}
	memcpy(c->zones, zones, sizeof zones[0] * (size_t)n);
	c->nzones = n;
	free(zones);
	free(names);
	return 0;
}

/* An NXRETRY_* variable, or NULL when it says nothing (nx_env_blank). */
static const char *env_value(nx_getenv_fn env, const char *name)
{
	const char *v = env(name);
	return nx_env_blank(v) ? NULL : v;
}

int nx_config_apply_env(struct nx_config *c, nx_getenv_fn env)
{
	const char *v;
	if ((v = env_value(env, "NXRETRY_LOG"))) {
		if (!nx_log_parse_level(v, &c->log)) {
			nx_log(NX_LOG_ERROR, "NXRETRY_LOG: '%s' is not off, error, warn, info or debug", v);
			return -1;
		}
	}
	if ((v = env_value(env, "NXRETRY_TIMEOUT"))) {
		if (!nx_parse_seconds(v, 0.001, 3600, &c->timeout)) {
			nx_log(NX_LOG_ERROR, "NXRETRY_TIMEOUT: '%s' is not a number of seconds in (0, 3600]", v);
			return -1;
		}
		for (int i = 0; i < c->nzones; i++)
			c->zones[i].timeout = 0; /* the environment wins over the file */
	}
	if ((v = env_value(env, "NXRETRY_MODE"))) {
		if (!strcmp(v, "fallback"))
			c->mode = NX_MODE_FALLBACK;
		else if (!strcmp(v, "first"))
			c->mode = NX_MODE_FIRST;
		else {
			nx_log(NX_LOG_ERROR, "NXRETRY_MODE: '%s' is not fallback or first", v);
			return -1;
		}
	}
	if ((v = env_value(env, "NXRETRY_ZONES")) && env_zones(c, v))
		return -1;
	return 0;
}

int nx_config_load(struct nx_config *c, nx_getenv_fn env)
{
	nx_config_defaults(c);
	/* The level from the environment applies to file errors too. */
	const char *lv = env_value(env, "NXRETRY_LOG");
	enum nx_level level;
	if (lv && nx_log_parse_level(lv, &level))
		nx_log_level = level;
	const char *path = env_value(env, "NXRETRY_CONFIG");
	if (path) {
		if (nx_config_read_file(c, path))
			return -1;
	} else if (access(DEFAULT_FILE, F_OK) == 0) {
		if (nx_config_read_file(c, DEFAULT_FILE))
			return -1;
	}
	if (nx_config_apply_env(c, env))
		return -1;
	nx_log_level = c->log;
	c->enabled = c->nzones > 0;
	return 0;
}

const struct nx_zone *nx_config_zone_for(const struct nx_config *c, const char *canonical)
{
	const struct nx_zone *best = NULL;
	for (int i = 0; i < c->nzones; i++) {
		const struct nx_zone *z = &c->zones[i];
		if (nx_name_under(canonical, z->suffix) &&
		    (!best || strlen(z->suffix) > strlen(best->suffix)))
			best = z;
	}
	return best;
}
