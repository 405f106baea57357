#!/usr/bin/env bash
# A lookup that starts before the record exists (the resolver caches the NXDOMAIN it gets) keeps asking
# the authoritative server, and returns soon after the record is created there.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=20
readonly ADD_AFTER_MS=2000 # the record is created this long after the lookup started
readonly MAX_LAG_MS=1500   # the lookup must return within this long of the record's creation

test_record_created_while_waiting() {
	require_lib
	local out=$NXLAB_DIR/pending start adding added finished pid
	start=$(now_ms)
	(
		LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 late.lab.test >"$out" || true
		now_ms >"$out.done"
	) &
	pid=$!
	wait_for "the lookup reached the resolver" "$ADD_AFTER_MS" resolver_saw late.lab.test
	sleep_ms $((ADD_AFTER_MS - ($(now_ms) - start)))
	expect_eq "the lookup is still waiting" no "$([ -e "$out.done" ] && echo yes || echo no)"
	expect_eq "the resolver cached the NXDOMAIN" NXDOMAIN "$("$DNSLAB" resolve late.lab.test)"
	adding=$(now_ms)
	"$DNSLAB" add late.lab.test A 192.0.2.78
	added=$(now_ms)
	wait "$pid"
	finished=$(<"$out.done")
	expect_eq "the lookup's result" "$(ok_lines 192.0.2.78)" "$(strip_ms <"$out")"
	expect_between "ms from the add to the lookup's return" $((adding - added)) "$MAX_LAG_MS" $((finished - added))
}

run_tests test_record_created_while_waiting
