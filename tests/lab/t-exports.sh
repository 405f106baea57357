#!/usr/bin/env bash
# The library exports the libc lookup entry points it hooks and nothing else (its version script), and
# takes no c-ares symbol from the process it is loaded into.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

# Every libc lookup entry point a hook may replace.
readonly ENTRY_POINTS="freeaddrinfo gai_cancel gai_error gai_suspend getaddrinfo getaddrinfo_a
gethostbyname gethostbyname2 gethostbyname2_r gethostbyname_r getnameinfo"

# Defined dynamic symbols, without version suffixes. Type A entries are version nodes, not symbols.
exported() {
	nm -D --defined-only "$LIB_FILE" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u
}

test_exports() {
	require_lib
	local symbols
	symbols=$(exported)
	expect_eq "exports getaddrinfo and freeaddrinfo" "freeaddrinfo getaddrinfo" \
		"$(grep -xE 'getaddrinfo|freeaddrinfo' <<<"$symbols" | xargs)"
	expect_eq "exports nothing but lookup entry points" "" \
		"$(grep -vxF -f <(tr -s ' \n' '\n' <<<"$ENTRY_POINTS") <<<"$symbols" || true)"
	expect_eq "no ares_* or nx_* symbol" "" "$(grep -E '^(ares_|nx_)' <<<"$symbols" || true)"
	expect_eq "no c-ares symbol taken from the host process" "" \
		"$(nm -D --undefined-only "$LIB_FILE" | awk '{ print $NF }' | grep '^ares_' || true)"
}

run_tests test_exports
