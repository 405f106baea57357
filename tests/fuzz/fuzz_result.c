/* Result building (result.c) from a found-address set: addrinfo lists
 * through libc's numeric getaddrinfo with any hints and service, hostents
 * in caller buffers of every size and alignment (an exact-size heap
 * buffer: ASan sees a byte written past buflen), and the RFC 6724 order.
 *
 * Input: family, flags (2 bytes), socktype, protocol, hostent family,
 * buflen (2 bytes), buffer offset, address count, then each address (a
 * byte saying IPv4 or IPv6, then 4 or 16 bytes), then canonical name,
 * asked name and service, separated by NUL bytes. */
#include "fuzz.h"

#include <netinet/in.h>

static void check_list(const struct addrinfo *res, const struct nx_addr *addrs, int naddrs,
		       const char *canon, int flags)
{
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		FUZZ_CHECK(ai->ai_flags == flags);
		FUZZ_CHECK(ai->ai_family == AF_INET || ai->ai_family == AF_INET6);
		FUZZ_CHECK(ai->ai_addrlen == (ai->ai_family == AF_INET ? sizeof(struct sockaddr_in)
									 : sizeof(struct sockaddr_in6)));
		FUZZ_CHECK(ai->ai_addr && ai->ai_addr->sa_family == ai->ai_family);
		if (ai == res && (flags & AI_CANONNAME))
			FUZZ_CHECK(ai->ai_canonname && !strcmp(ai->ai_canonname, canon));
		else
			FUZZ_CHECK(!ai->ai_canonname);
		/* Every address returned is one of ours (IPv4-mapped or not). */
		unsigned char v6[16];
		if (ai->ai_family == AF_INET) {
			memset(v6, 0, 10);
			v6[10] = v6[11] = 0xff;
			memcpy(v6 + 12, &((const struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else {
			memcpy(v6, &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		}
		bool ours = false;
		for (int i = 0; i < naddrs && !ours; i++) {
			unsigned char a6[16];
			if (addrs[i].family == AF_INET) {
				memset(a6, 0, 10);
				a6[10] = a6[11] = 0xff;
				memcpy(a6 + 12, addrs[i].bytes, 4);
			} else {
				memcpy(a6, addrs[i].bytes, 16);
			}
			ours = !memcmp(a6, v6, 16);
		}
		FUZZ_CHECK(ours);
	}
}

static bool inside(const void *p, size_t n, const char *buf, size_t buflen)
{
	return (const char *)p >= buf && n <= buflen && (const char *)p - buf <= (ptrdiff_t)(buflen - n);
}

/* A name as given, or with its trailing dot dropped (as glibc hands back
 * the name asked). */
static bool same_name(const char *got, const char *given)
{
	size_t n = strlen(given);
	return !strcmp(got, given) ||
	       (n > 1 && given[n - 1] == '.' && strlen(got) == n - 1 && !strncmp(got, given, n - 1));
}

/* The hostent in buf: every pointer and every byte it names inside buf. */
static void check_filled(const struct hostent *h, const struct nx_addr *addrs, int naddrs,
			 const char *canon, const char *asked, int af, const char *buf,
			 size_t buflen)
{
	int len = af == AF_INET ? 4 : 16;
	bool alias = strcmp(canon, asked) != 0;
	FUZZ_CHECK(h->h_addrtype == af && h->h_length == len);
	FUZZ_CHECK(inside(h->h_name, strlen(h->h_name) + 1, buf, buflen));
	FUZZ_CHECK(same_name(h->h_name, canon));
	FUZZ_CHECK(inside(h->h_aliases, sizeof(char *) * (alias ? 2 : 1), buf, buflen));
	FUZZ_CHECK((uintptr_t)h->h_aliases % sizeof(char *) == 0);
	if (alias) {
		const char *a = h->h_aliases[0];
		FUZZ_CHECK(inside(a, strlen(a) + 1, buf, buflen));
		FUZZ_CHECK(same_name(a, asked) && !h->h_aliases[1]);
	} else {
		FUZZ_CHECK(!h->h_aliases[0]);
	}
	int k = 0;
	for (int i = 0; i < naddrs; i++)
		k += addrs[i].family == af;
	FUZZ_CHECK(inside(h->h_addr_list, sizeof(char *) * (size_t)(k + 1), buf, buflen));
	FUZZ_CHECK((uintptr_t)h->h_addr_list % sizeof(char *) == 0);
	k = 0;
	for (int i = 0; i < naddrs; i++) {
		if (addrs[i].family != af)
			continue;
		FUZZ_CHECK(inside(h->h_addr_list[k], (size_t)len, buf, buflen));
		FUZZ_CHECK(!memcmp(h->h_addr_list[k], addrs[i].bytes, (size_t)len));
		k++;
	}
	FUZZ_CHECK(!h->h_addr_list[k]);
}

/* A caller's buffer of buflen bytes at offset from an aligned address, its
 * last byte the heap block's last. ERANGE only ever means "too small": 64
 * KiB then succeeds. */
static void check_hostent(const struct nx_addr *addrs, int naddrs, const char *canon,
			  const char *asked, int af, size_t buflen, size_t offset)
{
	char *block = malloc(offset + buflen ? offset + buflen : 1);
	if (!block)
		return;
	char *buf = block + offset;
	struct hostent h;
	memset(&h, 0, sizeof h);
	int rc = nx_result_hostent(addrs, naddrs, canon, asked, af, &h, buf, buflen);
	int n = 0;
	for (int i = 0; i < naddrs; i++)
		n += addrs[i].family == af;
	if (!n) {
		FUZZ_CHECK(rc == -1);
	} else if (rc == ERANGE) {
		size_t big = 65536;
		char *more = malloc(offset + big);
		if (more) {
			memset(&h, 0, sizeof h);
			FUZZ_CHECK(buflen < big && nx_result_hostent(addrs, naddrs, canon, asked, af, &h,
								     more + offset, big) == 0);
			check_filled(&h, addrs, naddrs, canon, asked, af, more + offset, big);
			free(more);
		}
	} else {
		FUZZ_CHECK(rc == 0);
		check_filled(&h, addrs, naddrs, canon, asked, af, buf, buflen);
	}
	free(block);
}

static void check_sort(const struct nx_addr *addrs, int naddrs)
{
	struct nx_addr sorted[NX_MAXADDRS];
	memcpy(sorted, addrs, sizeof sorted[0] * (size_t)naddrs);
	nx_result_sort(sorted, naddrs);
	for (int i = 0; i < naddrs; i++) { /* a permutation */
		int same = 0, seen = 0;
		for (int j = 0; j < naddrs; j++) {
			same += !memcmp(&addrs[j], &addrs[i], sizeof addrs[i]);
			seen += !memcmp(&sorted[j], &addrs[i], sizeof addrs[i]);
		}
		FUZZ_CHECK(same == seen);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int families[4] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX};
	static const int socktypes[4] = {0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW};
	static const int protocols[4] = {0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP};
	fuzz_log_setup();
	struct fuzz_in in = {data, size};
	uint8_t sel = fuzz_byte(&in);
	int flags = fuzz_u16(&in) & (AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_V4MAPPED |
				     AI_ALL | AI_ADDRCONFIG | AI_NUMERICSERV | AI_IDN |
				     AI_CANONIDN);
	struct addrinfo hints = {.ai_family = families[sel & 3],
				 .ai_socktype = socktypes[(sel >> 2) & 3],
				 .ai_protocol = protocols[(sel >> 4) & 3],
				 .ai_flags = flags};
	int af = sel & 0x40 ? AF_INET6 : AF_INET;
	bool no_hints = sel & 0x80;
	size_t buflen = fuzz_u16(&in) % 4096;
	uint8_t misc = fuzz_byte(&in);
	size_t offset = misc & 7;
	bool sort = misc & 8;
	int naddrs = fuzz_byte(&in) % (NX_MAXADDRS + 1);
	struct nx_addr *addrs = calloc((size_t)(naddrs ? naddrs : 1), sizeof *addrs);
	char *canon = NULL, *asked = NULL, *service = NULL;
	if (!addrs)
		return 0;
	for (int i = 0; i < naddrs; i++) {
		addrs[i].family = fuzz_byte(&in) & 1 ? AF_INET6 : AF_INET;
		size_t got;
		const uint8_t *b = fuzz_chunk(&in, addrs[i].family == AF_INET ? 4 : 16, &got);
		if (got)
			memcpy(addrs[i].bytes, b, got);
	}
	canon = fuzz_field(&in);
	asked = fuzz_field(&in);
	service = fuzz_field(&in);
	if (!canon || !asked || !service)
		goto out;
	/* Names as nxretry holds them: at most NX_NAMEMAX bytes. */
	if (strlen(canon) >= NX_NAMEMAX)
		canon[NX_NAMEMAX - 1] = 0;
	if (strlen(asked) >= NX_NAMEMAX)
		asked[NX_NAMEMAX - 1] = 0;

	struct addrinfo *res = NULL;
	const char *serv = service[0] || (misc & 0x10) ? service : NULL;
	int rc = nx_result_build(addrs, naddrs, canon, serv, no_hints ? NULL : &hints,
				 getaddrinfo, freeaddrinfo, &res);
	if (rc == 0) {
		FUZZ_CHECK(res != NULL);
		check_list(res, addrs, naddrs, canon,
			   no_hints ? AI_V4MAPPED | AI_ADDRCONFIG : flags);
		FUZZ_CHECK(nx_result_release(res, freeaddrinfo));
	} else {
		FUZZ_CHECK(rc < 0 && !res);
	}
	check_hostent(addrs, naddrs, canon, asked, af, buflen, offset);
	if (sort)
		check_sort(addrs, naddrs);
out:
	free(addrs);
	free(canon);
	free(asked);
	free(service);
	return 0;
}
