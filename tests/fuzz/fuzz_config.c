/* The configuration file (config.c): any text as a libconfig file, read
 * from an in-memory file. What is accepted must be what nxretry can use:
 * every number in its range, zone suffixes canonical, pinned servers
 * numeric with a port, pinned names host names, bounded counts. */
#include "fuzz.h"

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
	if (nx_config_read_file(c, path) == 0)
		fuzz_check_config(c);
	else
		FUZZ_CHECK(c->nzones >= 0 && c->nzones <= NX_MAXZONES);
	return 0;
}
