/* addrinfo lists built like glibc's. Each address goes through libc's own
 * getaddrinfo as a numeric host with the caller's hints, so socket-type
 * expansion (one node per SOCK_STREAM, SOCK_DGRAM, SOCK_RAW when the
 * socktype is 0), services from /etc/services, AI_V4MAPPED and
 * AI_ADDRCONFIG are libc's own decisions, not a copy of them. The nodes are
 * then copied into allocations of ours, laid out as glibc lays them (one
 * block per node, ai_addr right after the struct), and freed node by node,
 * because a node must go back to the allocator that made it: musl frees a
 * list as one block, found from its last node. */
#include "nxretry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Every node of the lists built here, as an open-addressed set (linear
 * probing, at most half full). Ownership is per node, not per list: a
 * program may free any sublist (freeaddrinfo(res->ai_next)) or re-link
 * nodes of several lists, and only the nodes built here may go to free(). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct addrinfo **table;
static size_t ntable, captable; /* captable: 0 or a power of two; ntable
				   * changes under the lock, read without it */

void nx_result_lock(void) { pthread_mutex_lock(&lock); }
void nx_result_unlock(void) { pthread_mutex_unlock(&lock); }

void nx_result_reset(void)
{
	/* In a fork child, after nx_result_lock in the parent: the table is
	 * whole (never caught while growing), and the lists the parent built
	 * stay the child's to free. */
	pthread_mutex_init(&lock, NULL);
}

static size_t home(const struct addrinfo *ai, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)ai * 0x9e3779b97f4a7c15u;
	return (size_t)(h >> 32) & (cap - 1);
}

/* The slot holding ai, or the empty slot where it would go. Lock held,
 * captable > 0. */
static size_t slot_of(const struct addrinfo *ai)
{
	size_t i = home(ai, captable);
	while (table[i] && table[i] != ai)
		i = (i + 1) & (captable - 1);
	return i;
}

static bool holds(const struct addrinfo *ai)
{
	return captable && table[slot_of(ai)] == ai;
}

/* Room for n more nodes; false (nothing changed) when out of memory. */
static bool reserve(size_t n)
{
	if (2 * (ntable + n) <= captable)
		return true;
	size_t cap = captable ? captable : 64;
	while (2 * (ntable + n) > cap)
		cap *= 2;
	struct addrinfo **grown = calloc(cap, sizeof *grown), **old = table;
	if (!grown)
		return false;
	size_t oldcap = captable;
	table = grown;
	captable = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			table[slot_of(old[i])] = old[i];
	free(old);
	return true;
}

/* Takes ai out of the set; false when it was not in it. Later nodes of
 * its probe run move back so that no lookup stops at the gap. */
static bool take(const struct addrinfo *ai)
{
	if (!holds(ai))
		return false;
	size_t mask = captable - 1, gap = slot_of(ai);
	table[gap] = NULL;
	__atomic_sub_fetch(&ntable, 1, __ATOMIC_RELAXED);
	for (size_t j = (gap + 1) & mask; table[j]; j = (j + 1) & mask) {
		size_t h = home(table[j], captable);
		/* table[j] may fill the gap unless its home lies in (gap, j] */
		if (((j - h) & mask) >= ((j - gap) & mask)) {
			table[gap] = table[j];
			table[j] = NULL;
			gap = j;
		}
	}
	return true;
}

