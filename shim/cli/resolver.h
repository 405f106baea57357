/* nxretry --resolver (shim/cli/resolver.c). */
#ifndef NXRETRY_RESOLVER_H
#define NXRETRY_RESOLVER_H

#include <stdbool.h>

/* How the command's resolv.conf comes to name the stub. */
enum nx_resolver_way {
	NX_RESOLVER_AUTO,      /* namespace; as root in a container where it is forbidden, rewrite */
	NX_RESOLVER_NAMESPACE, /* a private mount namespace, else the preload alone */
	NX_RESOLVER_REWRITE,   /* /etc/resolv.conf itself, restored when the command ends */
};

/* "auto", "namespace", "rewrite"; false on anything else. */
bool nx_resolver_parse_way(const char *text, enum nx_resolver_way *out);

/* Runs argv (argv[0] looked up in PATH) with a stub resolver that lives as
 * long as it, the NXRETRY_* environment and LD_PRELOAD already set. Returns
 * the command's exit status, or re-raises the signal that killed it; where
 * the stub cannot be had, says why in one line and execs the command as
 * plain nxretry does. */
int nx_resolver_run(enum nx_resolver_way way, char **argv);

#endif
