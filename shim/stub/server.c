/* The stub's sockets and the path of a question through them, in one poll
 * loop on the calling thread:
 *
 *   client (UDP or TCP) -> request -> forward (UDP to an upstream; a query
 *        whose bytes, id aside, are those of one in flight waits for its
 *        reply instead)
 *        -> the upstream's reply relayed, only the id restored; or, for a
 *           name under a zone the upstream denies (first mode: before it is
 *           asked), a wait (pending.c) whose job runs the engine's
 *           nx_lookup on a thread of its own, shared by every client asking
 *           the same question until it lands.
 *
 * Threads: only jobs (the engine, which blocks, and a TCP exchange with an
 * upstream) run off the loop; each writes its own pointer to job_pipe when
 * done and touches nothing else of the loop's. Bounds are the constants
 * below and the options' max_waits and max_tcp, each checked where its
 * thing is created. */
#include "stub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define UDP_BATCH 32            /* datagrams read by one recvmmsg */
#define RX_SIZE 65536           /* room for any UDP datagram */
#define FORWARDS_MAX 4096       /* queries in flight to upstreams; more are dropped */
/* Connected UDP sockets per upstream, opened as needed, each on the random
 * ephemeral port the kernel picked; several queries share one, told apart
 * by (id, question). A socket is replaced after SOCKET_USES queries (or an
 * error), so a port stays guessable for a bounded number of them. */
#define POOL_SOCKETS 32
#define SOCKET_USES 1024
#define ID_BATCH 256            /* ids drawn from the kernel's generator at once */
/* A query that is byte for byte (id aside) one already in flight waits for
 * that one's reply instead of going upstream again, as dnsmasq merges
 * them: the same bytes get the same answer. At most FORWARDS_MAX wait so. */
#define MERGE_BUCKETS 4096      /* hash buckets of the forwards in flight, by their bytes */
#define REPLIES_HELD 256        /* replies to UDP clients sent by one flush (merged ones too) */
/* Queries to upstreams are held until the loop's next flush, then sent by
 * one sendmmsg per socket: a batch of clients' queries takes one socket
 * (the pool's next slot), whose replies then come back to one recvmmsg.
 * Each forward is held at most once: FORWARDS_MAX bounds them. */
#define TX_MAX FORWARDS_MAX
#define UPSTREAM_TRY_MS 1500    /* one upstream's time to answer before the next is tried */
#define UPSTREAM_TRIES 3        /* tries of one query, then SERVFAIL */
#define TCP_IDLE_MS 10000       /* a connection with nothing in flight is closed after */
#define TCP_PIPELINE_MAX 32     /* queries in flight per connection before it is read again */
#define TCP_OUT_MAX (256 * 1024) /* bytes queued per connection before it is read again */
#define TCP_UPSTREAM_MS 5000    /* a whole TCP exchange with one upstream */
#define JOBS_TCP_MAX 64         /* TCP exchanges with upstreams at once */
/* A job's stack: t-stub.sh ran with 48 KiB; each further CNAME link adds
 * ~3.5 KiB of locals (lookup.c). */
#define WORKER_STACK (256 * 1024)
/* Copies held by one wait; more get the upstream's answer. 1,024: a whole
 * test runner's processes asking one name at once (bench row 8: 100). */
#define WAITERS_MAX 1024
/* The rounds' cap when the configuration sets none: the stub is the host's
 * one poller of a name (both address types in one wait), so its rounds may
 * come twice as often as one process's (1 s): a record that reaches one of
 * Route 53's four servers is seen within 0.5 s, for 8 queries a second
 * from the whole host however many clients wait (bench row 8). */
#define ROUNDS_EVERY_S 0.5
#define WAIT_GRACE_MS 2000      /* past the engine's deadline, a wait is answered without it */
#define LOG_EVERY_MS 10000      /* a bound reached is said at most this often */
#define POLL_MAX_MS 1000
/* Freed heap goes back to the kernel at most this often while jobs return
 * or requests end (malloc_trim walks every arena: a few ms at 100 MB), so
 * resident memory follows the load down after each burst. */
#define TRIM_EVERY_MS 1000
#define TRIM_AFTER_REQUESTS 1024 /* requests ended since the last trim that make one due */
/* A UDP socket's receive buffer: room for a burst of some 1,300 queries at once (the default,
 * 208 KiB, dropped 13-27 % of 1,000 clients that asked at once); Unbound's so-rcvbuf. Upstream
 * sockets too: with the default, dnsperf's load dropped 13 of 100,000 replies (each a 1.5 s retry). */
#define UDP_RCVBUF (1 << 20)

enum transport { T_UDP, T_TCP };

/* A client's question, from when it is read until it is answered. */
struct request {
	struct request *next;    /* in a wait's list of waiters */
	enum transport transport;
	int udp_fd;              /* UDP: the socket it came to, and who sent it */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	int conn;                /* TCP: its connection's slot and generation */
	unsigned conn_gen;
	bool no_bypass;          /* the upstream's answer stands (a wait ended) */
	struct nx_question q;
	size_t len;
	unsigned char msg[];     /* the query as it came */
};

/* A UDP socket connected to one upstream: the kernel drops datagrams from
 * any other address. Freed once retired and nothing is in flight on it. */
struct usock {
	int fd;
	int server;
	int uses;                /* queries sent on it, ever */
	int inflight;            /* forwards bound to it now */
	bool retired;            /* out of the pool: no new query goes to it */
	struct usock *next;      /* in the list of retired sockets */
};

/* A query in flight to an upstream: its id is fresh for each try and
 * unique among those in flight (by_id), so a reply is matched in O(1) by
 * id, then checked for its socket (hence the upstream) and question. */
struct forward {
	struct usock *sock;      /* NULL between tries */
	uint16_t id;
	unsigned char id_wire[2]; /* id, in network order: the query sent is this, then msg + 2 */
	bool held;               /* in tx, not sent yet */
	int slot;                /* its index in fw */
	int server, tries;
	int64_t until_ms;        /* this try's end */
	struct request *req;
	struct request *merged;  /* the same query from other clients, answered with req */
	uint32_t hash;           /* of the query's bytes after the id */
	struct forward *hnext;   /* in its by_query bucket */
};

/* One queued reply on a TCP connection: 2-byte length and message. */
struct out {
	struct out *next;
	size_t len;
	unsigned char data[];
};

/* A client's TCP connection (RFC 7766). Non-blocking: a read or a write
 * that stops short (EAGAIN) leaves its position here (inlen, out_off), and
 * the next readiness resumes exactly there. */
struct conn {
	int fd;                  /* -1: the slot is free */
	unsigned gen;            /* bumped on close: late answers find it changed */
	int64_t last_ms;         /* last byte read or written */
	size_t inlen;            /* bytes of the next frame read so far */
	unsigned char in[2 + NX_STUB_QUERY_MAX];
	struct out *out, *out_tail;
	size_t out_off;          /* bytes of out's first message already written */
	size_t out_bytes;
	int inflight;            /* its queries being answered */
	bool eof;                /* the client closed its side: answer, then close */
};

