/* The environment (config.c): NXRETRY_LOG, NXRETRY_TIMEOUT, NXRETRY_MODE
 * and NXRETRY_ZONES with any values, over an empty file or over a file
 * that names zones of its own (NXRETRY_CONFIG, an in-memory file: never
 * /etc/nxretry.conf), through nx_config_load as the engine calls it; and
 * the value parsers alone.
 *
 * Input: one control byte (bit 0: the file with zones; bits 1-4: which of
 * the four variables are set), then the values, separated by NUL bytes. */
#include "fuzz.h"

static const char file_text[] =
	"timeout = 20;\n"
	"zones = (\n"
	"  { suffix = \"dev.example.com\"; nameservers = [ \"192.0.2.53\", \"ns1.example.net:5353\" ];\n"
	"    timeout = 5; },\n"
	"  { suffix = \"example.org\"; }\n"
	");\n";

static const char *const names[] = {"NXRETRY_LOG", "NXRETRY_TIMEOUT", "NXRETRY_MODE",
				    "NXRETRY_ZONES"};
static char *values[4];
static const char *config_path;
static bool file_zones;

static const char *table_getenv(const char *name)
{
	if (!strcmp(name, "NXRETRY_CONFIG"))
		return config_path;
	for (int i = 0; i < 4; i++)
		if (!strcmp(name, names[i]))
			return values[i];
	return NULL;
}

/* The parsers on one value: what they accept reads back as itself. */
static void check_parsers(const char *v)
{
	double d;
	if (nx_parse_seconds(v, 0, 1e9, &d)) {
		FUZZ_CHECK(fuzz_in_range(d, 0, 1e9));
		FUZZ_CHECK(strspn(v, "0123456789.") == strlen(v));
	}
	uint16_t port;
	if (nx_parse_port(v, &port)) {
		char text[8];
		snprintf(text, sizeof text, "%u", port);
		const char *digits = v + strspn(v, "0");
		FUZZ_CHECK(port > 0 && !strcmp(text, digits));
	}
	enum nx_level level;
	if (nx_log_parse_level(v, &level))
		FUZZ_CHECK(level >= NX_LOG_OFF && level <= NX_LOG_DEBUG);
	bool blank = nx_env_blank(v);
	FUZZ_CHECK(blank == (strspn(v, " \t\n") == strlen(v)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_log_setup();
	struct fuzz_in in = {data, size};
	uint8_t ctl = fuzz_byte(&in);
	file_zones = ctl & 1;
	config_path = fuzz_file(file_text, file_zones ? sizeof file_text - 1 : 0);
	for (int i = 0; i < 4; i++) {
		values[i] = NULL;
		if (ctl >> (i + 1) & 1) {
			values[i] = fuzz_field(&in);
			if (values[i])
				check_parsers(values[i]);
		}
	}
	static struct nx_config config; /* ~140 KiB, reused */
	struct nx_config *c = &config;
	char(*zones)[NX_NAMEMAX] = malloc(NX_MAXZONES * sizeof *zones);
	if (!zones || !config_path)
		goto out;
	int rc = nx_config_load(c, table_getenv);
	char why[NX_NAMEMAX + 64];
	int nlisted = values[3] ? nx_zone_list(values[3], zones, NX_MAXZONES, why, sizeof why) : 0;
	if (nlisted < 0)
		FUZZ_CHECK(rc < 0 && fuzz_terminated(why, sizeof why));
	if (rc < 0)
		goto out;
	fuzz_check_config(c);
	FUZZ_CHECK(c->enabled == (c->nzones > 0));
	if (nlisted > 0 && !nx_env_blank(values[3])) {
		/* The variable's zones replace the file's, in its order; one the
		 * file names too keeps the file's servers. */
		FUZZ_CHECK(c->nzones == nlisted);
		for (int i = 0; i < nlisted; i++) {
			FUZZ_CHECK(!strcmp(c->zones[i].suffix, zones[i]));
			bool pinned = !strcmp(zones[i], "dev.example.com") && file_zones;
			FUZZ_CHECK((c->zones[i].nservers == 1) == pinned);
		}
	} else {
		FUZZ_CHECK(c->nzones == (file_zones ? 2 : 0));
	}
	if (values[1] && !nx_env_blank(values[1]))
		for (int i = 0; i < c->nzones; i++)
			FUZZ_CHECK(c->zones[i].timeout == 0);
out:
	free(zones);
	for (int i = 0; i < 4; i++) {
		free(values[i]);
		values[i] = NULL;
	}
	return 0;
}
