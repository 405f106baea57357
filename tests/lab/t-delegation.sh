#!/usr/bin/env bash
# A zone delegated below the configured suffix: lab.test delegates child.lab.test to a second server
# (NS ns1.child.lab.test, glue 127.0.53.2 and fd00:53::2). A name created there after the resolver cached
# its NXDOMAIN resolves under the preload: the parent's referral is followed to the child's server.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_TIMEOUT=5 NXRETRY_LOG=info
readonly MAX_MS=1000
readonly CHILD_SERVER='(127\.0\.53\.2|fd00:53::2)'

# The lab's delegation itself: the parent refers (no AA, NS and glue), the child answers with AA, and the
# resolver follows the referral.
test_child_zone_served() {
	local ref
	ref=$(kdig +norec "@$NXLAB_AUTH" x.child.lab.test A)
	expect_eq "the parent refers to the child" "child.lab.test. NS ns1.child.lab.test." \
		"$(awk '$4 == "NS" { print $1, $4, $5 }' <<<"$ref")"
	expect_eq "with glue for both families" "127.0.53.2 fd00:53::2" \
		"$(awk '$1 == "ns1.child.lab.test." { print $5 }' <<<"$ref" | sort | xargs)"
	expect_eq "and without AA" "" "$(grep -E '^;; Flags:.* aa' <<<"$ref" || true)"
	expect_eq "the child answers with AA" "1 192.0.2.20" \
		"$(kdig +norec "@$NXLAB_AUTH2" www.child.lab.test A | grep -cE '^;; Flags:.* aa') $(kdig +short +norec "@$NXLAB_AUTH2" www.child.lab.test A)"
	expect_eq "the resolver follows the delegation" "NOERROR 192.0.2.20" "$("$DNSLAB" resolve www.child.lab.test)"
}

# Each case: NXRETRY_ZONES, gai arguments, the name (created too late in the child zone), its type and
# data. The answer must come from the child's server, within MAX_MS.
test_fresh_name_in_child() {
	require_lib
	local zones args name type data raw family
	while read -r zones args name type data; do
		stale_name "$name" "$type" "$data"
		# shellcheck disable=SC2086 # args are several words
		raw=$(NXRETRY_ZONES=$zones LD_PRELOAD=$NXRETRY_LIB "$GAI" $args -s stream "$name" 2>"$NXLAB_DIR/stderr" || true)
		family=inet
		[ "$type" = AAAA ] && family=inet6
		expect_eq "[$zones $args $name] answer" "$(printf 'rc=0 OK\n%s stream 6 %s 0' "$family" "$data")" \
			"$(strip_ms <<<"$raw")"
		expect_between "[$zones $args $name] ms" 0 "$MAX_MS" "$(ms_of "$raw")"
		expect_eq "[$zones $args $name] one log line: the child's server answered" 1 \
			"$(grep -cE "^nxretry: ${name//./\\.}: stale negative answer bypassed: $CHILD_SERVER answered ${data//./\\.} " \
				"$NXLAB_DIR/stderr" || true)"
		expect_eq "[$zones $args $name] nothing else logged" 1 "$(grep -c . "$NXLAB_DIR/stderr" || true)"
		# shellcheck disable=SC2086
		expect_eq "[$zones $args $name] without the preload: still stale" "rc=-2 EAI_NONAME" "$(gai $args "$name")"
	done <<'CASES'
lab.test                 -4  new.child.lab.test     A     192.0.2.21
lab.test                 -6  six.child.lab.test     AAAA  2001:db8::21
child.lab.test           -4  direct.child.lab.test  A     192.0.2.22
lab.test,child.lab.test  -4  both.child.lab.test    A     192.0.2.23
CASES
}

# A name the child zone does not have, with the parent configured: the referral is followed each round,
# and the lookup gives libc's error at its deadline.
test_absent_in_child() {
	require_lib
	local raw
	raw=$(NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=1 LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 never.child.lab.test 2>/dev/null || true)
	expect_eq "libc's error" "rc=-2 EAI_NONAME" "$(strip_ms <<<"$raw")"
	expect_between "at the deadline" 1000 1500 "$(ms_of "$raw")"
}

run_tests test_child_zone_served test_fresh_name_in_child test_absent_in_child