enum job_kind { JOB_BYPASS, JOB_TCP };

/* Work for a thread. The loop fills it, the thread writes only its result
 * fields and then hands the job back through job_pipe. */
struct job {
	enum job_kind kind;
	struct nx_stub *s;
	/* JOB_BYPASS */
	struct nx_pending *wait; /* the loop's: NULL once the wait was answered without it */
	char name[NX_NAMEMAX];
	int rrtype; /* a type other than A/AAAA: nx_lookup_type's; else 0 (both addresses) */
	struct nx_found found;
	/* JOB_TCP */
	struct request *req;
	unsigned char *reply;
	size_t reply_len;
};

enum limit { LIMIT_WAITS, LIMIT_WAITERS, LIMIT_TCP, LIMIT_FORWARDS, LIMIT_JOBS, NLIMITS };

struct nx_stub {
	struct nx_config cfg;    /* resolvers: the upstreams */
	struct nx_stub_options o;
	int listen_fd[2 * NX_STUB_MAXLISTEN];
	enum transport listen_kind[2 * NX_STUB_MAXLISTEN];
	int nlisten;
	struct conn *conns;      /* [o.max_tcp] */
	int nconns;
	struct forward *fw[FORWARDS_MAX];
	int nfw;
	struct forward **by_id;  /* [65536]: the forward in flight with that id */
	struct forward *by_query[MERGE_BUCKETS];
	int nmerged;             /* requests waiting on another's forward */
	struct usock *pool[NX_STUB_MAXUPSTREAM][POOL_SOCKETS];
	int pool_next[NX_STUB_MAXUPSTREAM]; /* the pool's slot the next query takes */
	struct usock *retired;   /* out of the pools, queries still in flight on them */
	struct usock **polled;   /* [npfd_max]: the socket at each forwarding pollfd */
	uint16_t ids[ID_BATCH];
	int nids;                /* ids[] not used yet */
	struct forward *tx[TX_MAX]; /* queries held for the next flush */
	int ntx;
	/* One recvmmsg's datagrams: [UDP_BATCH][RX_SIZE], pages touched only as used. */
	unsigned char *rx;
	struct mmsghdr rx_msg[UDP_BATCH];
	struct iovec rx_iov[UDP_BATCH];
	struct sockaddr_storage rx_peer[UDP_BATCH];
	/* Replies to UDP clients read by one recvmmsg from an upstream, sent by
	 * one sendmmsg per listening socket once the batch is handled. */
	bool replies_held;
	int nreplies;
	struct held_reply {
		int fd;
		struct sockaddr_storage peer;
		socklen_t peerlen;
		unsigned char id[2];     /* the client's; the rest is the datagram's, unchanged */
		struct iovec iov[2];
	} replies[REPLIES_HELD];
	struct nx_pending_table waits;
	int preferred;           /* the upstream that answered last: new queries start there */
	int tcp_jobs;
	int running;             /* jobs handed to threads, not back yet */
	bool trim_due;           /* jobs came back since the heap was last trimmed */
	unsigned ended;          /* requests ended since then */
	int64_t trim_ms;
	int job_pipe[2];
	struct pollfd *pfd;      /* [npfd_max], rebuilt each turn */
	int npfd_max;
	int64_t limit_ms[NLIMITS];
	unsigned limit_count[NLIMITS];
	unsigned char buf[65536 + 2];
};

static int sig_pipe[2] = {-1, -1};
static struct nx_stub *the_stub; /* for the engine's resolver of CNAME targets */

static void on_signal(int sig)
{
	(void)sig;
	int saved = errno;
	if (write(sig_pipe[1], "x", 1) < 0) { /* full: one byte is enough */
	}
	errno = saved;
}

/* A bound reached: one line now, then at most one per LOG_EVERY_MS with
 * the count meanwhile. */
__attribute__((format(printf, 3, 4))) static void limited(struct nx_stub *s, enum limit l,
							   const char *fmt, ...)
{
	int64_t now = nx_now_ms();
	s->limit_count[l]++;
	if (s->limit_ms[l] && now - s->limit_ms[l] < LOG_EVERY_MS)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	nx_log(NX_LOG_WARN, "%s (%u time%s in the last %d s)", line, s->limit_count[l],
	       s->limit_count[l] == 1 ? "" : "s", LOG_EVERY_MS / 1000);
	s->limit_ms[l] = now;
	s->limit_count[l] = 0;
}

bool nx_stub_loopback(const struct nx_addr *a)
{
	static const unsigned char v6_loop[16] = {[15] = 1};
	static const unsigned char v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
	if (a->family == AF_INET)
		return a->bytes[0] == 127;
	return !memcmp(a->bytes, v6_loop, 16) ||
	       (!memcmp(a->bytes, v4_mapped, 12) && a->bytes[12] == 127);
}

static bool same_server(const struct nx_nameserver *a, const struct nx_nameserver *b)
{
	size_t n = a->addr.family == AF_INET ? 4 : 16;
	return a->port == b->port && a->addr.family == b->addr.family &&
	       !memcmp(a->addr.bytes, b->addr.bytes, n);
}

int nx_stub_settle_options(struct nx_stub_options *o, const char *resolv_conf)
{
	if (o->nlisten == 0) {
		o->listen[0] = (struct nx_nameserver){.addr.family = AF_INET, .port = 53};
		inet_pton(AF_INET, "127.0.0.1", o->listen[0].addr.bytes);
		o->nlisten = 1;
	}
	for (int i = 0; i < o->nlisten; i++) {
		char text[64];
		nx_nameserver_format(&o->listen[i], text, sizeof text);
		if (!o->allow_remote && !nx_stub_loopback(&o->listen[i].addr)) {
			nx_log(NX_LOG_ERROR, "--listen %s: not a loopback address (an open resolver "
			       "needs --allow-remote)", text);
			return -1;
		}
	}
	if (o->max_waits <= 0)
		o->max_waits = NX_STUB_MAX_WAITS;
	if (o->max_tcp <= 0)
		o->max_tcp = NX_STUB_MAX_TCP;
	if (o->nupstream == 0)
		o->nupstream = nx_system_servers(resolv_conf, o->upstream, NX_STUB_MAXUPSTREAM);
	int n = 0;
	for (int i = 0; i < o->nupstream; i++) {
		bool own = false;
		for (int l = 0; l < o->nlisten; l++)
			own |= same_server(&o->upstream[i], &o->listen[l]);
		if (own) {
			char text[64];
			nx_nameserver_format(&o->upstream[i], text, sizeof text);
			nx_log(NX_LOG_WARN, "upstream %s is a listen address of this stub: not used "
			       "(it would ask itself)", text);
			continue;
		}
		o->upstream[n++] = o->upstream[i];
	}
	o->nupstream = n;
	return n;
}

