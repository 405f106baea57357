/* nxretry --check NAME (shim/check.c). */
#ifndef NXRETRY_CHECK_H
#define NXRETRY_CHECK_H

/* Prints the diagnosis of one name on stdout. Returns the exit status: 0 the
 * name resolves now (directly or through nxretry), 1 it exists nowhere, 2 a
 * usage or configuration error (said on stderr). Reads NXRETRY_* from the
 * environment. */
int nx_check(const char *name);

#endif
