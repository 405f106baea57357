/* nxretry: the interface between the engine (shim/engine/) and its front
 * ends (shim/preload/, shim/cli/, shim/stub/).
 *
 * The data path, one file per step:
 *   hooks.c      the preloaded entry points (preload/: thin, no c-ares)
 *   engine.c     loaded on the first qualifying failure: which lookups it
 *                takes, and what their outcome means for the caller
 *   lookup.c     one name: memos, a shared wait, a CNAME chain
 *   round.c      the wait: rounds across the zone's servers, with backoff
 *   memo.c       outcomes kept for a while; flight.c  waits shared by threads
 *   policy.c     which names and errors qualify, which zone a name is under
 *   config.c     environment and libconfig file
 *   authority.c  a zone's authoritative servers, cached by TTL
 *   probe.c      one query exchange with one server over c-ares
 *   message.c    DNS wire format: build a query, classify a reply
 *   wait.c       backoff and deadline
 *   result.c     addrinfo lists built like glibc's, and their release
 *   log.c        one line per event on stderr
 */
#ifndef NXRETRY_H
#define NXRETRY_H

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* musl (make musl; measured on Debian's musl 1.2.3), which defines no
 * __GLIBC__:
 * - getaddrinfo never returns EAI_NODATA (its header defines it, unused):
 *   NXDOMAIN and NODATA both give EAI_NONAME. Counting EAI_NODATA as
 *   EAI_NONAME makes the hooks' test for "libc failed" musl's, and the
 *   engine's "no data" answer the code a musl program expects.
 * - gethostbyname*_r return ENOENT, not 0, with *h_errnop HOST_NOT_FOUND
 *   or NO_DATA when the name has no address: NX_HOSTENT_R_MISS is that
 *   "found nothing" return, as libc gives it and as nxretry must.
 * - netdb.h lacks glibc's NETDB_SUCCESS and NETDB_INTERNAL h_errno values
 *   (glibc's values, which musl programs never compare against). */
#ifdef __GLIBC__
#define NX_HOSTENT_R_MISS 0
#else
#undef EAI_NODATA
#define EAI_NODATA EAI_NONAME
#define NX_HOSTENT_R_MISS ENOENT
#ifndef NETDB_SUCCESS
#define NETDB_SUCCESS 0
#endif
#ifndef NETDB_INTERNAL
#define NETDB_INTERNAL (-1)
#endif
#ifndef AI_CANONIDN /* glibc's IDN flag: musl has no IDN support, no flag */
#define AI_CANONIDN 0
#endif
#endif

#define NX_NAMEMAX 256    /* presentation form, no trailing dot, NUL included */
#define NX_MAXADDRS 48    /* addresses kept from one reply */
#define NX_MAXNS 13       /* NS names kept from one reply or zone */
#define NX_MAXSERVERS 16  /* server addresses per zone */
#define NX_MAXZONES 32    /* configured suffixes */
#define NX_MAXCHAIN 8     /* CNAME links followed */
#define NX_MAXRESOLVERS 8 /* recursive resolvers set in nx_config */

/* What happened at the DNS level. The mapping to EAI_* lives in engine.c. */
enum nx_status {
	NX_ANSWER,    /* addresses (or the asked records) for the name */
	NX_NXDOMAIN,  /* authoritative: the name does not exist */
	NX_NODATA,    /* authoritative: the name exists, not with this type */
	NX_CNAME,     /* the chain leaves the reply: target in `next` */
	NX_REFERRAL,  /* not authoritative, NS of a zone below in authority */
	NX_REFUSED,
	NX_SERVFAIL,
	NX_LAME,      /* an answer without AA from a server asked as authority */
	NX_LOOP,      /* a CNAME loop or a chain over NX_MAXCHAIN links */
	NX_MISMATCH,  /* id, question or QR bit do not match ours */
	NX_TRUNCATED, /* TC set and no usable content */
	NX_MALFORMED, /* cannot be parsed */
	NX_RCODE,     /* another error rcode (FORMERR, NOTIMP...) */
	NX_TIMEOUT,   /* no reply within the per-server timeout */
	NX_UNREACHABLE, /* connection refused, no route */
	NX_ERROR,     /* local failure (memory, sockets) */
};

const char *nx_status_name(enum nx_status s);

/* A neutral address, as musl's lookup code keeps them. */
struct nx_addr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char bytes[16];
};

/* A nameserver address; port in host byte order. */
struct nx_nameserver {
	struct nx_addr addr;
	uint16_t port;
};

int nx_nameserver_format(const struct nx_nameserver *s, char *buf, size_t len);
/* Per process, what the servers taught (nameserver.c): addresses that timed
 * out or were unreachable, the address family that last answered, and a
 * random first server. Reset in a fork child. */
void nx_nameserver_mark(const struct nx_nameserver *s, bool answered);
bool nx_nameserver_failed(const struct nx_nameserver *s);
void nx_nameserver_unmark(const struct nx_nameserver *s);
int nx_nameserver_family(void); /* the family that answered last, or 0 */
unsigned nx_nameserver_start(void);
void nx_nameserver_reset(void);
/* RFC 1982: serial a is newer than b (false when equal or undefined). */
bool nx_serial_newer(uint32_t a, uint32_t b);
/* What one nameserver said of a name in a round (round.c; check.c shows
 * the same weighing). */
struct nx_view {
	bool found;                  /* addresses; else a denial the wait goes on after */
	bool has_serial;             /* the zone's SOA serial at that server is known */
	uint32_t serial;
	const struct nx_addr *addrs; /* found: its addresses, in any order */
	int naddrs;
	const char *primary;         /* with the serial: its SOA's MNAME; NULL unknown */
	/* found, for a type other than A/AAAA: its records, compared as a set
	 * of rdata as addrs are (naddrs 0); NULL for addresses */
	const struct nx_records *records;
};
/* How the views of one round settle (pure, nameserver.c). Serials order the
 * views when every one has a serial, they are not all equal and the SOAs
 * name one primary (one history of changes): then only the views at the
 * newest serial count. Otherwise the positive views must all have the same
 * addresses. */
enum nx_settle {
	NX_SETTLE_NONE,          /* no view has addresses: wait */
	NX_SETTLE_AGREE,         /* every view has the same addresses: use[] */
	NX_SETTLE_NEWEST,        /* the newest serial's servers agree on addresses: use[] */
	NX_SETTLE_NEWEST_DENIES, /* the newest serial's servers do not have the name: wait */
	NX_SETTLE_NEWEST_SPLIT,  /* the newest serial's servers differ: wait */
	NX_SETTLE_UNORDERED,     /* serials cannot order them; the positive views agree: use[] */
	NX_SETTLE_SPLIT,         /* serials cannot order them; positive views differ: wait */
};
struct nx_settled {
	enum nx_settle how;
	int use;    /* the view whose addresses to return, or -1 */
	int newest; /* ordered: a view at the newest serial, else -1 */
	int a, b;   /* SPLIT, NEWEST_SPLIT: two positive views that differ, else -1 */
};
/* True when what settles the views depends on serials some positive view
 * lacks (the caller asks those servers for their SOA, then settles again). */
bool nx_settle_needs_serials(const struct nx_view *v, int n);
enum nx_settle nx_settle_views(const struct nx_view *v, int n, struct nx_settled *out);
bool nx_settle_uses(enum nx_settle how); /* AGREE, NEWEST, UNORDERED */
const char *nx_settle_name(enum nx_settle how);
/* The residual case in words (round.c's info line, nxretry --check): the
 * positive views agree, ndeny of n deny the name, serials cannot order
 * them. snprintf's return. */
int nx_settle_residual(char *buf, size_t len, int ndeny, int n);
int nx_addr_format(const struct nx_addr *a, char *buf, size_t len);
/* "IP", "IP:port", "[v6]", "[v6]:port"; 0 on success, -1 if not numeric. */
int nx_nameserver_parse(const char *text, struct nx_nameserver *out);

/* ---- message.c ---- */
enum { NX_T_A = 1, NX_T_NS = 2, NX_T_CNAME = 5, NX_T_SOA = 6, NX_T_PTR = 12, NX_T_MX = 15,
       NX_T_TXT = 16, NX_T_AAAA = 28, NX_T_SRV = 33 };

/* The records of one asked type other than A/AAAA (any type, RFC 3597),
 * owned by the chain's end: each one's TTL and rdata in wire form, names
 * inside NS, CNAME, PTR, MX, SRV and SOA rdata decompressed, every other
 * type's rdata copied as it came. At most NX_MAXADDRS records and
 * NX_MAXRDATA bytes: a set over either is cut (not to be served as whole).
 * Shared, immutable, by the nx_found copies holding it (refs). */
#define NX_MAXRDATA 4096
struct nx_records {
	int refs;
	bool cut;
	int n;
	struct {
		uint32_t ttl;
		uint16_t off, len; /* into data */
	} rr[NX_MAXADDRS];
	size_t used;
	unsigned char data[NX_MAXRDATA];
};
/* A copy on the heap with one reference; NULL without memory. */
struct nx_records *nx_records_copy(const struct nx_records *r);
void nx_records_hold(struct nx_records *r);  /* NULL: nothing */
void nx_records_drop(struct nx_records *r);  /* the last reference frees; NULL: nothing */

struct nx_reply {
	enum nx_status status;
	int rcode;
	bool aa;
	bool tc;
	uint32_t ttl;              /* answer TTL, or negative TTL (RFC 2308 §5) */
	struct nx_addr addrs[NX_MAXADDRS];
	int naddrs;
	char canon[NX_NAMEMAX];    /* owner of the records found, after CNAMEs */
	int chain;                 /* CNAME links followed inside the reply */
	/* The CNAME targets followed, in order, letter case as the server
	 * wrote them (glibc hands names to callers as sent). */
	char aliases[NX_MAXCHAIN][NX_NAMEMAX];
	int naliases;
	char next[NX_NAMEMAX];     /* NX_CNAME: target; NX_REFERRAL: child zone */
	char soa_owner[NX_NAMEMAX];
	char soa_mname[NX_NAMEMAX]; /* the zone's primary, as its SOA names it */
	uint32_t soa_ttl, soa_minimum, soa_serial;
	bool has_soa;
	char ns[NX_MAXNS][NX_NAMEMAX]; /* NS names (answer or referral) */
	int nns;
	uint32_t ns_ttl;
	struct nx_addr glue[NX_MAXSERVERS]; /* additional-section addresses of ns[] */
	int glue_ns[NX_MAXSERVERS];         /* index into ns[] */
	int nglue;
	struct nx_records rrs; /* NX_ANSWER to a type other than A/AAAA: its records */
};

/* Builds a query with one question; returns its length or -1. */
int nx_message_query(unsigned char *buf, size_t len, uint16_t id, const char *name,
		     int qtype, bool rd);
/* Classifies a reply to the query (id, name, qtype). With want_aa, answers
 * and denials without the AA bit are NX_LAME (RFC 1034 §4.3.1). A reply
 * whose names taken for use (CNAME targets, NS targets, a referral's zone,
 * SOA owner and MNAME) are not host names is NX_MALFORMED, said in one log
 * line. */
void nx_message_classify(const unsigned char *msg, size_t len, uint16_t id,
			 const char *name, int qtype, bool want_aa, struct nx_reply *out);
/* A host name as glibc's res_hnok sees one (resolv/res_comp.c): labels of
 * letters, digits, '-' and '_', not starting with '-', at most 253
 * characters, no empty label, no trailing dot. */
bool nx_name_host(const char *name);
/* The serial and primary (MNAME) of apex's SOA in the first of r[0..n)
 * that carries it; false, and nothing written, when none does. */
bool nx_reply_serial(const struct nx_reply *r, int n, const char *apex, uint32_t *serial,
		     char primary[NX_NAMEMAX]);

/* ---- policy.c ---- */
/* Copies name in canonical form (lower case, no trailing dot) into out;
 * false for empty, over 253 characters, empty labels, labels over 63. */
bool nx_name_canonical(const char *name, char out[NX_NAMEMAX]);
/* True if canonical name equals suffix or ends with "." + suffix. */
bool nx_name_under(const char *name, const char *suffix);
bool nx_name_numeric(const char *name);
/* Splits an NXRETRY_ZONES value (suffixes separated by commas or blanks)
 * into at most max canonical suffixes; their number, or -1 with why set. */
int nx_zone_list(const char *text, char (*out)[NX_NAMEMAX], int max, char *why, size_t whylen);
/* True if the hosts file lists the canonical name (or an alias). */
bool nx_hosts_has(const char *path, const char *canonical);

/* ---- config.c ---- */
enum nx_mode { NX_MODE_FALLBACK, NX_MODE_FIRST };
enum nx_level { NX_LOG_OFF, NX_LOG_ERROR, NX_LOG_WARN, NX_LOG_INFO, NX_LOG_DEBUG };

struct nx_zone {
	char suffix[NX_NAMEMAX];
	struct nx_nameserver servers[NX_MAXSERVERS]; /* pinned, numeric */
	int nservers;
	char server_names[NX_MAXNS][NX_NAMEMAX]; /* pinned, by host name */
	uint16_t server_name_ports[NX_MAXNS];
	int nserver_names;
	double timeout; /* 0: the global one */
};

struct nx_backoff {
	double initial, max, factor, jitter; /* seconds, seconds, ratio, 0..1 */
};

struct nx_config {
	bool enabled;
	double timeout;        /* seconds one lookup may wait in total */
	double query_timeout;  /* seconds one server may take to answer */
	double fail_fast;      /* seconds a name that outlived its deadline fails at once */
	enum nx_mode mode;
	enum nx_level log;
	struct nx_backoff backoff;
	bool backoff_max_given; /* the file set backoff.max (the stub's default is its own) */
	struct nx_zone zones[NX_MAXZONES];
	int nzones;
	/* The recursive resolvers discovery asks; none: /etc/resolv.conf's.
	 * The stub names its upstreams here (resolv.conf may name the stub). */
	struct nx_nameserver resolvers[NX_MAXRESOLVERS];
	int nresolvers;
};

/* getenv-like: secure_getenv in the library, a table in tests. */
typedef const char *(*nx_getenv_fn)(const char *name);

void nx_config_defaults(struct nx_config *c);
/* Reads the file (if any) then the environment. On any error logs one line
 * and returns -1; the caller must then stay inert. */
int nx_config_load(struct nx_config *c, nx_getenv_fn env);
/* Parses a libconfig file into c; exposed for the tests. */
int nx_config_read_file(struct nx_config *c, const char *path);
int nx_config_apply_env(struct nx_config *c, nx_getenv_fn env);
/* A port: digits only, 1 to 65535; false on anything else. */
bool nx_parse_port(const char *text, uint16_t *out);
/* An NXRETRY_* value that says nothing: unset, empty or blanks only. The
 * hook and the engine both take it as unset (for NXRETRY_ZONES, a list
 * naming no zone, ",", is unset too: nx_zone_list returns 0). */
static inline bool nx_env_blank(const char *v)
{
	if (!v)
		return true;
	while (*v == ' ' || *v == '\t' || *v == '\n')
		v++;
	return !*v;
}
/* "10", "10.0", "0.5" -> seconds; false on anything else or out of range. */
bool nx_parse_seconds(const char *text, double min, double max, double *out);
const struct nx_zone *nx_config_zone_for(const struct nx_config *c, const char *canonical);

/* ---- log.c ---- */
extern enum nx_level nx_log_level;
/* The formatted line goes through nx_escape before it reaches stderr. */
void nx_log(enum nx_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies in to out (size bytes, NUL included) with every byte outside
 * printable ASCII written \DDD (decimal, as dig does) and '\' as "\\";
 * cut between characters when out is full. Returns the length written. */
size_t nx_escape(char *out, size_t size, const char *in);
bool nx_log_parse_level(const char *text, enum nx_level *out);
/* Whether a line may be written to fd 2 now, in someone else's program
 * (the preload's rule; the engine loaded by it asks the preload's copy).
 * fd 2 is recorded the first time this is asked (at the process's first
 * lookup), if it looks like a log then (see log.c). Lines go out while fd
 * 2 is still that file, or is a terminal: a program that closed stderr
 * and put a data file or a socket in its place never gets one. */
bool nx_log_usable(void);
/* nx_log asks usable (default: fd 2 is open; the engine in a program:
 * the preload's nx_log_usable). */
void nx_log_check_with(bool (*usable)(void));

/* ---- wait.c ---- */
/* Delay before attempt n+1 (n counts from 0), jittered with r in [0,1):
 * min(max, initial * factor^n) * (1 - jitter * r). */
double nx_backoff_delay(const struct nx_backoff *b, unsigned n, double r);
int64_t nx_now_ms(void);
/* Fills buf (at most 256 bytes) from the first source that gives bytes:
 * the getrandom system call without blocking, /dev/urandom (never blocks),
 * and only then the clock. Returns the source used. */
enum nx_entropy { NX_ENTROPY_GETRANDOM, NX_ENTROPY_URANDOM, NX_ENTROPY_CLOCK };
enum nx_entropy nx_random_fill(void *buf, size_t len);
double nx_random_unit(void);
uint16_t nx_random_id(void);

/* ---- probe.c ---- */
/* Sends one query per qtype to one server (RD as given) and waits for all
 * replies, at most timeout_ms and never past deadline_ms (nx_now_ms clock).
 * Replies are classified into out[i]. Returns 0, or -1 on a local error
 * (a channel or socket not opened: EMFILE, memory), out[i] NX_ERROR then. */
int nx_probe(const struct nx_nameserver *server, const char *name, const int *qtypes,
	     int nq, bool rd, int timeout_ms, int64_t deadline_ms, struct nx_reply *out);

/* ---- authority.c ---- */
struct nx_authority {
	char apex[NX_NAMEMAX];
	struct nx_nameserver servers[NX_MAXSERVERS];
	int host[NX_MAXSERVERS]; /* the nameserver (by name) servers[i] is an address of */
	int nservers, nhosts;    /* hosts numbered 0..nhosts-1; a host may have no address */
	int64_t expires_ms;
};
/* A bound on nhosts: pinned hosts are numbered numeric ones first, then
 * names (nservers + i), discovered ones by NS name (below NX_MAXNS). */
#define NX_MAXHOSTS (NX_MAXSERVERS + NX_MAXNS)

/* The system resolver's servers (resolv.conf nameserver lines, port 53). */
int nx_system_servers(const char *path, struct nx_nameserver *out, int max);
/* Finds the authoritative servers for the configured zone (pinned or
 * discovered through the system resolver, cached by TTL). 0 or -1. */
int nx_authority_for(const struct nx_config *c, const struct nx_zone *zone,
		     const char *name, int64_t deadline_ms, struct nx_authority *out);
/* Servers for a child zone named by a referral (glue, else system lookup). */
int nx_authority_from_referral(const struct nx_config *c, const struct nx_reply *r,
			       int64_t deadline_ms, struct nx_authority *out);
void nx_authority_forget(const char *key); /* a suffix or a child apex */
/* What the system resolver's SOA reply (st, r) to a question about the
 * configured suffix or one of its ancestors says of the suffix's zone:
 * FOUND, apex set (the SOA owner, the suffix or above it, never the root);
 * PARENT, the name asked is an alias, ask again for its parent; ROOT, the
 * SOA is the root's (no zone holds the name asked there, or the resolver is
 * broken); NONE, no zone to use. */
enum nx_apex { NX_APEX_FOUND, NX_APEX_PARENT, NX_APEX_ROOT, NX_APEX_NONE };
enum nx_apex nx_authority_apex(const char *suffix, enum nx_status st, const struct nx_reply *r,
				char apex[NX_NAMEMAX]);
/* The pure part of using an NS reply: its glue addresses (port 53) added to
 * a; returns the NS names without glue, bit i for ns->ns[i] (looked up
 * through the system resolver by the caller). */
uint32_t nx_authority_glue(const struct nx_reply *ns, struct nx_authority *a);
void nx_authority_reset(void);
void nx_authority_lock(void); /* around fork (engine.c) */
void nx_authority_unlock(void);

/* ---- result.c ---- */
typedef int (*nx_gai_fn)(const char *, const char *, const struct addrinfo *,
			 struct addrinfo **);
typedef void (*nx_freeai_fn)(struct addrinfo *);

/* Builds *res as glibc would for these addresses and hints: each address is
 * expanded by libc's own numeric getaddrinfo (socket types, services,
 * AI_V4MAPPED, AI_ADDRCONFIG), then copied into nodes we own. Returns 0 or
 * an EAI_* code. */
int nx_result_build(const struct nx_addr *addrs, int naddrs, const char *canon,
		    const char *service, const struct addrinfo *hints,
		    nx_gai_fn gai, nx_freeai_fn freeai, struct addrinfo **res);
/* Frees a list holding any node built here, as glibc frees, node by node:
 * those nodes freed, each run of other nodes cut off and given to freeai
 * (libc's). False, with nothing done, when no node is ours. */
bool nx_result_release(struct addrinfo *ai, nx_freeai_fn freeai);
/* Orders addresses as glibc orders getaddrinfo results (RFC 6724 §6),
 * each address taken once with no service. nx_result_build orders its
 * nodes itself, as glibc does, from the order given. */
void nx_result_sort(struct nx_addr *addrs, int naddrs);
/* Fills a hostent as glibc's DNS backend does (resolv/nss_dns): names
 * [asked, aliases...], the last one h_name and the others h_aliases; the
 * addresses of family af; laid out in buf as glibc lays them out, so that
 * ERANGE comes at exactly glibc's sizes, for any alignment of buf. asked
 * is the name as the caller spelled it (a trailing dot dropped). 0, ERANGE
 * when buf is too small, or -1 when no address has that family. */
int nx_result_hostent_chain(const struct nx_addr *addrs, int naddrs, const char *asked,
			    const char (*aliases)[NX_NAMEMAX], int naliases, int af,
			    struct hostent *ret, char *buf, size_t buflen);
/* The same with one alias, canon, when it differs from asked. */
int nx_result_hostent(const struct nx_addr *addrs, int naddrs, const char *canon,
		      const char *asked, int af, struct hostent *ret, char *buf, size_t buflen);
/* glibc's gethostbyname*_r check before any lookup (nss/digits_dots.c): a
 * name starting with a hexadecimal digit or ':' needs a buffer of at least
 * 40 bytes plus the name; false when buflen is below that (ERANGE). */
bool nx_result_hostent_room(const char *name, size_t buflen);
/* The family glibc's getaddrinfo narrows AF_UNSPEC to under AI_ADDRCONFIG
 * when the host has addresses of one family only (as libc's own numeric
 * lookups with the flag tell). */
int nx_result_family(int family, int flags, nx_gai_fn gai, nx_freeai_fn freeai);
void nx_result_reset(void);
void nx_result_lock(void); /* around fork (engine.c) */
void nx_result_unlock(void);

/* ---- lookup.c, round.c, memo.c, flight.c: one name asked of its zone's
 * authority, as a sequence of steps that each give an nx_found ---- */
enum nx_outcome {
	NX_OUT_FOUND,  /* addresses */
	NX_OUT_NODATA, /* the name exists, without the asked types */
	/* the name is a CNAME whose target exists without the asked types
	 * (glibc answers this apart from NODATA: see engine.c's conclude) */
	NX_OUT_ALIAS_NODATA,
	NX_OUT_ABSENT, /* still no such name when the deadline passed */
	/* the zone's servers answer with a CNAME they do not resolve: canon is
	 * its target, aliases the links so far (lookup.c follows it) */
	NX_OUT_ALIAS,
	NX_OUT_LIBC,   /* the authority could not settle it: libc's answer */
};

/* Why the authority could not settle a name (NX_OUT_LIBC): what its log
 * line says and what the process remembers of the zone. */
enum nx_why {
	NX_WHY_NONE,
	NX_WHY_FAILED,  /* no usable answer (errors, lame servers, a deadline) */
	NX_WHY_SILENT,  /* not one reply from any address, round after round */
	NX_WHY_REFUSED, /* every server refused: a private zone */
	NX_WHY_LOOP,    /* a CNAME chain too long or looping */
	NX_WHY_SKIPPED, /* not asked: remembered as unreachable, or no memory */
	NX_WHY_LOCAL,   /* a local error (descriptors, memory) kept servers from being asked */
};

struct nx_found {
	enum nx_outcome outcome;
	enum nx_why why;
	struct nx_addr addrs[NX_MAXADDRS];
	int naddrs;
	char canon[NX_NAMEMAX];
	/* Every CNAME link from the name asked to canon, letter case as sent:
	 * glibc's h_aliases and canonical name come from them. */
	char aliases[NX_MAXCHAIN][NX_NAMEMAX];
	int naliases;
	uint32_t ttl; /* FOUND: the TTL of the records used, as the authority gave it */
	uint32_t age; /* seconds since the servers gave it (a memo's): the stub's TTLs count down by it */
	/* FOUND by nx_lookup_type: the records (a reference, nx_records_drop
	 * it); NULL for addresses */
	struct nx_records *records;
};

/* One name asked of its zone's authority. */
struct nx_query {
	char name[NX_NAMEMAX]; /* canonical */
	const struct nx_config *cfg;
	const struct nx_zone *zone;
	const struct nx_libc *libc; /* for a CNAME target outside the zones */
	int family, flags;
	int qtypes[2], nq;
	int rrtype; /* nx_lookup_type: the one type asked (records, not addresses); 0 */
	int64_t deadline_ms;
	int links; /* CNAME links followed before this name, all replies */
	bool first; /* mode first: libc is there to ask when the servers cannot settle it */
	bool once;  /* absent at a deadline moments ago: one round, no wait */
};

/* lookup.c: the whole lookup of node (the memos, the shared wait, a CNAME
 * chain), each step giving an nx_found. */
void nx_lookup(const struct nx_config *cfg, const struct nx_libc *libc, const char *node,
	       int family, int flags, bool first, struct nx_found *out);
/* The same for one record type other than A/AAAA (the stub's TXT, MX,
 * SRV...): FOUND carries out->records; NODATA when a server has the name
 * without that type (no wait: it exists, the upstream's denial was stale). */
void nx_lookup_type(const struct nx_config *cfg, const struct nx_libc *libc, const char *node,
		    int rrtype, bool first, struct nx_found *out);

/* round.c: waiting for the authority, round after round, until an answer
 * or the deadline. out: FOUND, NODATA, ABSENT, ALIAS or LIBC. A zone none
 * of whose servers replied in NX_SILENT_ROUNDS rounds running is given up
 * (NX_WHY_SILENT). */
#define NX_SILENT_ROUNDS 2
struct nx_wait {
	unsigned attempts;
	enum nx_status last;   /* the last status a server gave */
	char server[64];       /* who answered */
	char apex[NX_NAMEMAX]; /* the zone asked last */
	int nhosts;            /* its nameservers */
	uint32_t ttl;          /* of the answer used */
	int links;             /* CNAME links, this name's included */
	bool bare;             /* NODATA at the deadline: the name has no address of any type */
};
void nx_wait_for(const struct nx_query *q, struct nx_wait *w, struct nx_found *out);

/* memo.c: outcomes kept beyond the lookup that found them, each for its
 * own time: an answer for its TTL, "NAME/absent" and "SUFFIX/unreachable"
 * for fail_fast. */
#define NX_KEYMAX (NX_NAMEMAX + 24) /* a name and a few words */
bool nx_memo_recall(const char *key, struct nx_found *out);
void nx_memo_keep(const char *key, const struct nx_found *found, uint32_t keep_s);
void nx_memo_forget(const char *key); /* a kept outcome no longer holds */
void nx_memo_reset(void);
void nx_memo_lock(void); /* around fork (engine.c) */
void nx_memo_unlock(void);

/* flight.c: lookups in flight, shared by threads. fn resolves into out
 * and returns how many seconds its outcome may serve later lookups. */
typedef uint32_t (*nx_flight_fn)(void *ctx, struct nx_found *out);
/* Runs fn once per key at a time: callers with the same key meanwhile wait
 * for its outcome (never past their own deadline, else NX_OUT_LIBC), and
 * later ones get it from the memo while it is kept. */
void nx_flight_run(const char *key, int64_t deadline_ms, nx_flight_fn fn, void *ctx,
		   struct nx_found *out);
void nx_flight_reset(void);
void nx_flight_lock(void); /* around fork (engine.c) */
void nx_flight_unlock(void);

/* ---- once.c: an initialisation run once per process ---- */
/* The signals held off while nxretry runs its own code: all but the
 * synchronous faults (glibc's and musl's sigfillset leave out their
 * internal signals). */
static inline void nx_async_signals(sigset_t *set)
{
	static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
	sigfillset(set);
	for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
		sigdelset(set, faults[i]);
}
/* Fork-safe (a child finds its parent's running init and runs it itself),
 * with cancellation and asynchronous signals held off while it runs. bit:
 * this instance's own bit among the library's instances. */
enum { NX_ONCE_NEW = 0, NX_ONCE_DONE = -1 };
struct nx_once {
	int state; /* NX_ONCE_NEW, NX_ONCE_DONE, or the pid of the process running init */
	unsigned bit;
};
void nx_once_wait(struct nx_once *o, void (*init)(void));
static inline void nx_once(struct nx_once *o, void (*init)(void))
{
	if (__atomic_load_n(&o->state, __ATOMIC_ACQUIRE) != NX_ONCE_DONE)
		nx_once_wait(o, init);
}

/* ---- call.c: one engine call per thread ---- */
/* Inside a call, cancellation and asynchronous signals are held off except
 * between nx_call_park and nx_call_unpark (frame: the waiting function's),
 * around a wait that holds no lock. false: the thread is already inside. */
bool nx_call_begin(void);
void nx_call_end(void);
bool nx_call_abandon(const void *frame); /* see struct nx_engine's abandon */
void nx_call_park(const void *frame);
void nx_call_unpark(void);
/* calloc and free for memory a wait holds: an abandoned call frees it. */
void *nx_call_calloc(size_t n, size_t size);
void nx_call_free(void *p);
/* What an abandoned call's wait held: probe.c's channel, flight.c's flight. */
void nx_probe_abandon(void);
void nx_flight_abandon(void);

/* ---- engine.c: the interface between hooks.c and the engine ---- */
struct nx_libc {
	nx_gai_fn getaddrinfo;
	nx_freeai_fn freeaddrinfo;
	/* The preload's nx_log_usable, which saw fd 2 at the process's first
	 * lookup (the engine loads later); NULL: the engine's own. */
	bool (*log_usable)(void);
};

/* The engine's word on a lookup. Not final: the lookup is libc's (in
 * fallback mode the answer libc gave stands; in first mode libc is asked
 * now). Final: rc (and for the hostent forms herr) is what the caller
 * gets. */
struct nx_verdict {
	bool final;
	int rc;   /* getaddrinfo's return; hostent: 0 filled, ERANGE, EAGAIN or -1 (none) */
	int herr; /* hostent: the h_errno with rc -1 or EAGAIN */
};

struct nx_engine {
	/* libc_rc: what libc's getaddrinfo returned (fallback mode), or NULL
	 * when libc has not been asked (first mode). */
	struct nx_verdict (*getaddrinfo)(const char *node, const char *service,
					 const struct addrinfo *hints, struct addrinfo **res,
					 const int *libc_rc);
	bool (*release)(struct addrinfo *ai);
	/* libc_herr: the h_errno of libc's gethostbyname*_r that found
	 * nothing (fallback mode), or NULL (first mode). EAGAIN: the name is
	 * a CNAME whose target has no address (glibc fails so). */
	struct nx_verdict (*hostent)(const char *name, int af, struct hostent *ret, char *buf,
				     size_t buflen, const int *libc_herr);
	/* True when the configuration says mode "first". */
	bool (*first)(void);
	/* A buffer of len bytes for this thread, freed when it ends (the
	 * storage of gethostbyname's result); NULL without memory. */
	char *(*thread_buffer)(size_t len);
	/* Asked when this thread enters nxretry while marked as inside it:
	 * true when that mark is left over from a lookup the thread left by
	 * a non-local exit (what it held is released now); false when this
	 * entry is nested in a lookup still running. frame: the caller's. */
	bool (*abandon)(const void *frame);
};

#define NX_ENGINE_SYMBOL "nxretry_engine_v3"

/* loader.c: the preload's view of the process without libdl. */
void *nx_next_symbol(const char *name);       /* what dlsym(RTLD_NEXT) finds */
bool nx_libc_is_glibc(void);
bool nx_self_path(char *out, size_t size);    /* this library's absolute file name */
/* The default-version definition of name in the object info describes (as
 * dl_iterate_phdr shows it); NULL when there is none, or when its dynamic
 * section points outside the object's own PT_LOAD segments. */
struct dl_phdr_info;
void *nx_object_symbol(const struct dl_phdr_info *info, const char *name);
/* dlopen of an absolute path, then the symbol; NULL with *why set on failure */
void *nx_load_object(const char *path, const char *symbol, const char **why);
typedef const struct nx_engine *(*nx_engine_open_fn)(const struct nx_libc *libc);

#endif
