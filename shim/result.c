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

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct addrinfo **owned;
static size_t nowned, capowned;

void nx_result_reset(void)
{
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