/* Registers every node of the list at once, or none. */
static bool own(struct addrinfo *head, size_t nnodes)
{
	pthread_mutex_lock(&lock);
	bool ok = reserve(nnodes);
	for (struct addrinfo *n = head; ok && n; n = n->ai_next) {
		table[slot_of(n)] = n;
		__atomic_add_fetch(&ntable, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

static void free_node(struct addrinfo *ai)
{
	free(ai->ai_canonname);
	free(ai);
}

/* For lists never registered (built halfway). */
static void free_nodes(struct addrinfo *ai)
{
	while (ai) {
		struct addrinfo *next = ai->ai_next;
		free_node(ai);
		ai = next;
	}
}

bool nx_result_release(struct addrinfo *ai, nx_freeai_fn freeai)
{
	if (!ai || !__atomic_load_n(&ntable, __ATOMIC_RELAXED))
		return false;
	bool any = false;
	pthread_mutex_lock(&lock);
	for (const struct addrinfo *n = ai; n && !any; n = n->ai_next)
		any = holds(n);
	pthread_mutex_unlock(&lock);
	if (!any)
		return false;
	/* Node by node, as glibc frees: ours to free(), each run of other
	 * nodes, cut off, to libc as one list. */
	while (ai) {
		struct addrinfo *last = ai;
		pthread_mutex_lock(&lock);
		bool mine = take(ai);
		while (!mine && last->ai_next && !holds(last->ai_next))
			last = last->ai_next;
		pthread_mutex_unlock(&lock);
		struct addrinfo *next = last->ai_next;
		if (mine) {
			free_node(ai);
		} else {
			last->ai_next = NULL;
			freeai(ai);
		}
		ai = next;
	}
	return true;
}

static struct addrinfo *copy_node(const struct addrinfo *src)
{
	struct addrinfo *ai = malloc(sizeof *ai + src->ai_addrlen);
	if (!ai)
		return NULL;
	*ai = *src;
	ai->ai_addr = (struct sockaddr *)(ai + 1);
	memcpy(ai->ai_addr, src->ai_addr, src->ai_addrlen);
	ai->ai_canonname = NULL;
	ai->ai_next = NULL;
	return ai;
}

static void sort_nodes(struct addrinfo **head, size_t nnodes);

static bool mapped_v4(const struct nx_addr *a)
{
	static const unsigned char prefix[12] = {[10] = 0xff, [11] = 0xff};
	return a->family == AF_INET6 && !memcmp(a->bytes, prefix, sizeof prefix);
}

int nx_result_build(const struct nx_addr *addrs, int naddrs, const char *canon,
		    const char *service, const struct addrinfo *hints, nx_gai_fn gai,
		    nx_freeai_fn freeai, struct addrinfo **res)
{
	/* glibc: hints == NULL means AI_V4MAPPED | AI_ADDRCONFIG, any family. */
	struct addrinfo h = {.ai_family = AF_UNSPEC, .ai_flags = AI_V4MAPPED | AI_ADDRCONFIG};
	if (hints) {
		h.ai_family = hints->ai_family;
		h.ai_socktype = hints->ai_socktype;
		h.ai_protocol = hints->ai_protocol;
		h.ai_flags = hints->ai_flags;
	}
	int caller_flags = h.ai_flags; /* glibc puts the hints' flags in every node */
	bool want_canon = h.ai_flags & AI_CANONNAME;
	h.ai_flags = (h.ai_flags & ~(AI_CANONNAME | AI_CANONIDN)) | AI_NUMERICHOST;

	/* AF_INET6 with AI_V4MAPPED and without AI_ALL: once the name has an
	 * IPv6 address, glibc drops the AAAA records that are IPv4-mapped
	 * (sysdeps/posix/getaddrinfo.c, as it builds the nodes). */
	bool drop_mapped = false;
	if (h.ai_family == AF_INET6 && (caller_flags & (AI_V4MAPPED | AI_ALL)) == AI_V4MAPPED)
		for (int i = 0; i < naddrs && !drop_mapped; i++)
			drop_mapped = addrs[i].family == AF_INET6;

	struct addrinfo *head = NULL, **tail = &head;
	int first_error = EAI_NONAME, used = 0;
	size_t nnodes = 0;
	for (int i = 0; i < naddrs; i++) {
		char text[INET6_ADDRSTRLEN];
		if ((drop_mapped && mapped_v4(&addrs[i])) ||
		    nx_addr_format(&addrs[i], text, sizeof text))
			continue;
		struct addrinfo *list = NULL;
		int rc = gai(text, service, &h, &list);
		if (rc) {
			if (first_error == EAI_NONAME)
				first_error = rc;
			continue;
		}
		used++;
		for (struct addrinfo *n = list; n; n = n->ai_next) {
			struct addrinfo *copy = copy_node(n);
			if (!copy) {
				freeai(list);
				free_nodes(head);
				return EAI_MEMORY;
			}
			copy->ai_flags = caller_flags;
			*tail = copy;
			tail = &copy->ai_next;
			nnodes++;
		}
		freeai(list);
	}
	if (!head)
		return first_error;
	/* glibc sorts when more than one address made nodes, the nodes
	 * themselves (a mapped address is scored as the IPv6 one it is). */
	if (used > 1)
		sort_nodes(&head, nnodes);
	/* glibc names the first node when AI_CANONNAME asks; musl names every
	 * node, asked or not (measured on musl 1.2.3). */
#ifdef __GLIBC__
	struct addrinfo *unnamed = want_canon ? head->ai_next : head;
#else
	struct addrinfo *unnamed = NULL;
	(void)want_canon;
#endif
	for (struct addrinfo *n = head; n != unnamed; n = n->ai_next)
		if (!(n->ai_canonname = strdup(canon))) {
			free_nodes(head);
			return EAI_MEMORY;
		}
	if (!own(head, nnodes)) {
		free_nodes(head);
		return EAI_MEMORY;
	}
	*res = head;
	return 0;
}

int nx_result_family(int family, int flags, nx_gai_fn gai, nx_freeai_fn freeai)
{
	if (family != AF_UNSPEC || !(flags & AI_ADDRCONFIG))
		return family;
	bool seen[2];
	static const char *const probe[2] = {"192.0.2.1", "2001:db8::1"};
	for (int k = 0; k < 2; k++) {
		struct addrinfo h = {.ai_family = k ? AF_INET6 : AF_INET,
				     .ai_flags = AI_ADDRCONFIG | AI_NUMERICHOST};
		struct addrinfo *r = NULL;
		seen[k] = gai(probe[k], NULL, &h, &r) == 0;
		if (seen[k])
			freeai(r);
	}
	if (seen[0] != seen[1])
		return seen[0] ? AF_INET : AF_INET6;
	return family;
}

bool nx_result_hostent_room(const char *name, size_t buflen)
{
	char c = name[0];
	bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	/* an address, two address pointers, one alias pointer, the name */
	size_t need = 16 + 2 * sizeof(char *) + sizeof(char *) + strlen(name) + 1;
	return !(hex || c == ':') || buflen >= need;
}

/* glibc's DNS backend fills the caller's buffer front to back (an
 * alloc_buffer): each name as it reads it (the name asked, then each CNAME
 * target), each address aligned to 4 bytes, then the address pointer
 * array and the alias pointer array aligned for pointers. Any step that
 * does not fit makes the whole call ERANGE. Positions are real addresses:
 * padding depends on where buf lies. */
struct abuf {
	uintptr_t cur, end;
	bool failed;
};

static char *abuf_take(struct abuf *b, size_t size, size_t align)
{
	uintptr_t at = (b->cur + (align - 1)) & ~(uintptr_t)(align - 1);
	if (b->failed || at < b->cur || size > b->end - at || at > b->end) {
		b->failed = true;
		return NULL;
	}
	b->cur = at + size;
	return (char *)at;
}

static char *abuf_string(struct abuf *b, const char *text)
{
	size_t n = strlen(text) + 1;
	char *out = abuf_take(b, n, 1);
	if (out)
		memcpy(out, text, n);
	return out;
}

int nx_result_hostent_chain(const struct nx_addr *addrs, int naddrs, const char *asked,
			    const char (*aliases)[NX_NAMEMAX], int naliases, int af,
			    struct hostent *ret, char *buf, size_t buflen)
{
	int len = af == AF_INET ? 4 : 16, n = 0;
	for (int i = 0; i < naddrs; i++)
		n += addrs[i].family == af;
	if (!n)
		return -1;
	if (naliases < 0 || naliases > NX_MAXCHAIN)
		return -1;
	struct abuf b = {(uintptr_t)buf, (uintptr_t)buf + buflen, false};
	char *names[NX_MAXCHAIN + 1];
	char first[NX_NAMEMAX];
	size_t al = strlen(asked);
	if (al >= sizeof first)
		return -1;
	memcpy(first, asked, al + 1);
	if (al > 1 && first[al - 1] == '.')
		first[al - 1] = 0; /* the name as it comes back in the reply's question */
	names[0] = abuf_string(&b, first);
	for (int i = 0; i < naliases; i++)
		names[i + 1] = abuf_string(&b, aliases[i]);
	char *bytes[NX_MAXADDRS];
	int k = 0;
	for (int i = 0; i < naddrs && k < NX_MAXADDRS; i++) {
		if (addrs[i].family != af)
			continue;
		bytes[k] = abuf_take(&b, (size_t)len, 4);
		if (bytes[k])
			memcpy(bytes[k], addrs[i].bytes, (size_t)len);
		k++;
	}
	char **list = (char **)abuf_take(&b, sizeof(char *) * (size_t)(k + 1), sizeof(char *));
	char **alias_list = (char **)abuf_take(&b, sizeof(char *) * (size_t)(naliases + 1),
					       sizeof(char *));
	if (b.failed)
		return ERANGE;
	memcpy(list, bytes, sizeof(char *) * (size_t)k);
	list[k] = NULL;
	memcpy(alias_list, names, sizeof(char *) * (size_t)naliases);
	alias_list[naliases] = NULL;
	ret->h_name = names[naliases];
	ret->h_aliases = alias_list;
	ret->h_addrtype = af;
	ret->h_length = len;
	ret->h_addr_list = list;
	return 0;
}

int nx_result_hostent(const struct nx_addr *addrs, int naddrs, const char *canon,
		      const char *asked, int af, struct hostent *ret, char *buf, size_t buflen)
{
	char alias[1][NX_NAMEMAX];
	bool differ = strcmp(canon, asked) != 0;
	if (differ)
		snprintf(alias[0], sizeof alias[0], "%s", canon);
	return nx_result_hostent_chain(addrs, naddrs, asked, (const char(*)[NX_NAMEMAX])alias,
				       differ ? 1 : 0, af, ret, buf, buflen);
}

/* ---- destination order, as glibc sorts getaddrinfo results ----
 * RFC 6724 §6 as glibc 2.36 applies it (sysdeps/posix/getaddrinfo.c) with
 * its default tables (gai.conf is not read), on the nodes themselves:
 * rule 1 (a source address exists), 2 (matching scope), 5 (matching
 * label), 6 (precedence), 8 (smaller scope), 9 (glibc's longest matching
 * prefix: IPv4 only inside the source address's subnet, IPv6 on the first
 * 32-bit word where either address differs from its source), 10 (the
 * order given). Rules 3, 4 and 7 need address flags and interface kinds
 * the kernel gives glibc over netlink: nxretry takes them as glibc does
 * when nothing sets them (no deprecated or home address, every interface
 * native). */

struct prefix {
	unsigned char bytes[16];
	int bits, value;
};

static const struct prefix labels[] = {
	{{[15] = 1}, 128, 0},
	{{0x20, 0x02}, 16, 2},
	{{0}, 96, 3},
	{{[10] = 0xff, [11] = 0xff}, 96, 4},
	{{0xfe, 0xc0}, 10, 5},
	{{0xfc}, 7, 6},
	{{0x20, 0x01}, 32, 7},
	{{0}, 0, 1},
};

static const struct prefix precedences[] = {
	{{[15] = 1}, 128, 50},
	{{0x20, 0x02}, 16, 30},
	{{0}, 96, 20},
	{{[10] = 0xff, [11] = 0xff}, 96, 10},
	{{0}, 0, 40},
};

/* The address of a sockaddr as 16 bytes, IPv4 mapped. */
static void bytes16(const struct sockaddr *sa, unsigned char out[16])
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	} else {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	}
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)whole))
		return false;
	return !rest || !((a[whole] ^ b[whole]) & (0xff00 >> rest));
}

