/* Which names qualify: host names in canonical form, zone suffixes matched
 * on label boundaries, numeric hosts never. */
#include "nxretry.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool nx_name_canonical(const char *name, char out[NX_NAMEMAX])
{
	if (!name)
		return false;
	size_t len = strlen(name);
	if (len && name[len - 1] == '.')
		len--; /* one trailing dot: the absolute form of the same name */
	/* RFC 1035 §2.3.4: 255 octets on the wire, 253 characters written. */
	if (len == 0 || len > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63 || ch <= ' ' || ch >= 0x7f || ch == '\\') {
			return false;
		}
		out[i] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
	}
	if (label == 0)
		return false; /* "example.com..": an empty last label */
	out[len] = 0;
	return true;
}

bool nx_name_under(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);
	if (s == 0)
		return true; /* the root holds every name */
	if (n < s || strcmp(name + n - s, suffix))
		return false;
	return n == s || name[n - s - 1] == '.';
}

bool nx_name_numeric(const char *name)
{
	unsigned char buf[16];
	char copy[64];
	if (inet_pton(AF_INET, name, buf) == 1)
		return true;
	/* glibc also takes inet_aton's forms ("10.1", "0x7f.1") and scoped
	 * IPv6 ("fe80::1%eth0"): numeric too, never sent to DNS. */
	if (inet_aton(name, (struct in_addr *)buf))
		return true;
	size_t len = strcspn(name, "%");
	if (len >= sizeof copy)
		return false;
	memcpy(copy, name, len);
	copy[len] = 0;
	return inet_pton(AF_INET6, copy, buf) == 1;
}

int nx_zone_list(const char *text, char (*out)[NX_NAMEMAX], int max, char *why, size_t whylen)
{
	char copy[4096];
	if (strlen(text) >= sizeof copy) {
		snprintf(why, whylen, "too long");
		return -1;
	}
	strcpy(copy, text);
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save)) {
		if (n >= max) {
			snprintf(why, whylen, "more than %d zones", max);
			return -1;
		}
		if (!nx_name_canonical(tok, out[n])) {
			snprintf(why, whylen, "'%s' is not a valid domain name", tok);
			return -1;
		}
		n++;
	}
	return n;
}

bool nx_hosts_has(const char *path, const char *canonical)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	/* Whole lines, as glibc reads them: the tail of a line cut at a
	 * buffer's end would be a line of its own, its first word an address
	 * and the rest outside any comment. */
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (!found && getline(&line, &cap, f) >= 0) {
		line[strcspn(line, "#")] = 0;
		char *save = NULL;
		char *tok = strtok_r(line, " \t\r\n", &save); /* the address */
		while (!found && tok && (tok = strtok_r(NULL, " \t\r\n", &save))) {
			char name[NX_NAMEMAX];
			found = nx_name_canonical(tok, name) && !strcmp(name, canonical);
		}
	}
	free(line);
	fclose(f);
	return found;
}
