#!/usr/bin/env bash
# lab flavor: four
# lab env: NXLAB_PRIMARIES=ns1,ns1,ns3,ns3
# Two providers serving one zone, each numbering its own changes: servers 1-2 name primary ns1 in their
# SOA, servers 3-4 primary ns3. A larger serial at one provider says nothing of the other's changes, so a
# name created at the first provider is returned at once although the second's serial is larger from
# changes of its own (one primary for all would wait: the newest serial denies). Within one provider the
# newer serial still wins: an address deleted there is never returned.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/four.sh
. "$(dirname "$0")/four.sh"

readonly TIMEOUT_S=5

# A name at the first provider only, the second's serial larger from two changes of its own.
test_other_history_larger() {
	local raw
	early pv.lab.test
	"$DNSLAB" add --server 3,4 other1.lab.test A 192.0.2.70
	"$DNSLAB" add --server 3,4 other2.lab.test A 192.0.2.71
	"$DNSLAB" add --server 1,2 pv.lab.test A 192.0.2.72
	expect_eq "serials: the second provider's larger" "2 2 3 3" "$(serials)"
	expect_eq "primaries" "ns1.lab.test. ns1.lab.test. ns3.lab.test. ns3.lab.test." \
		"$(for n in 1 2 3 4; do kdig +short +norec "@127.0.54.$n" lab.test SOA | awk '{ print $1 }'; done | tr '\n' ' ' | sed 's/ $//')"
	raw=$(NXRETRY_TIMEOUT=$TIMEOUT_S LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream pv.lab.test 2>/dev/null || true)
	expect_eq "the address, from the first provider" "$(printf 'rc=0 OK\ninet stream 6 192.0.2.72 0')" \
		"$(strip_ms <<<"$raw")"
	expect_between "ms: the first round, not the deadline" 0 $((1000 + FOUR_MARGIN_MS)) "$(ms_of "$raw")"
}

# Deleted at one server of each provider: at each, the deletion's serial is the newer.
test_own_history_orders() {
	deleted_on_some dv.lab.test 192.0.2.73 1,3 2,4
}

run_tests test_other_history_larger test_own_history_orders