static socklen_t to_sockaddr(const struct nx_nameserver *n, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (n->addr.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(n->port);
		memcpy(&sin->sin_addr, n->addr.bytes, 4);
		return sizeof *sin;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(n->port);
	memcpy(&sin6->sin6_addr, n->addr.bytes, 16);
	return sizeof *sin6;
}

/* Past net.core.rmem_max when allowed (CAP_NET_ADMIN), else up to it. */
static void grow_rcvbuf(int fd)
{
	int size = UDP_RCVBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

static int bind_one(const struct nx_nameserver *at, enum transport t)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(at, &ss);
	int fd = socket(at->addr.family, (t == T_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
			SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0 && t == T_TCP)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd >= 0 && at->addr.family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (fd >= 0 && t == T_UDP)
		grow_rcvbuf(fd);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) || (t == T_TCP && listen(fd, 128))) {
		int err = errno;
		char text[64];
		nx_nameserver_format(at, text, sizeof text);
		nx_log(NX_LOG_ERROR, "cannot listen on %s (%s): %s", text, t == T_UDP ? "udp" : "tcp",
		       strerror(err));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void stub_free(struct nx_stub *s)
{
	for (int i = 0; i < s->nlisten; i++)
		close(s->listen_fd[i]);
	if (s->job_pipe[0] >= 0)
		close(s->job_pipe[0]);
	if (s->job_pipe[1] >= 0)
		close(s->job_pipe[1]);
	free(s->conns);
	free(s->pfd);
	free(s->polled);
	free(s->by_id);
	free(s->rx);
	if (the_stub == s)
		the_stub = NULL;
	free(s);
}

int nx_stub_open(const struct nx_config *cfg, const struct nx_stub_options *o, struct nx_stub **out)
{
	struct nx_stub *s = calloc(1, sizeof *s);
	*out = NULL;
	if (!s) {
		nx_log(NX_LOG_ERROR, "stub: out of memory");
		return -1;
	}
	s->cfg = *cfg;
	if (!cfg->backoff_max_given && cfg->backoff.initial <= ROUNDS_EVERY_S)
		s->cfg.backoff.max = ROUNDS_EVERY_S;
	s->o = *o;
	s->job_pipe[0] = s->job_pipe[1] = -1;
	if (nx_stub_settle_options(&s->o, "/etc/resolv.conf") <= 0) {
		if (s->o.nupstream == 0)
			nx_log(NX_LOG_ERROR, "no upstream resolver to forward to (give --upstream)");
		stub_free(s);
		return -1;
	}
	/* Discovery asks the upstreams, never resolv.conf: it may name this stub. */
	s->cfg.nresolvers = s->o.nupstream < NX_MAXRESOLVERS ? s->o.nupstream : NX_MAXRESOLVERS;
	memcpy(s->cfg.resolvers, s->o.upstream, sizeof s->cfg.resolvers[0] * (size_t)s->cfg.nresolvers);
	s->waits.capacity = s->o.max_waits;
	s->conns = calloc((size_t)s->o.max_tcp, sizeof *s->conns);
	/* Sockets: the pools, and retired ones, each with a forward in flight. */
	s->npfd_max = 2 + 2 * NX_STUB_MAXLISTEN + s->o.max_tcp + NX_STUB_MAXUPSTREAM * POOL_SOCKETS +
		      FORWARDS_MAX;
	s->pfd = calloc((size_t)s->npfd_max, sizeof *s->pfd);
	s->polled = calloc((size_t)s->npfd_max, sizeof *s->polled);
	s->by_id = calloc(65536, sizeof *s->by_id);
	s->rx = malloc((size_t)UDP_BATCH * RX_SIZE);
	if (!s->conns || !s->pfd || !s->polled || !s->by_id || !s->rx || pipe2(s->job_pipe, O_CLOEXEC)) {
		nx_log(NX_LOG_ERROR, "stub: out of memory or file descriptors");
		stub_free(s);
		return -1;
	}
	fcntl(s->job_pipe[0], F_SETFL, O_NONBLOCK);
	for (int i = 0; i < s->o.max_tcp; i++)
		s->conns[i].fd = -1;
	for (int i = 0; i < s->o.nlisten; i++)
		for (int t = T_UDP; t <= T_TCP; t++) {
			int fd = bind_one(&s->o.listen[i], (enum transport)t);
			if (fd < 0) {
				stub_free(s);
				return -1;
			}
			s->listen_kind[s->nlisten] = (enum transport)t;
			s->listen_fd[s->nlisten++] = fd;
		}
	the_stub = s;
	*out = s;
	return 0;
}

/* ---- answering clients ---- */

static void close_conn(struct nx_stub *s, struct conn *c)
{
	close(c->fd);
	for (struct out *o = c->out; o;) {
		struct out *next = o->next;
		free(o);
		o = next;
	}
	unsigned gen = c->gen + 1;
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->gen = gen;
	s->nconns--;
}

static struct conn *conn_of(struct nx_stub *s, const struct request *r)
{
	struct conn *c = &s->conns[r->conn];
	return c->fd >= 0 && c->gen == r->conn_gen ? c : NULL;
}

/* Sends msg, with the client's id instead of its own, to r's client; msg
 * itself is left as it is (merged clients share one reply). */
static void send_reply(struct nx_stub *s, const struct request *r, const unsigned char *msg,
		       size_t len)
{
	if (len < 2)
		return;
	if (r->transport == T_UDP && s->replies_held && s->nreplies < REPLIES_HELD && msg >= s->rx &&
	    msg < s->rx + (size_t)UDP_BATCH * RX_SIZE) { /* the datagram stays until the batch is sent */
		struct held_reply *h = &s->replies[s->nreplies++];
		h->fd = r->udp_fd;
		memcpy(&h->peer, &r->peer, r->peerlen);
		h->peerlen = r->peerlen;
		h->id[0] = (unsigned char)(r->q.id >> 8);
		h->id[1] = (unsigned char)r->q.id;
		h->iov[0] = (struct iovec){h->id, 2};
		h->iov[1] = (struct iovec){(void *)(msg + 2), len - 2};
		return;
	}
	if (r->transport == T_UDP) {
		unsigned char id[2] = {(unsigned char)(r->q.id >> 8), (unsigned char)r->q.id};
		struct iovec iov[2] = {{id, 2}, {(void *)(msg + 2), len - 2}};
		struct msghdr m = {.msg_name = (void *)&r->peer, .msg_namelen = r->peerlen,
				   .msg_iov = iov, .msg_iovlen = 2};
		/* A full socket buffer drops it, as a network would: the client asks again. */
		sendmsg(r->udp_fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		return;
	}
	struct conn *c = conn_of(s, r);
	struct out *o = c && len <= 65535 ? malloc(sizeof *o + 2 + len) : NULL;
	if (!o)
		return;
	o->next = NULL;
	o->len = 2 + len;
	o->data[0] = (unsigned char)(len >> 8);
	o->data[1] = (unsigned char)len;
	memcpy(o->data + 2, msg, len);
	o->data[2] = (unsigned char)(r->q.id >> 8);
	o->data[3] = (unsigned char)r->q.id;
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out = o;
	c->out_tail = o;
	c->out_bytes += o->len;
}

/* The request is answered (or given up): its connection may read again. */
static void finish(struct nx_stub *s, struct request *r)
{
	struct conn *c = r->transport == T_TCP ? conn_of(s, r) : NULL;
	if (c)
		c->inflight--;
	s->ended++;
	free(r);
}

static void reply_error(struct nx_stub *s, struct request *r, int rcode)
{
	unsigned char out[12 + 256 + 4];
	size_t len = nx_stub_error(r->msg, r->len, rcode, out, sizeof out);
	if (len)
		send_reply(s, r, out, len);
}

/* ---- forwarding ---- */

/* A random id not in flight: FORWARDS_MAX of 65,536 are taken at most. */
static uint16_t fresh_id(struct nx_stub *s)
{
	for (;;) {
		if (s->nids == 0) {
			nx_random_fill(s->ids, sizeof s->ids);
			s->nids = ID_BATCH;
		}
		uint16_t id = s->ids[--s->nids];
		if (!s->by_id[id])
			return id;
	}
}

static void usock_retire(struct nx_stub *s, struct usock *u)
{
	if (u->retired)
		return;
	for (int i = 0; i < POOL_SOCKETS; i++)
		if (s->pool[u->server][i] == u)
			s->pool[u->server][i] = NULL;
	u->retired = true;
	u->next = s->retired;
	s->retired = u;
}

/* Closes the retired sockets nothing is in flight on (all: at shutdown). */
static void usock_sweep(struct nx_stub *s, bool all)
{
	for (struct usock **pu = &s->retired, *u; (u = *pu);) {
		if (u->inflight && !all) {
			pu = &u->next;
			continue;
		}
		*pu = u->next;
		close(u->fd);
		free(u);
	}
}

/* The socket of server's pool for the next query: the slot the flush
 * moves on after each batch, opened (connected) when first needed; NULL
 * on a local error. */
static struct usock *usock_get(struct nx_stub *s, int server)
{
	int slot = s->pool_next[server];
	struct usock *u = s->pool[server][slot];
	if (u)
		return u;
	const struct nx_nameserver *up = &s->o.upstream[server];
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(up, &ss);
	u = malloc(sizeof *u);
	int fd = u ? socket(up->addr.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl)) {
		if (fd >= 0)
			close(fd);
		free(u);
		return NULL;
	}
	grow_rcvbuf(fd); /* a batch's replies come back together */
	*u = (struct usock){.fd = fd, .server = server};
	s->pool[server][slot] = u;
	return u;
}

/* f leaves its socket and its id (between tries, or when done). */
static void forward_unbind(struct nx_stub *s, struct forward *f)
{
	if (!f->sock)
		return;
	s->by_id[f->id] = NULL;
	f->sock->inflight--;
	f->sock = NULL;
}

/* FNV-1a of a query's bytes after its id: its bucket in by_query. */
static uint32_t query_hash(const struct request *r)
{
	uint32_t h = 2166136261u;
	for (size_t i = 2; i < r->len; i++)
		h = (h ^ r->msg[i]) * 16777619u;
	return h;
}

static bool same_query(const struct request *a, const struct request *b)
{
	return a->len == b->len && !memcmp(a->msg + 2, b->msg + 2, a->len - 2);
}

/* The forward in flight with r's bytes (id aside), or NULL. */
static struct forward *forward_of_query(struct nx_stub *s, const struct request *r, uint32_t h)
{
	for (struct forward *f = s->by_query[h % MERGE_BUCKETS]; f; f = f->hnext)
		if (f->hash == h && same_query(f->req, r))
			return f;
	return NULL;
}

static void forward_unhash(struct nx_stub *s, struct forward *f)
{
	for (struct forward **pf = &s->by_query[f->hash % MERGE_BUCKETS]; *pf; pf = &(*pf)->hnext)
		if (*pf == f) {
			*pf = f->hnext;
			return;
		}
}

/* Closes f and hands back its requests, the first one's and the merged
 * ones' (a list through next), for the caller to answer. */
static struct request *forward_close(struct nx_stub *s, int i)
{
	struct forward *f = s->fw[i];
	struct request *r = f->req;
	r->next = f->merged;
	for (struct request *m = f->merged; m; m = m->next)
		s->nmerged--;
	forward_unhash(s, f);
	for (int k = 0; f->held && k < s->ntx; k++) /* answered before it was sent: a forgery */
		if (s->tx[k] == f)
			s->tx[k] = s->tx[--s->ntx];
	forward_unbind(s, f);
	free(f);
	s->fw[i] = s->fw[--s->nfw];
	if (i < s->nfw)
		s->fw[i]->slot = i;
	return r;
}

/* Holds f's query for its upstream with a fresh id, sent at the next
 * flush; false on a local error (no socket). */
static bool forward_send(struct nx_stub *s, struct forward *f)
{
	forward_unbind(s, f);
	struct usock *u = usock_get(s, f->server);
	if (!u || (!f->held && s->ntx >= TX_MAX))
		return false;
	f->id = fresh_id(s);
	f->id_wire[0] = (unsigned char)(f->id >> 8);
	f->id_wire[1] = (unsigned char)f->id;
	f->until_ms = nx_now_ms() + UPSTREAM_TRY_MS;
	f->sock = u;
	if (!f->held) /* held already: it goes out once, with this id and socket */
		s->tx[s->ntx++] = f;
	f->held = true;
	u->inflight++;
	s->by_id[f->id] = f;
	if (++u->uses >= SOCKET_USES)
		usock_retire(s, u);
	return true;
}

/* Sends the held queries, one sendmmsg per run of them on one socket. A
 * query the kernel refuses (say, an ICMP error from before) ends its try
 * at once and retires its socket. Then each pool used moves to its next
 * slot, so that the next batch goes out from another port. */
static bool flush_queries(struct nx_stub *s)
{
	bool failed = false;
	struct mmsghdr m[UDP_BATCH];
	struct iovec iov[UDP_BATCH][2];
	bool used[NX_STUB_MAXUPSTREAM] = {false};
	for (int i = 0; i < s->ntx;) {
		struct usock *u = s->tx[i]->sock;
		int n = 0;
		while (i + n < s->ntx && n < UDP_BATCH && s->tx[i + n]->sock == u) {
			struct forward *f = s->tx[i + n];
			iov[n][0] = (struct iovec){f->id_wire, 2};
			iov[n][1] = (struct iovec){f->req->msg + 2, f->req->len - 2};
			m[n] = (struct mmsghdr){.msg_hdr = {.msg_iov = iov[n], .msg_iovlen = 2}};
			n++;
		}
		int sent = sendmmsg(u->fd, m, (unsigned)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent <= 0) {
			sent = 1;
			failed = true;
			s->tx[i]->until_ms = 0;
			usock_retire(s, u);
		}
		for (int k = 0; k < sent; k++)
			s->tx[i + k]->held = false;
		used[u->server] = true;
		i += sent;
	}
	s->ntx = 0;
	for (int u = 0; u < NX_STUB_MAXUPSTREAM; u++)
		if (used[u])
			s->pool_next[u] = (s->pool_next[u] + 1) % POOL_SOCKETS;
	return failed;
}

/* Sends the replies held while a batch from an upstream was handled, one
 * sendmmsg per run of them on one listening socket. A full socket buffer
 * drops the rest, as a network would: their clients ask again. */
static void flush_replies(struct nx_stub *s)
{
	struct mmsghdr m[REPLIES_HELD];
	for (int i = 0; i < s->nreplies;) {
		int n = 0, fd = s->replies[i].fd;
		for (; i + n < s->nreplies && s->replies[i + n].fd == fd; n++) {
			struct held_reply *h = &s->replies[i + n];
			m[n] = (struct mmsghdr){.msg_hdr = {.msg_name = &h->peer, .msg_namelen = h->peerlen,
							    .msg_iov = h->iov, .msg_iovlen = 2}};
		}
		sendmmsg(fd, m, (unsigned)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		i += n;
	}
	s->nreplies = 0;
}

static void forward(struct nx_stub *s, struct request *r)
{
	uint32_t h = query_hash(r);
	struct forward *same = s->nmerged < FORWARDS_MAX ? forward_of_query(s, r, h) : NULL;
	if (same) {
		r->next = same->merged;
		same->merged = r;
		s->nmerged++;
		return;
	}
	struct forward *f = s->nfw < FORWARDS_MAX ? malloc(sizeof *f) : NULL;
	if (!f) {
		limited(s, LIMIT_FORWARDS, "%d queries in flight to the upstreams: a new one is "
			"dropped (its client asks again)", s->nfw);
		finish(s, r);
		return;
	}
	*f = (struct forward){.req = r, .server = s->preferred, .slot = s->nfw, .hash = h};
	s->fw[s->nfw++] = f;
	f->hnext = s->by_query[h % MERGE_BUCKETS];
	s->by_query[h % MERGE_BUCKETS] = f;
	/* A socket that fails at once (no route) is a try spent on the next server. */
	while (!forward_send(s, f) && ++f->tries < UPSTREAM_TRIES)
		f->server = (f->server + 1) % s->o.nupstream;
	if (f->tries >= UPSTREAM_TRIES) {
		forward_close(s, f->slot); /* nothing merged yet: r alone */
		reply_error(s, r, NX_RCODE_SERVFAIL);
		finish(s, r);
	}
}

/* ---- waits: the engine, on threads ---- */

/* The engine's resolver for a CNAME target outside the zones: the
 * upstreams, asked as a stub asks (RD=1). A getaddrinfo of its own, with
 * what from_libc (lookup.c) reads: addresses and the canonical name. */
struct gai_node {
	struct addrinfo ai;
	struct sockaddr_in6 sa; /* large enough for either family */
	char canon[NX_NAMEMAX];
};

static void upstream_freeaddrinfo(struct addrinfo *ai)
{
	while (ai) {
		struct addrinfo *next = ai->ai_next;
		free(ai);
		ai = next;
	}
}

static int upstream_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
				struct addrinfo **res)
{
	(void)service;
	const struct nx_stub *s = the_stub;
	int qtypes[2], nq = 0, rc = EAI_AGAIN;
	if (hints->ai_family != AF_INET6)
		qtypes[nq++] = NX_T_A;
	if (hints->ai_family != AF_INET)
		qtypes[nq++] = NX_T_AAAA;
	struct nx_reply *r = calloc(2, sizeof *r);
	*res = NULL;
	if (!s || !r) {
		free(r);
		return EAI_MEMORY;
	}
	struct addrinfo **tail = res;
	for (int u = 0; u < s->o.nupstream && !*res; u++) {
		if (nx_probe(&s->o.upstream[u], node, qtypes, nq, true, UPSTREAM_TRY_MS,
			     nx_now_ms() + UPSTREAM_TRY_MS, r))
			break;
		for (int k = 0; k < nq; k++) {
			if (r[k].status == NX_NXDOMAIN || r[k].status == NX_NODATA)
				rc = EAI_NONAME;
			for (int i = 0; r[k].status == NX_ANSWER && i < r[k].naddrs; i++) {
				struct gai_node *n = calloc(1, sizeof *n);
				if (!n)
					break;
				const struct nx_addr *a = &r[k].addrs[i];
				n->ai.ai_family = a->family;
				n->ai.ai_socktype = SOCK_STREAM;
				n->ai.ai_addr = (struct sockaddr *)&n->sa;
				if (a->family == AF_INET) {
					struct sockaddr_in *sin = (struct sockaddr_in *)&n->sa;
					sin->sin_family = AF_INET;
					memcpy(&sin->sin_addr, a->bytes, 4);
					n->ai.ai_addrlen = sizeof *sin;
				} else {
					n->sa.sin6_family = AF_INET6;
					memcpy(&n->sa.sin6_addr, a->bytes, 16);
					n->ai.ai_addrlen = sizeof n->sa;
				}
				if (!*res) { /* the first node carries the chain's end */
					snprintf(n->canon, sizeof n->canon, "%s", r[k].canon[0] ? r[k].canon : node);
					n->ai.ai_canonname = n->canon;
				}
				*tail = &n->ai;
				tail = &n->ai.ai_next;
			}
		}
	}
	free(r);
	return *res ? 0 : rc;
}

static const struct nx_libc upstream_libc = {upstream_getaddrinfo, upstream_freeaddrinfo, NULL};

/* One TCP exchange with an upstream (blocking, bounded by socket timeouts):
 * the reply, malloc'd, or NULL. */
static unsigned char *tcp_exchange(const struct nx_nameserver *up, const struct request *r,
				   size_t *len)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(up, &ss);
	int fd = socket(up->addr.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	struct timeval tv = {TCP_UPSTREAM_MS / 1000, 0};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	uint16_t id = nx_random_id();
	unsigned char *q = malloc(2 + r->len), *reply = NULL;
	unsigned char head[2];
	size_t got = 0, want = 0;
	if (!q || connect(fd, (struct sockaddr *)&ss, sl))
		goto out;
	q[0] = (unsigned char)(r->len >> 8), q[1] = (unsigned char)r->len;
	memcpy(q + 2, r->msg, r->len);
	q[2] = (unsigned char)(id >> 8), q[3] = (unsigned char)id;
	if (send(fd, q, 2 + r->len, MSG_NOSIGNAL) != (ssize_t)(2 + r->len))
		goto out;
	while (got < 2) {
		ssize_t n = recv(fd, head + got, 2 - got, 0);
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	want = (size_t)(head[0] << 8 | head[1]);
	reply = malloc(want ? want : 1);
	for (got = 0; reply && got < want;) {
		ssize_t n = recv(fd, reply + got, want - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (reply && (got < want || !nx_stub_reply_matches(reply, want, id, &r->q))) {
		free(reply);
		reply = NULL;
	}
	*len = want;
out:
	free(q);
	close(fd);
	return reply;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct nx_stub *s = j->s;
	if (j->kind == JOB_BYPASS) {
		if (j->rrtype)
			nx_lookup_type(&s->cfg, &upstream_libc, j->name, j->rrtype,
				       s->cfg.mode == NX_MODE_FIRST, &j->found);
		else
			nx_lookup(&s->cfg, &upstream_libc, j->name, AF_UNSPEC, 0,
				  s->cfg.mode == NX_MODE_FIRST, &j->found);
	} else {
		for (int u = 0; u < s->o.nupstream && !j->reply; u++)
			j->reply = tcp_exchange(&s->o.upstream[u], j->req, &j->reply_len);
	}
	if (write(s->job_pipe[1], &j, sizeof j) != sizeof j) {
		/* The loop is gone (shutdown): nobody takes it back. */
		if (j->kind == JOB_TCP)
			free(j->req);
		free(j->reply);
		nx_records_drop(j->found.records);
		free(j);
	}
	return NULL;
}

static bool start_job(struct nx_stub *s, struct job *j)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Signals are the loop's: the thread starts with them blocked. */
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&t, &attr, job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc) {
		nx_log(NX_LOG_WARN, "stub: cannot start a thread: %s", strerror(rc));
		return false;
	}
	s->running++;
	return true;
}

/* A question the engine may answer: any data type of a host name under a
 * zone. Not type 0, OPT, nor the meta and query types 128-255 (RFC 6895
 * §3.1: TKEY, TSIG, IXFR, AXFR, MAILB, MAILA, ANY): relayed as the
 * upstream answers them. */
static bool bypassable(const struct nx_stub *s, const struct request *r)
{
	const struct nx_question *q = &r->q;
	bool data_type = q->qtype && q->qtype != NX_T_OPT && (q->qtype < 128 || q->qtype > 255);
	return !r->no_bypass && q->qclass == NX_C_IN && data_type && q->name[0] &&
	       nx_name_host(q->name) && nx_config_zone_for(&s->cfg, q->name);
}

static bool address_type(const struct nx_question *q)
{
	return q->qtype == NX_T_A || q->qtype == NX_T_AAAA;
}

/* The waiters of p go to the upstream, whose answer now stands. */
static void release_waiters(struct nx_stub *s, struct nx_pending *p)
{
	for (struct request *r = p->waiters, *next; r; r = next) {
		next = r->next;
		r->next = NULL;
		r->no_bypass = true;
		forward(s, r);
	}
	p->waiters = NULL;
}

/* r joins the wait for its question, which starts if none runs. reply:
 * the upstream's (fallback mode), relayed when no wait can be had. */
static void join_wait(struct nx_stub *s, struct request *r, unsigned char *reply, size_t len)
{
	char key[NX_KEYMAX];
	nx_pending_key(&r->q, key);
	struct nx_pending *p = nx_pending_find(&s->waits, key);
	if (!p && (p = nx_pending_add(&s->waits, key))) {
		struct job *j = calloc(1, sizeof *j);
		if (j) {
			j->kind = JOB_BYPASS;
			j->s = s;
			j->wait = p;
			j->rrtype = address_type(&r->q) ? 0 : r->q.qtype;
			snprintf(j->name, sizeof j->name, "%s", r->q.name);
		}
		if (!j || !start_job(s, j)) {
			free(j);
			nx_pending_remove(&s->waits, p);
			p = NULL;
		} else {
			p->job = j;
		}
	} else if (!p) {
		limited(s, LIMIT_WAITS, "%d waits in flight (--max-waits): %s is answered as the "
			"upstream answers it", s->waits.count, r->q.name);
	}
	/* A resend of the same bytes (glibc resends its query buffer from the
	 * same socket) is already held: one answer will do. */
	for (struct request *w = p ? p->waiters : NULL; w; w = w->next)
		if (w->transport == T_UDP && r->transport == T_UDP && w->q.id == r->q.id &&
		    w->peerlen == r->peerlen && !memcmp(&w->peer, &r->peer, r->peerlen) &&
		    w->udp_fd == r->udp_fd) {
			finish(s, r);
			return;
		}
	if (p && p->nwaiters >= WAITERS_MAX) {
		limited(s, LIMIT_WAITERS, "%d copies of %s wait already: another is answered as the "
			"upstream answers it", p->nwaiters, r->q.name);
		p = NULL;
	}
	if (!p) {
		r->no_bypass = true;
		if (reply)
			send_reply(s, r, reply, len), finish(s, r);
		else
			forward(s, r);
		return;
	}
	r->next = p->waiters;
	p->waiters = r;
	p->nwaiters++;
}

static size_t size_for(const struct request *r)
{
	return r->transport == T_TCP ? 65535 : r->q.udp_size;
}

static void job_done(struct nx_stub *s, struct job *j)
{
	s->running--;
	s->trim_due = true;
	if (j->kind == JOB_TCP) {
		s->tcp_jobs--;
		if (j->reply)
			send_reply(s, j->req, j->reply, j->reply_len);
		else
			reply_error(s, j->req, NX_RCODE_SERVFAIL);
		finish(s, j->req);
		free(j->reply);
		free(j);
		return;
	}
	struct nx_pending *p = j->wait;
	if (p) {
		unsigned char out[NX_STUB_ANSWER_MAX];
		struct request *r = p->waiters, *next;
		p->waiters = NULL;
		for (; r; r = next) {
			next = r->next;
			size_t len = nx_stub_answer(&r->q, &j->found, size_for(r), out, sizeof out);
			if (len) {
				send_reply(s, r, out, len);
				finish(s, r);
			} else { /* absent at the deadline, or unsettled: the upstream's answer */
				r->next = NULL;
				r->no_bypass = true;
				forward(s, r);
			}
		}
		nx_pending_remove(&s->waits, p);
	}
	nx_records_drop(j->found.records);
	free(j);
}

/* ---- the upstream's reply ---- */

static void relay(struct nx_stub *s, struct request *r, unsigned char *reply, size_t len)
{
	if ((reply[2] & 0x02) && r->transport == T_TCP) {
		/* Truncated: a TCP client gets the upstream's answer over TCP. */
		struct job *j = s->tcp_jobs < JOBS_TCP_MAX ? calloc(1, sizeof *j) : NULL;
		if (j) {
			*j = (struct job){.kind = JOB_TCP, .s = s, .req = r};
			if (start_job(s, j)) {
				s->tcp_jobs++;
				return;
			}
			free(j);
		} else {
			limited(s, LIMIT_JOBS, "%d TCP exchanges with upstreams at once: a truncated "
				"reply is relayed as it is", JOBS_TCP_MAX);
		}
	}
	if (bypassable(s, r) && s->cfg.mode == NX_MODE_FALLBACK) {
		bool has_type;
		int rcode = nx_stub_reply_rcode(reply, len, r->q.qtype, &has_type);
		/* NODATA is a stale answer to bypass for addresses only (see
		 * docs/design.md, "Other types"). */
		if (rcode == NX_RCODE_NXDOMAIN ||
		    (rcode == NX_RCODE_NOERROR && !has_type && address_type(&r->q))) {
			join_wait(s, r, reply, len);
			return;
		}
	}
	send_reply(s, r, reply, len);
	finish(s, r);
}

/* Replies on u: each is matched by its id to a forward, which must be
 * on u (so from its upstream) and carry its question; others are dropped
 * (late, or forged). */
/* The batch's headers, each datagram up to size bytes, the sender's
 * address kept when peers. */
static void rx_prepare(struct nx_stub *s, size_t size, bool peers)
{
	for (int k = 0; k < UDP_BATCH; k++) {
		s->rx_iov[k] = (struct iovec){s->rx + (size_t)k * RX_SIZE, size};
		s->rx_msg[k].msg_hdr = (struct msghdr){
			.msg_name = peers ? &s->rx_peer[k] : NULL,
			.msg_namelen = peers ? sizeof s->rx_peer[k] : 0,
			.msg_iov = &s->rx_iov[k],
			.msg_iovlen = 1,
		};
	}
}

static void on_usock(struct nx_stub *s, struct usock *u)
{
	rx_prepare(s, RX_SIZE, false);
	int n = recvmmsg(u->fd, s->rx_msg, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		/* ICMP unreachable: every try on u is over, the next at once */
		for (int i = 0; i < s->nfw; i++)
			if (s->fw[i]->sock == u)
				s->fw[i]->until_ms = 0;
		usock_retire(s, u);
		return;
	}
	s->replies_held = true;
	for (int k = 0; k < n; k++) {
		unsigned char *msg = s->rx_iov[k].iov_base;
		size_t len = s->rx_msg[k].msg_len;
		if (len < 2 || (s->rx_msg[k].msg_hdr.msg_flags & MSG_TRUNC))
			continue;
		struct forward *f = s->by_id[msg[0] << 8 | msg[1]];
		if (!f || f->sock != u || !nx_stub_reply_matches(msg, len, f->id, &f->req->q))
			continue;
		s->preferred = f->server;
		for (struct request *r = forward_close(s, f->slot), *next; r; r = next) {
			next = r->next;
			r->next = NULL;
			relay(s, r, msg, len);
		}
	}
	s->replies_held = false;
	flush_replies(s);
}

/* ---- clients' messages ---- */

static void on_query(struct nx_stub *s, enum transport t, int fd, const struct sockaddr_storage *peer,
		     socklen_t peerlen, int conn, const unsigned char *msg, size_t len)
{
	struct nx_question q;
	enum nx_query_verdict v = nx_stub_parse_query(msg, len, &q);
	if (v == NX_QUERY_DROP)
		return;
	struct request *r = malloc(sizeof *r + len);
	if (!r)
		return;
	memset(r, 0, sizeof *r);
	r->transport = t;
	r->udp_fd = fd;
	if (peer)
		memcpy(&r->peer, peer, peerlen);
	r->peerlen = peerlen;
	r->conn = conn;
	if (t == T_TCP) {
		r->conn_gen = s->conns[conn].gen;
		s->conns[conn].inflight++;
	}
	r->q = q;
	r->len = len;
	memcpy(r->msg, msg, len);
	if (v != NX_QUERY_OK) {
		reply_error(s, r, v == NX_QUERY_NOTIMP ? NX_RCODE_NOTIMP : NX_RCODE_FORMERR);
		finish(s, r);
		return;
	}
	char key[NX_KEYMAX];
	if (bypassable(s, r)) {
		nx_pending_key(&q, key);
		/* A question asked again while its wait runs joins it (no
		 * second query upstream); first mode starts a wait at once. */
		if (s->cfg.mode == NX_MODE_FIRST || nx_pending_find(&s->waits, key)) {
			join_wait(s, r, NULL, 0);
			return;
		}
	}
	forward(s, r);
}

static void on_udp(struct nx_stub *s, int fd)
{
	rx_prepare(s, NX_STUB_QUERY_MAX + 1, true);
	int n = recvmmsg(fd, s->rx_msg, UDP_BATCH, MSG_DONTWAIT, NULL);
	for (int k = 0; k < n; k++) {
		size_t len = s->rx_msg[k].msg_len;
		if (len <= NX_STUB_QUERY_MAX && !(s->rx_msg[k].msg_hdr.msg_flags & MSG_TRUNC))
			on_query(s, T_UDP, fd, &s->rx_peer[k], s->rx_msg[k].msg_hdr.msg_namelen, -1,
				 s->rx_iov[k].iov_base, len);
	}
}

static void on_accept(struct nx_stub *s, int fd)
{
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0)
		return;
	if (s->nconns >= s->o.max_tcp) {
		limited(s, LIMIT_TCP, "%d TCP connections (--max-tcp): a new one is closed", s->nconns);
		close(c);
		return;
	}
	for (int i = 0; i < s->o.max_tcp; i++)
		if (s->conns[i].fd < 0) {
			s->conns[i].fd = c;
			s->conns[i].last_ms = nx_now_ms();
			s->nconns++;
			return;
		}
	close(c); /* not reached: nconns < max_tcp leaves a free slot */
}

/* Reads what the connection has, and takes every whole frame in it. */
static void on_conn_read(struct nx_stub *s, int i)
{
	struct conn *c = &s->conns[i];
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0 || c->inlen) { /* an error, or the client left mid-frame */
			close_conn(s, c);
			return;
		}
		c->eof = true;
		return;
	}
	c->inlen += (size_t)n;
	c->last_ms = nx_now_ms();
	while (c->fd >= 0 && c->inlen >= 2) {
		size_t frame = (size_t)(c->in[0] << 8 | c->in[1]);
		if (frame > NX_STUB_QUERY_MAX || frame == 0) {
			close_conn(s, c);
			return;
		}
		if (c->inlen < 2 + frame)
			return;
		on_query(s, T_TCP, -1, NULL, 0, i, c->in + 2, frame);
		memmove(c->in, c->in + 2 + frame, c->inlen - 2 - frame);
		c->inlen -= 2 + frame;
	}
}