static int lookup_prefix(const struct prefix *t, size_t n, const struct sockaddr *sa)
{
	unsigned char v6[16];
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return 0;
	bytes16(sa, v6);
	for (size_t i = 0; i < n; i++)
		if (prefix_match(t[i].bytes, v6, t[i].bits))
			return t[i].value;
	return 0;
}

static int scope_of(const struct sockaddr *sa)
{
	unsigned char b[16];
	if (sa->sa_family == AF_INET) {
		bytes16(sa, b);
		return (b[12] == 127 || (b[12] == 169 && b[13] == 254)) ? 2 : 14;
	}
	if (sa->sa_family != AF_INET6)
		return 15;
	bytes16(sa, b);
	static const unsigned char loopback[16] = {[15] = 1};
	if (b[0] == 0xff)
		return b[1] & 0x0f;
	if ((b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || !memcmp(b, loopback, 16))
		return 2;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return 5;
	return 14;
}

/* An interface address, as glibc's __check_pf lists them (IPv4 mapped),
 * with the prefix length rule 9 reads (no interface index: rule 7, which
 * would need it, is not applied). */
struct ifentry {
	unsigned char bytes[16];
	int prefixlen;
};

static int leading_zeros(uint32_t x)
{
	return x ? __builtin_clz(x) : 32;
}

static uint32_t word(const unsigned char *b, int i)
{
	return (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 | (uint32_t)b[4 * i + 2] << 8 |
	       b[4 * i + 3];
}

struct ranked {
	struct addrinfo *node;
	struct sockaddr_in6 source; /* or a sockaddr_in in the same storage */
	bool got_source;
	int prefixlen;
	/* What the rules read of the destination and the source, found once
	 * per node rather than in each of qsort's n log n comparisons. */
	uint32_t dst[4], src[4]; /* IPv4 mapped, as 32-bit words (rule 9) */
	int dst_scope, dst_label, precedence, src_scope, src_label;
};

static void words(const struct sockaddr *sa, uint32_t out[4])
{
	unsigned char b[16];
	bytes16(sa, b);
	for (int i = 0; i < 4; i++)
		out[i] = word(b, i);
}

static void rank_destination(struct ranked *r)
{
	const struct sockaddr *da = r->node->ai_addr;
	words(da, r->dst);
	r->dst_scope = scope_of(da);
	r->dst_label = lookup_prefix(labels, 8, da);
	r->precedence = lookup_prefix(precedences, 5, da);
}

static void rank_source(struct ranked *r)
{
	const struct sockaddr *sa = (const void *)&r->source;
	words(sa, r->src);
	r->src_scope = scope_of(sa);
	r->src_label = lookup_prefix(labels, 8, sa);
}

struct ranking {
	struct ranked *r;
};

static int compare_ranked(const void *pa, const void *pb, void *arg)
{
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	const struct ranked *a = &((struct ranking *)arg)->r[ia], *b = &((struct ranking *)arg)->r[ib];
	if (a->got_source != b->got_source) /* Rule 1 */
		return a->got_source ? -1 : 1;
	if (a->got_source) {
		bool ma = a->dst_scope == a->src_scope, mb = b->dst_scope == b->src_scope; /* Rule 2 */
		if (ma != mb)
			return ma ? -1 : 1;
		ma = a->dst_label == a->src_label; /* Rule 5 */
		mb = b->dst_label == b->src_label;
		if (ma != mb)
			return ma ? -1 : 1;
	}
	if (a->precedence != b->precedence) /* Rule 6 */
		return a->precedence > b->precedence ? -1 : 1;
	if (a->dst_scope != b->dst_scope) /* Rule 8 */
		return a->dst_scope < b->dst_scope ? -1 : 1;
	if (a->got_source && a->node->ai_family == b->node->ai_family) { /* Rule 9 */
		int bits_a = 0, bits_b = 0;
		const uint32_t *xa = a->dst, *xb = b->dst, *ya = a->src, *yb = b->src;
		if (a->node->ai_family == AF_INET) {
			/* prefixlen 0 (no interface known): glibc's shift by 32,
			 * on x86 a shift by 0, leaves the whole address as mask. */
			uint32_t ma = a->prefixlen ? ~0u << (32 - a->prefixlen) : ~0u;
			uint32_t mb = b->prefixlen ? ~0u << (32 - b->prefixlen) : ~0u;
			if ((ya[3] & ma) == (xa[3] & ma))
				bits_a = leading_zeros(xa[3] ^ ya[3]);
			if ((yb[3] & mb) == (xb[3] & mb))
				bits_b = leading_zeros(xb[3] ^ yb[3]);
		} else {
			int i = 0;
			while (i < 4 && xa[i] == ya[i] && xb[i] == yb[i])
				i++;
			if (i < 4) {
				bits_a = leading_zeros(xa[i] ^ ya[i]);
				bits_b = leading_zeros(xb[i] ^ yb[i]);
			}
		}
		if (bits_a != bits_b)
			return bits_a > bits_b ? -1 : 1;
	}
	return ia < ib ? -1 : 1; /* Rule 10 */
}

/* glibc lists interface addresses only on a host with an IPv6 address
 * other than ::1; without one every prefix length is unknown (0). */
static int interface_addresses(struct ifentry *out, int max)
{
	struct ifaddrs *all = NULL;
	if (getifaddrs(&all))
		return 0;
	bool v6 = false;
	static const unsigned char loopback[16] = {[15] = 1};
	for (struct ifaddrs *i = all; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 &&
		    memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, loopback, 16))
			v6 = true;
	int n = 0;
	for (struct ifaddrs *i = all; v6 && i && n < max; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		bytes16(i->ifa_addr, out[n].bytes);
		unsigned char mask[16];
		out[n].prefixlen = 0;
		if (i->ifa_netmask) {
			bytes16(i->ifa_netmask, mask);
			for (int k = i->ifa_addr->sa_family == AF_INET ? 12 : 0; k < 16; k++)
				out[n].prefixlen += __builtin_popcount(mask[k]);
		}
		n++;
	}
	freeifaddrs(all);
	return n;
}

/* The source address for a node, as glibc finds it: one UDP socket reused
 * (an IPv6 one once an IPv6 node came, which then serves IPv4 ones too),
 * connected to each destination in turn. */
static bool connect_source(int *fd, int *af, const struct addrinfo *n, struct sockaddr_in6 *src)
{
	for (;;) {
		socklen_t sl = sizeof *src;
		if (*fd != -1 && connect(*fd, n->ai_addr, n->ai_addrlen) == 0 &&
		    getsockname(*fd, (struct sockaddr *)src, &sl) == 0)
			return true;
		if (errno == EAFNOSUPPORT && *af == AF_INET6 && n->ai_family == AF_INET) {
			if (*fd != -1)
				close(*fd);
			*af = AF_INET;
			*fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_IP);
			continue;
		}
		return false;
	}
}

