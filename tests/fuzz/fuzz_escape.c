/* Log escaping (log.c): nx_escape into every output size, and nx_log with
 * the text as an argument. The output is the input with each byte outside
 * printable ASCII as \DDD and '\' as "\\", cut between characters: decoding
 * it gives back a prefix of the input.
 *
 * Input: two bytes of output size, then the text (up to a NUL). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_log_setup();
	struct fuzz_in in = {data, size};
	size_t cap = fuzz_u16(&in) % 4096;
	char *text = fuzz_field(&in);
	char *out = malloc(cap ? cap : 1);
	if (!text || !out)
		goto out;
	size_t n = nx_escape(out, cap, text);
	if (!cap) {
		FUZZ_CHECK(n == 0);
		goto out;
	}
	FUZZ_CHECK(n < cap && out[n] == 0 && strlen(out) == n);
	size_t i = 0; /* decoded so far, in text */
	for (size_t o = 0; o < n; i++) {
		unsigned char ch = (unsigned char)out[o];
		FUZZ_CHECK(ch >= 0x20 && ch < 0x7f);
		if (ch != '\\') {
			FUZZ_CHECK(text[i] == out[o]);
			o++;
		} else if (out[o + 1] == '\\') {
			FUZZ_CHECK(text[i] == '\\');
			o += 2;
		} else {
			FUZZ_CHECK(o + 3 < n + 1 && out[o + 1] >= '0' && out[o + 1] <= '2');
			int v = (out[o + 1] - '0') * 100 + (out[o + 2] - '0') * 10 + (out[o + 3] - '0');
			FUZZ_CHECK((unsigned char)text[i] == v);
			FUZZ_CHECK(v < 0x20 || v >= 0x7f);
			o += 4;
		}
	}
	/* All of it, or cut where the next character no longer fits. */
	if (text[i]) {
		unsigned char ch = (unsigned char)text[i];
		size_t next = ch == '\\' ? 2 : (ch < 0x20 || ch >= 0x7f) ? 4 : 1;
		FUZZ_CHECK(n + next >= cap);
	}
	nx_log(NX_LOG_ERROR, "%s: escaped %zu of %zu bytes", text, i, strlen(text));
out:
	free(text);
	free(out);
	return 0;
}
