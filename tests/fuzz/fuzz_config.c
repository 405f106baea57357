/* The configuration file (config.c): any text as a libconfig file, read
 * from an in-memory file. What is accepted must be what nxretry can use:
 * every number in its range, zone suffixes canonical, pinned servers
 * numeric with a port, pinned names host names, bounded counts. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_log_setup();
	const char *path = fuzz_file(data, size);
	struct nx_config *c = malloc(sizeof *c);
	if (!path || !c) {
		free(c);
		return 0;
	}
	nx_config_defaults(c);
	if (nx_config_read_file(c, path) == 0)
		fuzz_check_config(c);
	else
		FUZZ_CHECK(c->nzones >= 0 && c->nzones <= NX_MAXZONES);
	free(c);
	return 0;
}
