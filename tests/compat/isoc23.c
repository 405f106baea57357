/* For linking a static library built against glibc >= 2.38 (Debian 13's
 * libcares.a, see scripts/cares-trixie) on an older glibc: with C2X/C23
 * features, glibc 2.38 headers redirect strtol and friends to __isoc23_*,
 * which also accept a "0b"/"0B" prefix for base 2 (and base 0). Each is
 * strtoul(3) plus that prefix. Only the names the library references are
 * defined (the script checks with nm). Never part of the default build. */
#include <stdlib.h>

unsigned long __isoc23_strtoul(const char *nptr, char **endptr, int base);

unsigned long __isoc23_strtoul(const char *nptr, char **endptr, int base)
{
	const char *s = nptr;
	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	const char *digits = s + (*s == '+' || *s == '-');
	if ((base == 0 || base == 2) && digits[0] == '0' && (digits[1] | 0x20) == 'b' &&
	    (digits[2] == '0' || digits[2] == '1')) {
		char *end;
		unsigned long v = strtoul(digits + 2, &end, 2);
		if (endptr)
			*endptr = end;
		return *s == '-' ? -v : v;
	}
	return strtoul(nptr, endptr, base);
}
