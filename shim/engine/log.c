/* One line per event on stderr, prefixed "nxretry:". The line is formatted
 * first and written with one write(2), so lines from threads never mix.
 * Every line goes through nx_escape: names from replies and values from
 * the environment cannot put control characters on a terminal or forge a
 * second line. */
#include "nxretry.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum nx_level nx_log_level = NX_LOG_WARN;

bool nx_log_parse_level(const char *text, enum nx_level *out)
{
	static const char *const names[] = {"off", "error", "warn", "info", "debug"};
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(text, names[i])) {
			*out = (enum nx_level)i;
			return true;
		}
	return false;
}

void nx_log(enum nx_level level, const char *fmt, ...)
{
	if (level > nx_log_level || level == NX_LOG_OFF)
		return;
	if (fcntl(STDERR_FILENO, F_GETFD) < 0)
		return; /* a daemon closed stderr: the number may be reused soon */
	char text[1024], line[1024];
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	static const char prefix[] = "nxretry: ";
	memcpy(line, prefix, sizeof prefix - 1);
	size_t len = sizeof prefix - 1;
	len += nx_escape(line + len, sizeof line - len - 1, text); /* room for the newline */
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w; /* nothing sensible to do when stderr is gone */
}
