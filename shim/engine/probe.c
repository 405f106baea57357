/* One exchange with one server over c-ares, driven by poll(2). Never
 * ares_fds/ares_process: they use fd_set, and FORTIFY aborts the host
 * process on a descriptor >= 1024. The sockets to watch come from c-ares'
 * socket-state callback (ares_getsock is deprecated from 1.28).
 *
 * A channel per exchange, in the calling thread: c-ares 1.18 channels have
 * no locking, and thread pools call getaddrinfo concurrently. The channel is
 * configured entirely by options: no server, search domain, lookup order or
 * tuning comes from resolv.conf or the environment. TCP on a truncated reply
 * is c-ares' own.
 *
 * The query bytes are ours (message.c): RD as asked, no EDNS, the name in
 * lower case. Query ids, by c-ares version (ARES_VERSION, the headers built
 * against; test_cares checks the library agrees):
 *   1.18-1.21  ares_send puts our id on the wire: it comes from getrandom()
 *              (Debian's 1.18.1 lacks the CVE-2023-31147 fix).
 *   1.22-1.27  ares_send replaces it with its own random id, and matches the
 *              reply to the query by id and question before calling back:
 *              the id to check is then the one in the reply it hands us.
 *   1.28-      ares_send_dnsrec (ares_send is deprecated) returns the id it
 *              put on the wire; the reply comes back parsed and is encoded
 *              again for message.c.
 * Other behaviour that changed (read in c-ares 1.34's sources):
 *   - From 1.22 ares_init_options reads resolv.conf even when every option
 *     is given (options win over it, except "options use-vc" there or in
 *     RES_OPTIONS, which forces TCP): its path is set to "", which opens
 *     nothing. 1.34 still reads /etc/nsswitch.conf (and netsvc.conf,
 *     svc.conf where present) for the lookup order, which the options then
 *     replace; no way around that one.
 *   - From 1.23 a query cache answers repeated questions for up to an hour:
 *     turned off (qcache_max_ttl 0).
 *   - From 1.24 or so a query's timeout never goes below 250 ms (nor above
 *     5 s unless maxtimeout says): the exchange ends at timeout_ms by our
 *     own clock, whatever c-ares would wait.
 *   - EDNS (with DNS cookies from 1.34) is on by default only when
 *     ARES_OPT_FLAGS is not given, and only ares_query/ares_search add the
 *     OPT record; DNS 0x20 case randomization is opt-in (ARES_FLAG_DNS0x20)
 *     and off here. NOCHECKRESP still hands SERVFAIL/REFUSED replies over.
 *   - From 1.22 an unparsable reply ends the query at once (1.34: with
 *     ARES_EBADRESP) instead of being ignored until the timeout. */
#include "nxretry.h"

#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

#define CARES_OWN_IDS (ARES_VERSION >= 0x011600) /* 1.22 */
#define CARES_DNSREC (ARES_VERSION >= 0x011c00)  /* 1.28 */

struct pending {
	const char *name;
	int qtype;
	uint16_t id; /* the id on the wire, when known before the reply */
	bool want_aa;
	bool done;
	struct nx_reply *out;
};

/* Sockets c-ares wants watched, from its socket-state callback. */
#define MAXSOCKS 16

struct sockset {
	int n;
	int opened; /* sockets c-ares opened in the exchange */
	struct {
		ares_socket_t fd;
		short events;
	} s[MAXSOCKS];
};

/* The channel of this thread's exchange, while it runs: a siglongjmp out
 * of its poll leaves it here for nx_probe_abandon, which destroys it with
 * abandoning set. Its callbacks then return at once: their data is on the
 * stack of the abandoned exchange, which is no longer its own. */
static __thread ares_channel current;
static __thread bool abandoning;

void nx_probe_abandon(void)
{
	if (!current)
		return;
	abandoning = true;
	ares_destroy(current); /* closes its sockets */
	current = NULL;
	abandoning = false;
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	if (abandoning)
		return;
	struct sockset *set = data;
	short ev = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
	int i = 0;
	while (i < set->n && set->s[i].fd != fd)
		i++;
	if (!ev) {
		if (i < set->n)
			set->s[i] = set->s[--set->n];
		return;
	}
	if (i == set->n) {
		if (set->n == MAXSOCKS)
			return; /* not watched: its queries end at the timeout */
		set->n++;
	}
	set->s[i].fd = fd;
	set->s[i].events = ev;
}