static void on_conn_write(struct nx_stub *s, struct conn *c)
{
	while (c->out) {
		struct out *o = c->out;
		ssize_t n = send(c->fd, o->data + c->out_off, o->len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n < 0) {
			close_conn(s, c);
			return;
		}
		c->last_ms = nx_now_ms();
		c->out_off += (size_t)n;
		if (c->out_off < o->len)
			return; /* resumed here when writable again */
		c->out = o->next;
		if (!c->out)
			c->out_tail = NULL;
		c->out_bytes -= o->len;
		c->out_off = 0;
		free(o);
	}
}

/* ---- the loop ---- */

/* Tries past their time, idle connections, waits the engine overran;
 * returns the time until the next of them. */
static int64_t expire(struct nx_stub *s, int64_t now)
{
	int64_t next = now + POLL_MAX_MS;
	usock_sweep(s, false);
	bool due = s->trim_due || s->ended >= TRIM_AFTER_REQUESTS;
	if ((s->trim_due && !s->running) || (due && now - s->trim_ms >= TRIM_EVERY_MS)) {
#ifdef __GLIBC__
		/* Each job's rounds leave their heap in the arena of its
		 * thread: 1,000 waits left 90 MB resident after they ended
		 * when trimmed only once every job was back (bench row 10a);
		 * a burst of clients leaves its requests' pages in the main
		 * arena's free lists. */
		malloc_trim(0);
#endif
		s->trim_due = false;
		s->ended = 0;
		s->trim_ms = now;
	}
	for (int i = 0; i < s->nfw; i++) {
		struct forward *f = s->fw[i];
		if (f->until_ms > now) {
			next = f->until_ms < next ? f->until_ms : next;
			continue;
		}
		f->server = (f->server + 1) % s->o.nupstream;
		while (++f->tries < UPSTREAM_TRIES && !forward_send(s, f))
			f->server = (f->server + 1) % s->o.nupstream;
		if (f->tries < UPSTREAM_TRIES)
			continue;
		for (struct request *r = forward_close(s, i--), *after; r; r = after) {
			after = r->next;
			reply_error(s, r, NX_RCODE_SERVFAIL);
			finish(s, r);
		}
	}
	for (int i = 0; i < s->o.max_tcp; i++) {
		struct conn *c = &s->conns[i];
		if (c->fd < 0 || c->inflight || c->out)
			continue;
		if (c->eof || now - c->last_ms >= TCP_IDLE_MS)
			close_conn(s, c);
	}
	for (struct nx_pending *p = s->waits.head, *nextp; p; p = nextp) {
		nextp = p->next;
		struct job *j = p->job;
		const struct nx_zone *z = nx_config_zone_for(&s->cfg, j->name);
		double timeout = z && z->timeout > 0 ? z->timeout : s->cfg.timeout;
		if (now < p->started_ms + (int64_t)(timeout * 1000) + WAIT_GRACE_MS)
			continue;
		nx_log(NX_LOG_WARN, "%s: the engine did not answer by its deadline: the upstream's "
		       "answer stands", j->name);
		j->wait = NULL; /* the job comes back later, to nothing */
		release_waiters(s, p);
		nx_pending_remove(&s->waits, p);
	}
	return next - now;
}

