/* One exchange with one server over c-ares: our own query bytes (ids from
 * getrandom(): Debian's c-ares 1.18.1 lacks the CVE-2023-31147 fix), sent
 * with ares_send, driven by poll(2). Never ares_fds/ares_process: they use
 * fd_set, and FORTIFY aborts the host process on a descriptor >= 1024.
 *
 * A channel per exchange, in the calling thread: c-ares 1.18 channels have
 * no locking, and thread pools call getaddrinfo concurrently. The channel is
 * configured entirely by options, so c-ares reads no file and no
 * resolv.conf. TCP on a truncated reply is c-ares' own. */
#include "nxretry.h"

#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

struct pending {
	const char *name;
	int qtype;
	uint16_t id;
	bool want_aa;
	bool done;
	struct nx_reply *out;
};

static void on_reply(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct pending *p = arg;
	(void)timeouts;
	if (p->done)
		return;
	p->done = true;
	switch (status) {
	case ARES_SUCCESS:
		nx_message_classify(abuf, (size_t)alen, p->id, p->name, p->qtype, p->want_aa,
				    p->out);
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

/* c-ares 1.18 opens its sockets without SOCK_CLOEXEC: a thread of the host
 * program that forks and execs meanwhile must not inherit them. */
static int on_socket(ares_socket_t fd, int type, void *data)
{
	(void)type;
	(void)data;
	int flags = fcntl(fd, F_GETFD);
	if (flags >= 0)
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	return ARES_SUCCESS;
}

static int open_channel(ares_channel *ch, const struct nx_server *server, int timeout_ms)
{
	struct ares_options o;
	memset(&o, 0, sizeof o);
	/* NOCHECKRESP: REFUSED and SERVFAIL reach us, to be reported. */
	o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	o.timeout = timeout_ms > 0 ? timeout_ms : 1;
	o.tries = 1;
	o.ndots = 1;
	o.nservers = 0;
	o.ndomains = 0;
	o.lookups = (char *)"b";
	o.nsort = 0;
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
		   ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS | ARES_OPT_SORTLIST;
	if (ares_init_options(ch, &o, mask) != ARES_SUCCESS)
		return -1;
	struct ares_addr_port_node node;
	memset(&node, 0, sizeof node);
	node.family = server->addr.family;
	if (server->addr.family == AF_INET)
		memcpy(&node.addr.addr4, server->addr.bytes, 4);
	else
		memcpy(&node.addr.addr6, server->addr.bytes, 16);
	node.udp_port = server->port; /* host byte order in 1.18 */
	node.tcp_port = server->port;
	if (ares_set_servers_ports(*ch, &node) != ARES_SUCCESS) {
		ares_destroy(*ch);
		return -1;
	}
	ares_set_socket_callback(*ch, on_socket, NULL);
	return 0;
}

static int remaining(const struct pending *p, int nq)
{
	int n = 0;
	for (int i = 0; i < nq; i++)
		n += !p[i].done;
	return n;
}

int nx_probe(const struct nx_server *server, const char *name, const int *qtypes, int nq,
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

	ares_channel ch;
	if (open_channel(&ch, server, timeout_ms))
		return -1;
	for (int i = 0; i < nq; i++) {
		unsigned char q[NX_NAMEMAX + 32];
		p[i].id = nx_random_id();
		int len = nx_message_query(q, sizeof q, p[i].id, name, qtypes[i], rd);
		if (len < 0) {
			p[i].done = true;
			out[i].status = NX_ERROR;
			continue;
		}
		ares_send(ch, q, len, on_reply, &p[i]);
	}

	while (remaining(p, nq)) {
		now = nx_now_ms();
		if (now >= deadline_ms)
			break;
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		/* The bit tests by hand: ARES_GETSOCK_WRITABLE shifts a signed 1
		 * into bit 31 for the last socket. */
		unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		struct pollfd fds[ARES_GETSOCK_MAXNUM];
		int nfds = 0;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			if (bits & (1u << i))
				ev |= POLLIN;
			if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (!ev)
				continue;
			fds[nfds++] = (struct pollfd){.fd = socks[i], .events = ev};
		}
		struct timeval max = {(deadline_ms - now) / 1000, ((deadline_ms - now) % 1000) * 1000};
		struct timeval tv, *t = ares_timeout(ch, &max, &tv);
		int wait_ms = (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000);
		int ready = poll(fds, (nfds_t)nfds, wait_ms);
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
	ares_destroy(ch); /* what is still pending ends as NX_TIMEOUT */
	return 0;
}