static void finish(struct pending *p, int status, const unsigned char *abuf, size_t alen)
{
	if (abandoning || p->done)
		return;
	p->done = true;
	switch (status) {
	case ARES_SUCCESS:
		if (CARES_OWN_IDS && !CARES_DNSREC && abuf && alen >= 2)
			p->id = (uint16_t)(abuf[0] << 8 | abuf[1]); /* matched by c-ares */
		nx_message_classify(abuf, alen, p->id, p->name, p->qtype, p->want_aa, p->out);
		return;
	case ARES_ETIMEOUT:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		p->out->status = NX_TIMEOUT;
		return;
	case ARES_ECONNREFUSED:
		p->out->status = NX_UNREACHABLE;
		return;
	case ARES_EBADRESP:
		p->out->status = NX_MALFORMED;
		return;
	default:
		p->out->status = NX_ERROR;
		return;
	}
}

#if CARES_DNSREC
static void on_reply(void *arg, ares_status_t status, size_t timeouts,
		     const ares_dns_record_t *rec)
{
	(void)timeouts;
	unsigned char *buf = NULL;
	size_t len = 0;
	if (status == ARES_SUCCESS && (!rec || ares_dns_write(rec, &buf, &len) != ARES_SUCCESS))
		status = ARES_EBADRESP;
	finish(arg, (int)status, buf, len);
	ares_free_string(buf);
}

static int send_query(ares_channel ch, struct pending *p, const unsigned char *q, int len)
{
	ares_dns_record_t *rec;
	if (ares_dns_parse(q, (size_t)len, 0, &rec) != ARES_SUCCESS)
		return -1;
	unsigned short qid = 0;
	ares_status_t st = ares_send_dnsrec(ch, rec, on_reply, p, &qid);
	ares_dns_record_destroy(rec);
	if (st == ARES_SUCCESS)
		p->id = qid;
	return 0; /* a failure was reported through on_reply */
}
#else
static void on_reply(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	finish(arg, status, abuf, abuf && alen > 0 ? (size_t)alen : 0);
}

static int send_query(ares_channel ch, struct pending *p, const unsigned char *q, int len)
{
	ares_send(ch, q, len, on_reply, p);
	return 0;
}
#endif

/* c-ares 1.18 opens its sockets without SOCK_CLOEXEC: a thread of the host
 * program that forks and execs meanwhile must not inherit them. Each one
 * opened is counted: a refusal with none (nx_probe) was local. */
static int on_socket(ares_socket_t fd, int type, void *data)
{
	(void)type;
	((struct sockset *)data)->opened++;
	int flags = fcntl(fd, F_GETFD);
	if (flags >= 0)
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	return ARES_SUCCESS;
}

static int set_server(ares_channel ch, const struct nx_nameserver *server)
{
#if CARES_DNSREC
	char text[64];
	if (nx_nameserver_format(server, text, sizeof text))
		return -1;
	return ares_set_servers_ports_csv(ch, text) == ARES_SUCCESS ? 0 : -1;
#else
	struct ares_addr_port_node node;
	memset(&node, 0, sizeof node);
	node.family = server->addr.family;
	if (server->addr.family == AF_INET)
		memcpy(&node.addr.addr4, server->addr.bytes, 4);
	else
		memcpy(&node.addr.addr6, server->addr.bytes, 16);
	node.udp_port = server->port; /* host byte order */
	node.tcp_port = server->port;
	return ares_set_servers_ports(ch, &node) == ARES_SUCCESS ? 0 : -1;
#endif
}

