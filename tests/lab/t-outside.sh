#!/usr/bin/env bash
# Lookups nxretry must leave alone give what glibc gives, at once: names outside the configured zones
# (also a stale one), names that only look like they are inside, numeric hosts, the hosts file, and
# failures that are not "no such name".
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_TIMEOUT=5 NXRETRY_LOG=info
readonly MAX_MS=1000

test_untouched() {
	require_lib
	local zones args raw want
	stale_name fresh.lab.test A 192.0.2.77
	while read -r zones args; do
		# shellcheck disable=SC2086 # args are several words
		want=$(gai $args)
		# shellcheck disable=SC2086
		raw=$(NXRETRY_ZONES=$zones LD_PRELOAD=$NXRETRY_LIB "$GAI" $args 2>"$NXLAB_DIR/stderr" || true)
		expect_eq "[$args] zones=$zones: as without the preload" "$want" "$(strip_ms <<<"$raw")"
		expect_between "[$args] zones=$zones: ms" 0 "$MAX_MS" "$(ms_of "$raw")"
		expect_eq "[$args] zones=$zones: nothing logged" "" "$(<"$NXLAB_DIR/stderr")"
	done <<'CASES'
lab.test    nosuch.other.test
lab.test    -4 nosuch.other.test
lab.test    nosuch.xlab.test
lab.test    fresh.lab.test.example.com
example.com fresh.lab.test
example.com -4 fresh.lab.test
lab.test    -f numerichost fresh.lab.test
lab.test    -f numerichost 192.0.2.1
lab.test    192.0.2.1
lab.test    -S 80 2001:db8::1
lab.test    -f canonname 2001:db8::1
lab.test    -4 hosts-only.lab.test
lab.test    -f canonname hosts-only.lab.test
lab.test    localhost
lab.test    -4 -S nosuchservice www.lab.test
lab.test    www.lab.test
CASES
}

run_tests test_untouched
