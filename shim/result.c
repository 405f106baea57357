/* addrinfo lists built like glibc's. Each address goes through libc's own
 * getaddrinfo as a numeric host with the caller's hints, so socket-type
 * expansion (one node per SOCK_STREAM, SOCK_DGRAM, SOCK_RAW when the
 * socktype is 0), services from /etc/services, AI_V4MAPPED and
 * AI_ADDRCONFIG are libc's own decisions, not a copy of them. The nodes are
 * then copied into allocations of ours, laid out as glibc lays them (one
 * block per node, ai_addr right after the struct), because a list must go
 * back to the allocator that made it: musl frees a list as one block. */
#include "nxretry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct addrinfo **owned;
static size_t nowned, capowned;

void nx_result_lock(void) { pthread_mutex_lock(&lock); }
void nx_result_unlock(void) { pthread_mutex_unlock(&lock); }

void nx_result_reset(void)
{
	/* In a fork child, after nx_result_lock in the parent: the table is
	 * whole (never caught inside realloc), and the lists the parent built
	 * stay the child's to free. */
	pthread_mutex_init(&lock, NULL);
}

static bool own(struct addrinfo *ai)
{
	bool ok = true;
	pthread_mutex_lock(&lock);
	if (nowned == capowned) {
		size_t cap = capowned ? capowned * 2 : 16;
		struct addrinfo **grown = realloc(owned, cap * sizeof *grown);
		if (grown) {
			owned = grown;
			capowned = cap;
		} else {
			ok = false;
		}
	}
	if (ok)
		owned[nowned++] = ai;
	pthread_mutex_unlock(&lock);
	return ok;
}

static void free_nodes(struct addrinfo *ai)
{
	while (ai) {
		struct addrinfo *next = ai->ai_next;
		free(ai->ai_canonname);
		free(ai);
		ai = next;
	}
}

bool nx_result_release(struct addrinfo *ai)
{
	bool found = false;
	pthread_mutex_lock(&lock);
	for (size_t i = nowned; i-- > 0;)
		if (owned[i] == ai) {
			owned[i] = owned[--nowned];
			found = true;
			break;
		}
	pthread_mutex_unlock(&lock);
	if (found)
		free_nodes(ai);
	return found;
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
	h.ai_flags = (h.ai_flags & ~AI_CANONNAME) | AI_NUMERICHOST;

	struct addrinfo *head = NULL, **tail = &head;
	int first_error = EAI_NONAME;
	for (int i = 0; i < naddrs; i++) {
		char text[INET6_ADDRSTRLEN];
		if (nx_addr_format(&addrs[i], text, sizeof text))
			continue;
		struct addrinfo *list = NULL;
		int rc = gai(text, service, &h, &list);
		if (rc) {
			if (first_error == EAI_NONAME)
				first_error = rc;
			continue;
		}
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
		}
		freeai(list);
	}
	if (!head)
		return first_error;
	if (want_canon && !(head->ai_canonname = strdup(canon))) {
		free_nodes(head);
		return EAI_MEMORY;
	}
	if (!own(head)) {
		free_nodes(head);
		return EAI_MEMORY;
	}
	*res = head;
	return 0;
}

/* Carves n bytes aligned for pointers out of buf. */
static char *carve(char **p, size_t *left, size_t n)
{
	size_t pad = (size_t)(-(uintptr_t)*p) & (sizeof(void *) - 1);
	if (*left < pad + n)
		return NULL;
	char *out = *p + pad;
	*p += pad + n;
	*left -= pad + n;
	return out;
}

int nx_result_hostent(const struct nx_addr *addrs, int naddrs, const char *canon,
		      const char *asked, int af, struct hostent *ret, char *buf, size_t buflen)
{
	int len = af == AF_INET ? 4 : 16, n = 0;
	for (int i = 0; i < naddrs; i++)
		n += addrs[i].family == af;
	if (!n)
		return -1;
	bool alias = strcmp(canon, asked) != 0;
	char *p = buf;
	size_t left = buflen;
	char **aliases = (char **)carve(&p, &left, sizeof(char *) * (alias ? 2 : 1));
	char **list = (char **)carve(&p, &left, sizeof(char *) * (size_t)(n + 1));
	char *bytes = carve(&p, &left, (size_t)(len * n));
	char *name = carve(&p, &left, strlen(canon) + 1);
	char *alias_name = alias ? carve(&p, &left, strlen(asked) + 1) : p;
	if (!aliases || !list || !bytes || !name || !alias_name)
		return ERANGE;
	int k = 0;
	for (int i = 0; i < naddrs; i++) {
		if (addrs[i].family != af)
			continue;
		memcpy(bytes + len * k, addrs[i].bytes, (size_t)len);
		list[k] = bytes + len * k;
		k++;
	}
	list[k] = NULL;
	strcpy(name, canon);
	if (alias) {
		strcpy(alias_name, asked);
		aliases[0] = alias_name;
	}
	aliases[alias ? 1 : 0] = NULL;
	ret->h_name = name;
	ret->h_aliases = aliases;
	ret->h_addrtype = af;
	ret->h_length = len;
	ret->h_addr_list = list;
	return 0;
}