static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof sun.sun_path)
		return;
	memcpy(sun.sun_path, path, strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = 0;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path)));
	close(fd);
}

/* Everything the loop holds, released (jobs still running free themselves). */
static void shutdown_stub(struct nx_stub *s)
{
	struct job *j;
	while (read(s->job_pipe[0], &j, sizeof j) == sizeof j)
		job_done(s, j);
	s->ntx = 0; /* never sent */
	for (int i = s->nfw - 1; i >= 0; i--)
		for (struct request *r = forward_close(s, i), *next; r; r = next) {
			next = r->next;
			free(r);
		}
	for (int u = 0; u < NX_STUB_MAXUPSTREAM; u++)
		for (int k = 0; k < POOL_SOCKETS; k++)
			if (s->pool[u][k])
				usock_retire(s, s->pool[u][k]);
	usock_sweep(s, true);
	while (s->waits.head) {
		struct nx_pending *p = s->waits.head;
		for (struct request *r = p->waiters, *next; r; r = next) {
			next = r->next;
			free(r);
		}
		((struct job *)p->job)->wait = NULL;
		nx_pending_remove(&s->waits, p);
	}
	for (int i = 0; i < s->o.max_tcp; i++)
		if (s->conns[i].fd >= 0)
			close_conn(s, &s->conns[i]);
}

