#!/usr/bin/env bash
# `nxretry --check` follows delegations as the library does (issue 9, item 6): NXRETRY_ZONES names the
# parent zone, the name lives in a child zone delegated from it. The report shows the parent's
# referral, the child's servers by name and their answers; its verdict is what the library returns.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

NXRETRY=${LIB_FILE%/*}/nxretry

test_check_follows_delegation() {
	local out rc=0 name=deleg.$NXLAB_CHILD
	stale_name "$name" A 192.0.2.91
	out=$("$NXRETRY" --zone lab.test --timeout 3 --check "$name" 2>&1) || rc=$?
	expect_eq "exit 0" 0 "$rc"
	# Spaces squeezed, serials (which move with every change) written SERIAL.
	expect_eq "the parent's referral, the child's servers and their answers" "zone apex: lab.test (configured suffix lab.test)
servers: ns1.lab.test (127.0.53.1 fd00:53::1)
 ns1.lab.test 127.0.53.1 referral to $NXLAB_CHILD
zone apex: $NXLAB_CHILD (delegated)
servers: ns1.$NXLAB_CHILD (127.0.53.2 fd00:53::2)
 ns1.$NXLAB_CHILD 127.0.53.2 addresses: 192.0.2.91, serial SERIAL
 ns1.$NXLAB_CHILD fd00:53::2 addresses: 192.0.2.91, serial SERIAL
agreement: 1 of 1 nameservers answered, all with the same addresses
verdict: stale negative answer: caches may keep it for up to $NXLAB_NEG_TTL s; nxretry returns 192.0.2.91 now (from 127.0.53.2)" \
		"$(grep -E '^(zone apex|servers|agreement|verdict):|^  ' <<<"$out" | tr -s ' ' | sed -E 's/serial [0-9]+/serial SERIAL/')"
	expect_eq "the library returns the same" "rc=0 OK
inet stream 6 192.0.2.91 0" "$(NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=3 nxgai -s stream "$name")"
}

run_tests test_check_follows_delegation
