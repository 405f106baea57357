/* Nameserver strings (nameserver.c, config.c): numeric servers parsed and
 * printed back, the same string as a pinned nameserver in a configuration
 * file (numeric, or a host name with a port), and resolv.conf text.
 *
 * Input: one control byte (the number of resolv.conf servers wanted), a
 * nameserver string, a NUL byte, resolv.conf text. */
#include "fuzz.h"

/* A libconfig string literal holding text exactly. */
static void append_quoted(char *out, size_t cap, const char *text)
{
	size_t o = strlen(out);
	for (const unsigned char *p = (const unsigned char *)text; *p && o + 5 < cap; p++) {
		if (*p == '"' || *p == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = 0;
}

static void check_pinned(const char *text)
{
	static const char head[] = "zones = ( { suffix = \"example.org\"; nameservers = [ \"";
	static const char tail[] = "\" ]; } );\n";
	size_t cap = sizeof head + sizeof tail + 4 * strlen(text) + 8;
	char *file = malloc(cap);
	static struct nx_config config; /* ~140 KiB, reused */
	struct nx_config *c = &config;
	const char *path = NULL;
	if (file) {
		strcpy(file, head);
		append_quoted(file, cap, text);
		strcat(file, tail);
		path = fuzz_file(file, strlen(file));
	}
	if (path) {
		nx_config_defaults(c);
		struct nx_nameserver s;
		bool numeric = nx_nameserver_parse(text, &s) == 0;
		if (nx_config_read_file(c, path) == 0) {
			fuzz_check_config(c);
			FUZZ_CHECK(c->nzones == 1);
			const struct nx_zone *z = &c->zones[0];
			FUZZ_CHECK(z->nservers + z->nserver_names == 1);
			FUZZ_CHECK((z->nservers == 1) == numeric);
			if (!numeric) {
				/* A host name, at most 253 characters, ":port" or 53. */
				const char *colon = strchr(text, ':');
				size_t len = colon ? (size_t)(colon - text) : strlen(text);
				FUZZ_CHECK(len <= 254 && strlen(z->server_names[0]) <= 253);
				FUZZ_CHECK(colon || z->server_name_ports[0] == 53);
			}
		}
	}
	free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_log_setup();
	struct fuzz_in in = {data, size};
	int max = fuzz_byte(&in) % 5;
	char *text = fuzz_field(&in);
	char *resolv = fuzz_field(&in);
	if (!text || !resolv)
		goto out;

	struct nx_nameserver s, again;
	if (nx_nameserver_parse(text, &s) == 0) {
		char printed[64];
		FUZZ_CHECK(s.addr.family == AF_INET || s.addr.family == AF_INET6);
		FUZZ_CHECK(s.port > 0);
		FUZZ_CHECK(nx_nameserver_format(&s, printed, sizeof printed) == 0);
		FUZZ_CHECK(nx_nameserver_parse(printed, &again) == 0);
		FUZZ_CHECK(again.port == s.port && again.addr.family == s.addr.family &&
			   !memcmp(again.addr.bytes, s.addr.bytes, 16));
	}
	check_pinned(text);

	const char *path = fuzz_file(resolv, strlen(resolv));
	if (path) {
		struct nx_nameserver *sys = malloc(sizeof *sys * (size_t)(max ? max : 1));
		int n = sys ? nx_system_servers(path, sys, max) : 0;
		FUZZ_CHECK(n >= 0 && n <= max && (max == 0 || n >= 1));
		for (int i = 0; i < n; i++) {
			char printed[64];
			FUZZ_CHECK(sys[i].port == 53);
			FUZZ_CHECK(nx_nameserver_format(&sys[i], printed, sizeof printed) == 0);
		}
		free(sys);
	}
out:
	free(text);
	free(resolv);
	return 0;
}