/* ---- destination order, as glibc sorts getaddrinfo results ----
 * RFC 6724 §6 with glibc's default tables (gai.conf is not read): the
 * rules glibc applies without interface flags are 1 (usable), 2 (matching
 * scope), 5 (matching label), 6 (precedence), 8 (smaller scope), 9 (longest
 * prefix, IPv6) and 10 (stable). */

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

static void as_v6(const struct nx_addr *a, unsigned char out[16])
{
	if (a->family == AF_INET6) {
		memcpy(out, a->bytes, 16);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, a->bytes, 4);
}

static int common_bits(const unsigned char *a, const unsigned char *b, int max)
{
	int n = 0;
	while (n < max && !((a[n / 8] ^ b[n / 8]) & (0x80 >> (n % 8))))
		n++;
	return n;
}

static int lookup_prefix(const struct prefix *t, size_t n, const unsigned char v6[16])
{
	for (size_t i = 0; i < n; i++)
		if (common_bits(t[i].bytes, v6, t[i].bits) == t[i].bits)
			return t[i].value;
	return 0;
}

static int scope_of(const struct nx_addr *a)
{
	const unsigned char *b = a->bytes;
	if (a->family == AF_INET)
		return (b[0] == 127 || (b[0] == 169 && b[1] == 254)) ? 2 : 14;
	if (b[0] == 0xff)
		return b[1] & 0x0f;
	if ((b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || common_bits(b, labels[0].bytes, 128) == 128)
		return 2;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return 5;
	return 14;
}

struct ranked {
	struct nx_addr dest, source;
	bool usable;
	int index;
};

/* The source address the kernel would pick: connect(2) a UDP socket. */
static bool source_for(const struct nx_addr *dest, struct nx_addr *source)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof ss);
	if (dest->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, dest->bytes, 4);
		len = sizeof *in;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, dest->bytes, 16);
		len = sizeof *in6;
	}
	int fd = socket(dest->family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_IP);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&ss, len) == 0 &&
		  getsockname(fd, (struct sockaddr *)&ss, &len) == 0;
	close(fd);
	if (!ok)
		return false;
	source->family = dest->family;
	memset(source->bytes, 0, sizeof source->bytes);
	if (dest->family == AF_INET)
		memcpy(source->bytes, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else
		memcpy(source->bytes, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	return true;
}

static int compare(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;
	unsigned char da[16], db[16], sa[16], sb[16];
	as_v6(&a->dest, da);
	as_v6(&b->dest, db);
	as_v6(&a->source, sa);
	as_v6(&b->source, sb);
	if (a->usable != b->usable) /* Rule 1 */
		return a->usable ? -1 : 1;
	if (a->usable && b->usable) {
		bool ma = scope_of(&a->dest) == scope_of(&a->source); /* Rule 2 */
		bool mb = scope_of(&b->dest) == scope_of(&b->source);
		if (ma != mb)
			return ma ? -1 : 1;
		ma = lookup_prefix(labels, 8, da) == lookup_prefix(labels, 8, sa); /* Rule 5 */
		mb = lookup_prefix(labels, 8, db) == lookup_prefix(labels, 8, sb);
		if (ma != mb)
			return ma ? -1 : 1;
	}
	int pa6 = lookup_prefix(precedences, 5, da), pb6 = lookup_prefix(precedences, 5, db);
	if (pa6 != pb6) /* Rule 6 */
		return pa6 > pb6 ? -1 : 1;
	int sa8 = scope_of(&a->dest), sb8 = scope_of(&b->dest);
	if (sa8 != sb8) /* Rule 8 */
		return sa8 < sb8 ? -1 : 1;
	if (a->usable && b->usable && a->dest.family == AF_INET6 && b->dest.family == AF_INET6) {
		int ca = common_bits(da, sa, 64), cb = common_bits(db, sb, 64); /* Rule 9 */
		if (ca != cb)
			return ca > cb ? -1 : 1;
	}
	return a->index - b->index; /* Rule 10 */
}

void nx_result_sort(struct nx_addr *addrs, int naddrs)
{
	if (naddrs < 2)
		return;
	struct ranked r[NX_MAXADDRS];
	if (naddrs > NX_MAXADDRS)
		naddrs = NX_MAXADDRS;
	for (int i = 0; i < naddrs; i++) {
		memset(&r[i], 0, sizeof r[i]);
		r[i].dest = addrs[i];
		r[i].index = i;
		r[i].usable = source_for(&addrs[i], &r[i].source);
	}
	qsort(r, (size_t)naddrs, sizeof r[0], compare);
	for (int i = 0; i < naddrs; i++)
		addrs[i] = r[i].dest;
}