static void sort_nodes(struct addrinfo **head, size_t nnodes)
{
	if (nnodes < 2)
		return;
	struct ranked *r = calloc(nnodes, sizeof *r);
	size_t *order = calloc(nnodes, sizeof *order);
	struct ifentry *ifs = calloc(64, sizeof *ifs);
	if (!r || !order || !ifs) {
		free(r), free(order), free(ifs);
		return; /* out of memory: the order given */
	}
	int nifs = interface_addresses(ifs, 64);
	int fd = -1, af = AF_UNSPEC;
	size_t i = 0;
	for (struct addrinfo *n = *head, *last = NULL; n && i < nnodes; last = n, n = n->ai_next, i++) {
		r[i].node = n;
		order[i] = i;
		if (last && last->ai_addrlen == n->ai_addrlen &&
		    !memcmp(last->ai_addr, n->ai_addr, n->ai_addrlen)) {
			struct addrinfo *keep = r[i].node;
			r[i] = r[i - 1];
			r[i].node = keep;
			continue;
		}
		r[i].prefixlen = 0;
		rank_destination(&r[i]);
		if (fd == -1 || (af == AF_INET && n->ai_family == AF_INET6)) {
			if (fd != -1)
				close(fd);
			af = n->ai_family;
			fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_IP);
		} else {
			struct sockaddr unspec = {.sa_family = AF_UNSPEC};
			connect(fd, &unspec, sizeof unspec);
		}
		if (!connect_source(&fd, &af, n, &r[i].source))
			continue;
		r[i].got_source = true;
		unsigned char key[16];
		struct sockaddr *src = (struct sockaddr *)&r[i].source;
		bytes16(src, key);
		if (n->ai_family == AF_INET && af == AF_INET && key[12] == 127) {
			memset(key + 12, 0, 4); /* glibc looks up lo as 127.0.0.1 */
			key[12] = 127, key[15] = 1;
		}
		for (int k = 0; k < nifs; k++)
			if (!memcmp(ifs[k].bytes, key, 16)) {
				r[i].prefixlen = ifs[k].prefixlen;
				break;
			}
		if (n->ai_family == AF_INET && af == AF_INET6) {
			/* an IPv4 destination through the IPv6 socket: the
			 * mapped source is taken as the IPv4 address it is */
			struct sockaddr_in in = {.sin_family = AF_INET};
			memcpy(&in.sin_addr, key + 12, 4);
			memset(&r[i].source, 0, sizeof r[i].source);
			memcpy(&r[i].source, &in, sizeof in);
		}
		rank_source(&r[i]);
	}
	if (fd != -1)
		close(fd);
	struct ranking arg = {r};
	qsort_r(order, nnodes, sizeof *order, compare_ranked, &arg);
	struct addrinfo **tail = head;
	for (i = 0; i < nnodes; i++) {
		*tail = r[order[i]].node;
		tail = &(*tail)->ai_next;
	}
	*tail = NULL;
	free(r), free(order), free(ifs);
}

