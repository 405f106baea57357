#!/usr/bin/env bash
# A name created after the resolver cached its NXDOMAIN resolves under the preload, and the result is the
# one glibc itself gives for the same records when its cache is not stale.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=5
readonly V4=192.0.2.77 V6=2001:db8::77

test_ipv4() {
	require_lib
	stale_name fresh.lab.test A "$V4"
	expect_eq "-4 under the preload" "$(ok_lines "$V4")" "$(nxgai -4 fresh.lab.test)"
	expect_eq "-4 without it: still stale" "rc=-2 EAI_NONAME" "$(gai -4 fresh.lab.test)"
}

test_ipv6() {
	require_lib
	"$DNSLAB" add fresh.lab.test AAAA "$V6"
	expect_eq "the resolver still has AAAA's NXDOMAIN" NXDOMAIN "$("$DNSLAB" resolve fresh.lab.test AAAA)"
	expect_eq "-6 under the preload" "$(ok_lines "$V6")" "$(nxgai -6 fresh.lab.test)"
}

test_unspec() {
	require_lib
	expect_lines "AF_UNSPEC gives both families" "$(ok_lines "$V6" "$V4")" "$(nxgai fresh.lab.test)"
}

# NXRETRY_LOG=info: one line on stderr says a stale answer was bypassed.
test_log_line() {
	require_lib
	local log
	log=$(NXRETRY_LOG=info LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 fresh.lab.test 2>&1 >/dev/null)
	expect_eq "one nxretry: line on stderr" "1 1" "$(grep -c . <<<"$log") $(grep -c '^nxretry: ' <<<"$log")"
}

# The resolver cached NODATA (the name had only AAAA), then A is added: EAI_NODATA triggers too.
test_stale_nodata() {
	require_lib
	"$DNSLAB" add nodata.lab.test AAAA "$V6"
	expect_eq "-4 early lookup: no data" "rc=-5 EAI_NODATA" "$(gai -4 nodata.lab.test)"
	"$DNSLAB" add nodata.lab.test A "$V4"
	expect_eq "the resolver answers its cached NODATA" NOERROR "$("$DNSLAB" resolve nodata.lab.test A)"
	expect_eq "-4 under the preload" "$(ok_lines "$V4")" "$(nxgai -4 nodata.lab.test)"
}

# For each set of hints the preload must give what glibc gives for a twin name with the same records that
# the resolver has not seen yet (same order; the canonical name renamed), and, where the table names one,
# what glibc gives for the numeric address.
test_hints_like_glibc() {
	require_lib
	local numeric hints want
	"$DNSLAB" add twin.lab.test A "$V4"
	"$DNSLAB" add twin.lab.test AAAA "$V6"
	while read -r numeric hints; do
		# shellcheck disable=SC2086 # hints are several words
		want=$(gai $hints twin.lab.test | sed 's/ canon=twin\.lab\.test$/ canon=fresh.lab.test/')
		# shellcheck disable=SC2086
		expect_eq "[$hints] as glibc for an uncached name" "$want" "$(nxgai $hints fresh.lab.test)"
		[ "$numeric" != - ] || continue
		# shellcheck disable=SC2086
		want=$(gai $hints -f numerichost "$numeric" | sed "s/ canon=$numeric\$/ canon=fresh.lab.test/")
		# shellcheck disable=SC2086
		expect_eq "[$hints] as glibc for $numeric" "$want" "$(nxgai $hints fresh.lab.test)"
	done <<HINTS
$V4 -4 -s stream
$V4 -4 -s dgram
$V4 -4 -s raw
$V4 -4 -S 80
$V4 -4 -S http
$V4 -4 -s dgram -S domain
$V4 -4 -f canonname
$V4 -4 -s stream -S 443 -f canonname
$V6 -6 -s stream
$V6 -6 -S http -f canonname
-   -6 -f v4mapped,all
-   -f canonname
-   -f nohints
-   -f addrconfig -s stream
-   -s dgram -S 53
HINTS
	expect_eq "canonical name" "inet stream 6 $V4 0 canon=fresh.lab.test" \
		"$(nxgai -4 -s stream -f canonname fresh.lab.test | sed -n 2p)"
}

# Hints glibc refuses before any lookup (AI_NUMERICSERV with a named service, an unknown service, a
# socket type the service lacks): the failure is not about the name, so nxretry returns glibc's own code at
# once, in both modes, asks no server and logs nothing.
test_not_about_the_name() {
	require_lib
	local hints mode want got out before
	before=$("$DNSLAB" auth-queries)
	while read -r hints; do
		# shellcheck disable=SC2086 # hints are several words
		want=$(gai $hints twin.lab.test)
		for mode in fallback first; do
			# shellcheck disable=SC2086
			out=$({ NXRETRY_MODE=$mode NXRETRY_LOG=info LD_PRELOAD=$NXRETRY_LIB "$GAI" $hints fresh.lab.test 2>&1 || true; })
			got=$(grep -v '^nxretry: ' <<<"$out" | strip_ms)
			expect_eq "[$hints] $mode: glibc's code" "$want" "$got"
			expect_eq "[$hints] $mode: no log line" "" "$(grep '^nxretry: ' <<<"$out" || true)"
			expect_between "[$hints] $mode: ms" 0 500 "$(ms_of "$(grep -v '^nxretry: ' <<<"$out")")"
		done
	done <<HINTS
-4 -S http -f numericserv
-6 -S http -f numericserv
-S http -f numericserv,canonname
-4 -s raw -S http
-S no-such-service
HINTS
	expect_eq "no authoritative query" 0 $(($("$DNSLAB" auth-queries) - before))
	expect_eq "the cases are failures" "rc=-2 EAI_NONAME" "$(gai -4 -S http -f numericserv twin.lab.test)"
}

# A CNAME created too late: the answer follows it inside the zone, the canonical name is its target.
test_cname() {
	require_lib
	stale_name alias.lab.test CNAME www.lab.test
	expect_eq "AF_UNSPEC with canonname" "$(gai -f canonname www.lab.test)" "$(nxgai -f canonname alias.lab.test)"
}

run_tests test_ipv4 test_log_line test_ipv6 test_unspec test_stale_nodata test_hints_like_glibc \
	test_not_about_the_name test_cname
