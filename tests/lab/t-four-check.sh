#!/usr/bin/env bash
# lab flavor: four
# Issue 9, item 6: `nxretry --check` in Route 53's shape. It lists the zone's nameservers by name with
# their addresses, each address's answer and SOA serial, says whether and how the servers disagree,
# and its verdict is what the library returns in the same state, run side by side: the name nowhere
# yet, on one server, on all, deleted on some.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/four.sh
. "$(dirname "$0")/four.sh"

NXRETRY=${LIB_FILE%/*}/nxretry
NEG=$((NXLAB_SOA_TTL < NXLAB_NEG_TTL ? NXLAB_SOA_TTL : NXLAB_NEG_TTL))
readonly NXRETRY NEG

# side_by_side NAME: "check: exit N", its agreement: and verdict: lines, then "library: " and what the
# library returned (rc and addresses on one line), both with a 3 s timeout.
side_by_side() {
	local out rc=0 lib
	out=$("$NXRETRY" --zone lab.test --timeout 3 --check "$1" 2>&1) || rc=$?
	echo "check: exit $rc"
	sed -n 's/^\(agreement\|verdict\): *//p' <<<"$out"
	lib=$(NXRETRY_TIMEOUT=3 LD_PRELOAD=$NXRETRY_LIB "$GAI" -s stream "$1" 2>/dev/null || true)
	echo "library: $(strip_ms <<<"$lib" | tr '\n' ' ' | sed 's/ $//')"
	printf '%s\n' "$out" >"$NXLAB_DIR/check.$2"
}

# server_lines FILE: the per-address lines of a --check report, spaces squeezed.
server_lines() {
	sed -n 's/^  \(ns[1-4]\.lab\.test\)  */\1 /p' "$1" | tr -s ' '
}

test_side_by_side() {
	local name=cmp.lab.test n
	early "$name"
	expect_eq "nowhere yet" "check: exit 1
4 of 4 nameservers answered; none has addresses
the name exists nowhere yet: nxretry would wait up to 3 s for it
library: rc=-2 EAI_NONAME" "$(side_by_side "$name" nowhere)"
	expect_eq "nowhere yet: the servers, by name" \
		"servers:    ns1.lab.test (127.0.54.1 fd00:54::1), ns2.lab.test (127.0.54.2 fd00:54::2), ns3.lab.test (127.0.54.3 fd00:54::3), ns4.lab.test (127.0.54.4 fd00:54::4)" \
		"servers:    $(sed -n 's/^servers: *//p' "$NXLAB_DIR/check.nowhere" | sed 's/, /\n/g' | sort | paste -sd '|' | sed 's/|/, /g')"
	expect_eq "nowhere yet: each address's answer and serial" "$(for n in 1 2 3 4; do
		echo "ns$n.lab.test 127.0.54.$n NXDOMAIN, serial 1"
		echo "ns$n.lab.test fd00:54::$n NXDOMAIN, serial 1"
	done)" "$(server_lines "$NXLAB_DIR/check.nowhere" | sort)"

	"$DNSLAB" add --server 2 "$name" A 192.0.2.81
	expect_eq "on one server" "check: exit 0
the servers disagree; by SOA serial (RFC 1982) the newest is 2, at ns2.lab.test, which has the addresses
stale negative answer: caches may keep it for up to $NEG s; nxretry returns 192.0.2.81 now (from 127.0.54.2)
library: rc=0 OK inet stream 6 192.0.2.81 0" "$(side_by_side "$name" one)"
	expect_eq "on one server: its answer" "ns2.lab.test 127.0.54.2 addresses: 192.0.2.81, serial 2
ns2.lab.test fd00:54::2 addresses: 192.0.2.81, serial 2" "$(server_lines "$NXLAB_DIR/check.one" | grep ns2)"

	"$DNSLAB" add --server 1,3,4 "$name" A 192.0.2.81
	expect_eq "on all" "check: exit 0
4 of 4 nameservers answered, all with the same addresses
stale negative answer: caches may keep it for up to $NEG s; nxretry returns 192.0.2.81 now (from 127.0.54.1)
library: rc=0 OK inet stream 6 192.0.2.81 0" "$(side_by_side "$name" all | sed 's/(from 127\.0\.54\.[1-4])/(from 127.0.54.1)/')"

	"$DNSLAB" del --server 1,2 "$name"
	expect_eq "deleted on some" "check: exit 1
the servers disagree; by SOA serial (RFC 1982) the newest is 3, at ns1|2.lab.test, which does not have the name (deleted, or not yet created)
the servers disagree: nxretry would wait up to 3 s for the newest servers to have the name
library: rc=-2 EAI_NONAME" "$(side_by_side "$name" deleted | sed 's/at ns[12]\.lab\.test,/at ns1|2.lab.test,/')"
	expect_eq "deleted on some: the answers" "$(for n in 1 2; do
		echo "ns$n.lab.test 127.0.54.$n NXDOMAIN, serial 3"
		echo "ns$n.lab.test fd00:54::$n NXDOMAIN, serial 3"
	done; for n in 3 4; do
		echo "ns$n.lab.test 127.0.54.$n addresses: 192.0.2.81, serial 2"
		echo "ns$n.lab.test fd00:54::$n addresses: 192.0.2.81, serial 2"
	done)" "$(server_lines "$NXLAB_DIR/check.deleted" | sort)"
}

run_tests test_side_by_side
