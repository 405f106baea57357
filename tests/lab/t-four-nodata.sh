#!/usr/bin/env bash
# lab flavor: four
# Issue 9, item 3: an authoritative NODATA ends the wait only when that server has an address of the
# other family (or a CNAME) for the name. A name with no address at all, an empty non-terminal (as
# NAME is when only _acme-challenge.NAME exists) or a TXT-only name, is waited for like NXDOMAIN;
# `getent hosts` of an A-only name (AAAA asked first) still returns at once.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/four.sh
. "$(dirname "$0")/four.sh"

# added_while_waiting NAME SERVER REST ADDR: 3 waiters for NAME; 2 s later its A record ADDR reaches
# SERVER, then (once they returned) the REST, so that serials stay comparable. Each returns ADDR,
# none before the add began, the last within about a second of it.
added_while_waiting() {
	local name=$1 server=$2 rest=$3 addr=$4 t0 added
	waiters 3 "$name" 20 -4
	sleep 2
	t0=$(now_ms)
	"$DNSLAB" add --server "$server" "$name" A "$addr"
	added=$(now_ms)
	wait "${WAITERS[@]}" || true
	"$DNSLAB" add --server "$rest" "$name" A "$addr"
	expect_eq "every waiter has the address" "$(ok_stream "$addr" 3)" "$(waiter_results)"
	expect_between "earliest return after the add began (ms)" 0 100000 $(($(waiter_earliest) - t0))
	expect_between "last return after the add (ms)" -1000 $((1000 + FOUR_MARGIN_MS)) $(($(waiter_latest) - added))
}

# x.ent exists, so ent is an empty non-terminal: its NODATA is cached, then its A record reaches one
# server. Before, nxretry returned EAI_NODATA in milliseconds; now every waiter gets the address.
test_empty_non_terminal() {
	reset_waiters
	"$DNSLAB" add x.ent.lab.test TXT '"challenge"'
	expect_eq "early lookup: the resolver caches ent's NODATA" "rc=-5 EAI_NODATA" "$(gai -4 -s stream ent.lab.test)"
	expect_eq "the resolver says NOERROR, no data" "NOERROR" "$("$DNSLAB" resolve ent.lab.test A)"
	added_while_waiting ent.lab.test 2 1,3,4 192.0.2.41 # the address, not EAI_NODATA
}

# A TXT-only name: NODATA for A and for AAAA at every server. It is waited for to the deadline (then
# libc's own code), and an A record added meanwhile is returned.
test_txt_only() {
	local raw
	reset_waiters
	"$DNSLAB" add txt.lab.test TXT '"only text"'
	expect_eq "early lookup: NODATA cached" "rc=-5 EAI_NODATA" "$(gai -4 -s stream txt.lab.test)"
	raw=$(NXRETRY_TIMEOUT=3 LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream txt.lab.test || true)
	expect_eq "at the deadline: no data, the servers' word (and libc's)" "rc=-5 EAI_NODATA" "$(strip_ms <<<"$raw")"
	expect_between "waited the whole deadline (ms)" 3000 $((3000 + FOUR_MARGIN_MS)) "$(ms_of "$raw")"
	added_while_waiting txt.lab.test 4 1,2,3 192.0.2.42
}

# getent hosts asks AAAA first (gethostbyname2 AF_INET6), then A. The AAAA's NODATA comes from a server
# that has the A record: it ends that wait at once, and the A lookup returns the address.
test_getent_a_only() {
	local t0 out took
	early aonly.lab.test
	"$DNSLAB" add aonly.lab.test A 192.0.2.43
	t0=$(now_ms)
	out=$(NXRETRY_TIMEOUT=20 LD_PRELOAD=$NXRETRY_LIB getent hosts aonly.lab.test | awk '{ print $1, $2 }' || true)
	took=$(($(now_ms) - t0))
	expect_eq "getent hosts" "192.0.2.43 aonly.lab.test" "$out"
	expect_between "at once (ms)" 0 $((250 + FOUR_MARGIN_MS)) "$took"
	# The AAAA lookup alone: EAI_NODATA at once, the name being there with an A record.
	out=$(NXRETRY_TIMEOUT=20 LD_PRELOAD=$NXRETRY_LIB "$GAI" -6 -s stream aonly.lab.test || true)
	expect_eq "AAAA alone: no data" "rc=-5 EAI_NODATA" "$(strip_ms <<<"$out")"
	expect_between "AAAA alone: at once (ms)" 0 $((250 + FOUR_MARGIN_MS)) "$(ms_of "$out")"
}

run_tests test_empty_non_terminal test_txt_only test_getent_a_only
