/* Names (policy.c, message.c): canonical form, host names, suffix
 * matching, numeric hosts, NXRETRY_ZONES lists, the hosts file, and the
 * query built for a name read back by the classifier.
 *
 * Input: one control byte (the query buffer's size and the zone list's
 * capacity), then four fields separated by NUL bytes: a name, a suffix, a
 * zone list, a hosts file. */
#include "fuzz.h"

static void check_canonical(const char *name, const char *canon)
{
	size_t len = strlen(canon);
	FUZZ_CHECK(len > 0 && len <= 253 && canon[len - 1] != '.');
	FUZZ_CHECK(strlen(name) == len || strlen(name) == len + 1);
	for (const char *label = canon;;) {
		size_t n = strcspn(label, ".");
		FUZZ_CHECK(n >= 1 && n <= 63);
		if (!label[n])
			break;
		label += n + 1;
	}
	for (const char *p = canon; *p; p++)
		FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z') && *p > ' ' && *p < 0x7f && *p != '\\');
	char again[NX_NAMEMAX];
	FUZZ_CHECK(nx_name_canonical(canon, again) && !strcmp(again, canon));
	FUZZ_CHECK(nx_name_under(canon, canon));
}

/* The query for a name, answered by an empty reply with QR set: the
 * classifier must read back the very question (NODATA, not mismatched). */
static void check_query(const char *name, const char *canon, size_t buflen, int qtype)
{
	unsigned char *buf = malloc(buflen ? buflen : 1);
	if (!buf)
		return;
	int len = nx_message_query(buf, buflen, 0x1234, name, qtype, false);
	if (!canon) {
		FUZZ_CHECK(len == -1);
	} else if (len >= 0) {
		FUZZ_CHECK((size_t)len == 12 + strlen(canon) + 2 + 4 && (size_t)len <= buflen);
		buf[2] |= 0x80;
		struct nx_reply *r = malloc(sizeof *r);
		if (r) {
			nx_message_classify(buf, (size_t)len, 0x1234, name, qtype, false, r);
			FUZZ_CHECK(r->status == NX_NODATA && !strcmp(r->canon, canon));
			free(r);
		}
	} else {
		FUZZ_CHECK(buflen < 12 + strlen(canon) + 2 + 4);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int qtypes[4] = {NX_T_A, NX_T_AAAA, NX_T_SOA, NX_T_NS};
	fuzz_log_setup();
	struct fuzz_in in = {data, size};
	uint8_t ctl = fuzz_byte(&in);
	char *name = fuzz_field(&in), *suffix = fuzz_field(&in), *list = fuzz_field(&in);
	char *hosts = fuzz_field(&in);
	char(*zones)[NX_NAMEMAX] = malloc(NX_MAXZONES * sizeof *zones);
	if (!name || !suffix || !list || !hosts || !zones)
		goto out;

	char canon[NX_NAMEMAX], scanon[NX_NAMEMAX];
	bool ok = nx_name_canonical(name, canon);
	if (ok)
		check_canonical(name, canon);
	if (nx_name_host(name)) {
		FUZZ_CHECK(ok && !strcmp(canon, name) == !strpbrk(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
		FUZZ_CHECK(name[0] != '-' && strspn(name, "abcdefghijklmnopqrstuvwxyz"
						  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
						  strlen(name));
	}
	(void)nx_name_numeric(name);
	check_query(name, ok ? canon : NULL, 12 + (size_t)(ctl & 0x3f) * 5, qtypes[ctl >> 6]);

	if (ok && nx_name_canonical(suffix, scanon)) {
		bool under = nx_name_under(canon, scanon);
		size_t n = strlen(canon), s = strlen(scanon);
		bool expect = !strcmp(canon, scanon) ||
			      (n > s && !strcmp(canon + n - s, scanon) && canon[n - s - 1] == '.');
		FUZZ_CHECK(under == expect);
		FUZZ_CHECK(nx_name_under(canon, ""));
	}

	int max = ctl % (NX_MAXZONES + 1);
	char why[NX_NAMEMAX + 64];
	int n = nx_zone_list(list, zones, max, why, sizeof why);
	FUZZ_CHECK(n >= -1 && n <= max);
	if (n < 0)
		FUZZ_CHECK(fuzz_terminated(why, sizeof why) && why[0]);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(fuzz_terminated(zones[i], NX_NAMEMAX));
		char again[NX_NAMEMAX];
		FUZZ_CHECK(nx_name_canonical(zones[i], again) && !strcmp(again, zones[i]));
	}

	const char *path = fuzz_file(hosts, strlen(hosts));
	if (path && ok) {
		bool listed = nx_hosts_has(path, canon);
		FUZZ_CHECK(!listed || strlen(hosts) > strlen(canon));
	}
out:
	free(name);
	free(suffix);
	free(list);
	free(hosts);
	free(zones);
	return 0;
}
