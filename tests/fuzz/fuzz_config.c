/* The configuration file (config.c): any bytes as a libconfig file, read
 * from an in-memory file. What is accepted must be what nxretry can use:
 * text (no NUL), every number in its range, zone suffixes canonical,
 * pinned servers numeric with a port and each listed once, pinned names
 * host names, bounded counts; and nxretry --check's table of a pinned zone's hosts
 * (shim/cli/check.c, included here) holds every host the zone numbers. */
#include "fuzz.h"

#include "../../shim/cli/check.c"

/* A pinned zone's authority as authority.c's pinned() numbers it (numeric
 * servers hosts 0..nservers-1, host name i host nservers+i, NX_MAXSERVERS
 * addresses in all), in its worst case: the last host names have an
 * address of their own, the earlier ones none, so the last host is
 * numbered nservers + nserver_names - 1. */
static void pinned_authority(const struct nx_zone *z, struct nx_authority *a)
{
	memset(a, 0, sizeof *a);
	for (int i = 0; i < z->nservers; i++) {
		a->servers[a->nservers] = z->servers[i];
		a->host[a->nservers++] = i;
		a->nhosts = i + 1;
	}
	for (int i = z->nserver_names; i-- > 0 && a->nservers < NX_MAXSERVERS;) {
		struct nx_nameserver s = {{AF_INET, {198, 51, 100, (unsigned char)i}}, 53};
		a->servers[a->nservers] = s;
		a->host[a->nservers++] = z->nservers + i;
		if (z->nservers + i >= a->nhosts)
			a->nhosts = z->nservers + i + 1;
	}
}

static void check_hosts(const struct nx_config *c)
{
	struct host *hosts = new_hosts(); /* check's own table: ASan sees past its end */
	struct nx_authority *a = malloc(sizeof *a);
	FUZZ_CHECK(hosts && a);
	for (int i = 0; i < c->nzones; i++) {
		const struct nx_zone *z = &c->zones[i];
		if (!z->nservers && !z->nserver_names)
			continue;
		pinned_authority(z, a);
		FUZZ_CHECK(a->nhosts <= NX_MAXHOSTS);
		name_hosts(c, z, a, NULL, NULL, 0, 0, hosts);
		for (int s = 0; s < a->nservers; s++)
			FUZZ_CHECK(strcmp(hosts[a->host[s]].name, "?"));
	}
	free(a);
	free(hosts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_log_setup();
	/* ~140 KiB, reused: a fresh heap block per input costs an mmap. */
	static struct nx_config config;
	struct nx_config *c = &config;
	const char *path = fuzz_file(data, size);
	if (!path)
		return 0;
	nx_config_defaults(c);
	if (nx_config_read_file(c, path) == 0) {
		FUZZ_CHECK(!memchr(data, 0, size)); /* text only */
		fuzz_check_config(c);
		check_hosts(c);
	} else {
		FUZZ_CHECK(c->nzones >= 0 && c->nzones <= NX_MAXZONES);
	}
	return 0;
}