int nx_stub_run(struct nx_stub *s)
{
	struct sigaction sa = {.sa_handler = on_signal}, old_term, old_int, old_pipe;
	struct sigaction ign = {.sa_handler = SIG_IGN};
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK)) {
		nx_log(NX_LOG_ERROR, "stub: pipe: %s", strerror(errno));
		stub_free(s);
		return -1;
	}
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGPIPE, &ign, &old_pipe);
	notify_ready();
	bool stop = false;
	while (!stop) {
		/* Queries held by the last turn go out before expire() looks at
		 * their tries, and those it tries again right after it. */
		bool failed = flush_queries(s);
		int64_t wait_ms = expire(s, nx_now_ms());
		if (flush_queries(s) || failed)
			wait_ms = 0;
		struct pollfd *p = s->pfd;
		int n = 0;
		p[n++] = (struct pollfd){sig_pipe[0], POLLIN, 0};
		p[n++] = (struct pollfd){s->job_pipe[0], POLLIN, 0};
		for (int i = 0; i < s->nlisten; i++)
			p[n++] = (struct pollfd){s->listen_fd[i], POLLIN, 0};
		int conns_at = n;
		for (int i = 0; i < s->o.max_tcp; i++) {
			struct conn *c = &s->conns[i];
			short ev = 0;
			if (c->fd >= 0 && !c->eof && c->inflight < TCP_PIPELINE_MAX && c->out_bytes < TCP_OUT_MAX)
				ev |= POLLIN;
			if (c->fd >= 0 && c->out)
				ev |= POLLOUT;
			p[n++] = (struct pollfd){ev ? c->fd : -1, ev, 0};
		}
		int fw_at = n;
		for (int u = 0; u < s->o.nupstream; u++)
			for (int k = 0; k < POOL_SOCKETS; k++)
				if (s->pool[u][k]) {
					s->polled[n] = s->pool[u][k];
					p[n++] = (struct pollfd){s->pool[u][k]->fd, POLLIN, 0};
				}
		for (struct usock *u = s->retired; u; u = u->next) {
			s->polled[n] = u;
			p[n++] = (struct pollfd){u->fd, POLLIN, 0};
		}
		int fw_end = n;
		if (poll(p, (nfds_t)n, (int)(wait_ms > 0 ? wait_ms : 0)) < 0 && errno != EINTR) {
			nx_log(NX_LOG_ERROR, "stub: poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents) {
			stop = true;
			continue;
		}
		/* Upstreams' replies first. A socket polled here stays open
		 * until the next turn's sweep, whatever is retired meanwhile. */
		for (int i = fw_at; i < fw_end; i++)
			if (p[i].revents)
				on_usock(s, s->polled[i]);
		if (p[1].revents) {
			struct job *j;
			while (read(s->job_pipe[0], &j, sizeof j) == sizeof j)
				job_done(s, j);
		}
		for (int i = 0; i < s->nlisten; i++)
			if (p[2 + i].revents)
				(s->listen_kind[i] == T_UDP ? on_udp : on_accept)(s, s->listen_fd[i]);
		for (int i = 0; i < s->o.max_tcp; i++) {
			short re = p[conns_at + i].revents;
			struct conn *c = &s->conns[i];
			if (re & (POLLIN | POLLHUP | POLLERR) && c->fd >= 0)
				on_conn_read(s, i);
			if (re & POLLOUT && c->fd >= 0)
				on_conn_write(s, c);
		}
		for (int i = 0; i < s->o.max_tcp; i++)
			if (s->conns[i].fd >= 0 && s->conns[i].out)
				on_conn_write(s, &s->conns[i]);
	}
	shutdown_stub(s);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	sig_pipe[0] = sig_pipe[1] = -1;
	if (s->running) {
		/* Threads still in the engine read s: it stays, reachable
		 * from the_stub, until the process exits. */
		close(s->job_pipe[0]);
		s->job_pipe[0] = -1;
		for (int i = 0; i < s->nlisten; i++)
			close(s->listen_fd[i]);
		s->nlisten = 0;
		return 0;
	}
	stub_free(s);
	return 0;
}