void nx_result_sort(struct nx_addr *addrs, int naddrs)
{
	if (naddrs < 2)
		return;
	if (naddrs > NX_MAXADDRS)
		naddrs = NX_MAXADDRS;
	struct node {
		struct addrinfo ai;
		struct sockaddr_in6 sa;
	} nodes[NX_MAXADDRS];
	struct addrinfo *head = NULL, **tail = &head;
	memset(nodes, 0, sizeof nodes);
	for (int i = 0; i < naddrs; i++) {
		struct addrinfo *ai = &nodes[i].ai;
		ai->ai_family = addrs[i].family;
		ai->ai_addr = (struct sockaddr *)&nodes[i].sa;
		if (addrs[i].family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)(void *)&nodes[i].sa;
			in->sin_family = AF_INET;
			memcpy(&in->sin_addr, addrs[i].bytes, 4);
			ai->ai_addrlen = sizeof *in;
		} else {
			nodes[i].sa.sin6_family = AF_INET6;
			memcpy(&nodes[i].sa.sin6_addr, addrs[i].bytes, 16);
			ai->ai_addrlen = sizeof nodes[i].sa;
		}
		*tail = ai;
		tail = &ai->ai_next;
	}
	sort_nodes(&head, (size_t)naddrs);
	struct nx_addr sorted[NX_MAXADDRS];
	int k = 0;
	for (struct addrinfo *ai = head; ai; ai = ai->ai_next)
		sorted[k++] = addrs[(struct node *)(void *)ai - nodes];
	memcpy(addrs, sorted, sizeof *addrs * (size_t)naddrs);
}
