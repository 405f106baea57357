#!/usr/bin/env bash
# lab flavor: four
# Issue 9, item 6, with serials that move (BIND, Knot, NSD: each change a server applies raises its
# serial). Delete, then recreate with a new address, reaching the servers at different moments: the
# servers still holding the deleted address have the older serial, so no waiter ever returns it.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/four.sh
. "$(dirname "$0")/four.sh"

test_delete_recreate() {
	local t0 added i
	reset_waiters
	expect_eq "serials at the start" "1 1 1 1" "$(serials)"
	early bg.lab.test
	"$DNSLAB" add bg.lab.test A 192.0.2.61
	"$DNSLAB" del --server 1,2 bg.lab.test
	expect_eq "deleted at 1 and 2, newer there" "3 3 2 2" "$(serials)"
	NXRETRY_LOG=info waiters 5 bg.lab.test 30 -4
	sleep 3
	t0=$(now_ms)
	"$DNSLAB" add --server 1 bg.lab.test A 192.0.2.62
	added=$(now_ms)
	wait "${WAITERS[@]}" || true
	"$DNSLAB" del --server 3,4 bg.lab.test
	"$DNSLAB" add --server 2,3,4 bg.lab.test A 192.0.2.62
	expect_eq "serials at the end" "4 4 4 4" "$(serials)"
	expect_eq "every waiter has the new address, none the deleted one" "$(ok_stream 192.0.2.62 5)" "$(waiter_results)"
	expect_between "none returned before the recreate (ms after it began)" 0 100000 $(($(waiter_earliest) - t0))
	expect_between "last return after the recreate (ms)" -1000 $((1000 + FOUR_MARGIN_MS)) $(($(waiter_latest) - added))
	for i in 0 1 2 3 4; do
		expect_eq "waiter $i: the wait said once, at info" 1 \
			"$(grep -c '^nxretry: bg.lab.test: the servers disagree; the newest (serial 3, [^)]*) does not have the addresses: waiting$' "$NXLAB_DIR/e.$i" || true)"
		expect_eq "waiter $i: the newest server's answer" 1 \
			"$(grep -c '^nxretry: bg.lab.test: the servers disagree; the newest (serial 4, \(127.0.54.1\|fd00:54::1\)) has the addresses$' "$NXLAB_DIR/e.$i" || true)"
	done
}

# Deleted at two servers, still at the other two, not recreated: waiters fail at their deadline.
test_deleted_on_some() {
	deleted_on_some gone.lab.test 192.0.2.63 2,3 1,4
}

run_tests test_delete_recreate test_deleted_on_some
