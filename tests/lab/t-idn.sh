#!/usr/bin/env bash
# A UTF-8 name asked with AI_IDN (glibc converts it to its xn-- form inside getaddrinfo, after the
# hook matched the name as given against the zones): left to libc, answered at once, as README.md's
# "What it cannot reach" and docs/design.md say; the xn-- form of the same name is bypassed.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=3 LC_ALL=C.UTF-8
readonly MAX_MS=1000

test_idn_left_to_libc() {
	require_lib
	local raw ace=xn--bcher-kva.lab.test utf8=bücher.lab.test
	stale_name "$ace" A 192.0.2.94
	expect_eq "libc converts the UTF-8 name: its stale answer" "rc=-2 EAI_NONAME" \
		"$(gai -4 -f idn "$utf8")"
	raw=$({ LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -f idn "$utf8" || true; })
	expect_eq "under the preload: libc's answer" "rc=-2 EAI_NONAME" "$(strip_ms <<<"$raw")"
	expect_between "under the preload: at once (ms)" 0 "$MAX_MS" "$(ms_of "$raw")"
	expect_eq "the xn-- form is bypassed" "rc=0 OK
inet stream 6 192.0.2.94 0" "$(nxgai -4 -s stream "$ace")"
}

run_tests test_idn_left_to_libc
