/* What the lab's getaddrinfo clients (gai.c, threads.c, cancel.c,
 * hostile.c) share: the symbolic name of a getaddrinfo code, a monotonic
 * clock, and the count of open descriptors. */
#ifndef NXRETRY_LAB_CLIENT_H
#define NXRETRY_LAB_CLIENT_H

#include <dirent.h>
#include <netdb.h>
#include <stddef.h>
#include <time.h>

struct name_value {
	const char *name;
	int value;
};

static const struct name_value eai_names[] = {
	{ "OK", 0 },
	{ "EAI_BADFLAGS", EAI_BADFLAGS },
	{ "EAI_NONAME", EAI_NONAME },
	{ "EAI_AGAIN", EAI_AGAIN },
	{ "EAI_FAIL", EAI_FAIL },
	{ "EAI_FAMILY", EAI_FAMILY },
	{ "EAI_SOCKTYPE", EAI_SOCKTYPE },
	{ "EAI_SERVICE", EAI_SERVICE },
	{ "EAI_MEMORY", EAI_MEMORY },
	{ "EAI_SYSTEM", EAI_SYSTEM },
	{ "EAI_OVERFLOW", EAI_OVERFLOW },
#ifdef EAI_NODATA
	{ "EAI_NODATA", EAI_NODATA },
#endif
#ifdef EAI_ADDRFAMILY
	{ "EAI_ADDRFAMILY", EAI_ADDRFAMILY },
#endif
#ifdef EAI_INPROGRESS
	{ "EAI_INPROGRESS", EAI_INPROGRESS },
	{ "EAI_CANCELED", EAI_CANCELED },
	{ "EAI_NOTCANCELED", EAI_NOTCANCELED },
	{ "EAI_ALLDONE", EAI_ALLDONE },
	{ "EAI_INTR", EAI_INTR },
#endif
#ifdef EAI_IDN_ENCODE
	{ "EAI_IDN_ENCODE", EAI_IDN_ENCODE },
#endif
	{ NULL, 0 }
};

/* "EAI_NONAME" for EAI_NONAME, "OK" for 0, "EAI_UNKNOWN" otherwise. */
static inline const char *eai_name(int rc)
{
	for (const struct name_value *e = eai_names; e->name; e++)
		if (e->value == rc)
			return e->name;
	return "EAI_UNKNOWN";
}

static inline long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline long long now_ms(void)
{
	return now_ns() / 1000000;
}

/* Descriptors open in this process, -1 when /proc cannot tell. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own descriptor */
}

#endif