static int open_channel(ares_channel *ch, const struct nx_nameserver *server, int timeout_ms,
			struct sockset *socks)
{
	struct ares_options o;
	memset(&o, 0, sizeof o);
	/* NOCHECKRESP: REFUSED and SERVFAIL reach us, to be reported. No
	 * ARES_FLAG_EDNS, no ARES_FLAG_DNS0x20. */
	o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	o.timeout = timeout_ms > 0 ? timeout_ms : 1;
	o.tries = 1;
	o.ndots = 1;
	o.nservers = 0;
	o.ndomains = 0;
	o.lookups = (char *)"b";
	o.nsort = 0;
	o.sock_state_cb = on_sock_state;
	o.sock_state_cb_data = socks;
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
		   ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS | ARES_OPT_SORTLIST |
		   ARES_OPT_SOCK_STATE_CB;
#if ARES_VERSION >= 0x011600
	o.resolvconf_path = (char *)"";
	o.maxtimeout = o.timeout;
	mask |= ARES_OPT_RESOLVCONF | ARES_OPT_MAXTIMEOUTMS;
#endif
#ifdef ARES_OPT_QUERY_CACHE
	o.qcache_max_ttl = 0;
	mask |= ARES_OPT_QUERY_CACHE;
#endif
	if (ares_init_options(ch, &o, mask) != ARES_SUCCESS)
		return -1;
	if (set_server(*ch, server)) {
		ares_destroy(*ch);
		return -1;
	}
	ares_set_socket_callback(*ch, on_socket, socks);
	return 0;
}

static int remaining(const struct pending *p, int nq)
{
	int n = 0;
	for (int i = 0; i < nq; i++)
		n += !p[i].done;
	return n;
}

int nx_probe(const struct nx_nameserver *server, const char *name, const int *qtypes, int nq,
	     bool rd, int timeout_ms, int64_t deadline_ms, struct nx_reply *out)
{
	struct pending p[4];
	if (nq < 1 || nq > 4)
		return -1;
	int64_t now = nx_now_ms();
	if (deadline_ms - now < timeout_ms)
		timeout_ms = (int)(deadline_ms - now);
	for (int i = 0; i < nq; i++) {
		memset(&out[i], 0, sizeof out[i]); /* callers read a reply that never came */
		out[i].status = NX_TIMEOUT;
		p[i] = (struct pending){name, qtypes[i], 0, !rd, false, &out[i]};
	}
	if (timeout_ms <= 0)
		return 0;
	/* The exchange ends at timeout_ms by our clock (c-ares >= 1.24 would
	 * wait at least 250 ms). */
	int64_t end = now + timeout_ms;

	struct sockset socks = {0};
	ares_channel ch;
	if (open_channel(&ch, server, timeout_ms, &socks)) {
		for (int i = 0; i < nq; i++)
			out[i].status = NX_ERROR;
		return -1;
	}
	current = ch;
	for (int i = 0; i < nq; i++) {
		unsigned char q[NX_NAMEMAX + 32];
		if (!CARES_OWN_IDS)
			p[i].id = nx_random_id();
		int len = nx_message_query(q, sizeof q, p[i].id, name, qtypes[i], rd);
		if (len < 0 || send_query(ch, &p[i], q, len)) {
			p[i].done = true;
			out[i].status = NX_ERROR;
		}
	}

	while (remaining(p, nq)) {
		now = nx_now_ms();
		if (now >= end)
			break;
		struct pollfd fds[MAXSOCKS];
		int nfds = socks.n;
		for (int i = 0; i < nfds; i++)
			fds[i] = (struct pollfd){.fd = socks.s[i].fd, .events = socks.s[i].events};
		struct timeval max = {(end - now) / 1000, ((end - now) % 1000) * 1000};
		struct timeval tv, *t = ares_timeout(ch, &max, &tv);
		int wait_ms = (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
		nx_call_park(__builtin_frame_address(0)); /* signals as the caller has them */
		int ready = poll(fds, (nfds_t)nfds, wait_ms);
		nx_call_unpark();
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < nfds; i++) {
			ares_socket_t r = fds[i].revents & (POLLIN | POLLERR | POLLHUP) ? fds[i].fd
											: ARES_SOCKET_BAD;
			ares_socket_t w = fds[i].revents & (POLLOUT | POLLERR | POLLHUP) ? fds[i].fd
											 : ARES_SOCKET_BAD;
			if (r != ARES_SOCKET_BAD || w != ARES_SOCKET_BAD)
				ares_process_fd(ch, r, w);
		}
	}
	current = NULL;
	ares_destroy(ch); /* what is still pending ends as NX_TIMEOUT */
	/* c-ares reports a socket it could not open (EMFILE, ENFILE) as
	 * ECONNREFUSED: with no socket opened, nothing reached the server. */
	int local = 0;
	for (int i = 0; i < nq; i++) {
		if (out[i].status == NX_UNREACHABLE && !socks.opened)
			out[i].status = NX_ERROR;
		local += out[i].status == NX_ERROR;
	}
	return local ? -1 : 0;
}
