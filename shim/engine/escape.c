/* Text from the network or the environment, made safe for a log line:
 * bytes outside printable ASCII as \\DDD (decimal, as dig writes them), the
 * backslash doubled. Used by the engine's log and by the preload's own
 * messages, so it lives apart from both. */
#include "nxretry.h"

#include <string.h>

size_t nx_escape(char *out, size_t size, const char *in)
{
	size_t o = 0;
	if (!size)
		return 0;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		char esc[5];
		size_t n;
		if (*p == '\\') {
			n = 2;
			memcpy(esc, "\\\\", 2);
		} else if (*p < 0x20 || *p >= 0x7f) {
			n = 4; /* as dig writes them: \DDD, decimal */
			esc[0] = '\\';
			esc[1] = (char)('0' + *p / 100);
			esc[2] = (char)('0' + *p / 10 % 10);
			esc[3] = (char)('0' + *p % 10);
		} else {
			n = 1;
			esc[0] = (char)*p;
		}
		if (o + n >= size)
			break; /* cut between characters, never inside an escape */
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o] = 0;
	return o;
}
