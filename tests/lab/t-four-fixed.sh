#!/usr/bin/env bash
# lab flavor: four
# lab env: NXLAB_SERIAL=fixed
# Issue 9, item 6, with Route 53's serials: every server keeps serial 1, so serials cannot order the
# servers' views. The positive answers must agree before one is returned; the disagreement is said
# once, at info. The residual case the README describes is shown as it is.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/four.sh
. "$(dirname "$0")/four.sh"

# Created everywhere, deleted at 1 and 2, not recreated yet: the two servers still holding it agree,
# the denials cannot outweigh them, and the deleted address is returned (README, the residual case).
# One info line says the residual case was taken, and `nxretry --check` says the same.
test_residual() {
	local raw err=$NXLAB_DIR/res.err out
	local line="the residual case: 2 of 4 nameservers deny the name and SOA serials cannot order their views (equal, missing or of different primaries): the addresses the other 2 agree on are returned, and may be a record since deleted"
	early res.lab.test
	"$DNSLAB" add res.lab.test A 192.0.2.70
	"$DNSLAB" del --server 1,2 res.lab.test
	expect_eq "serials" "1 1 1 1" "$(serials)"
	raw=$(NXRETRY_TIMEOUT=10 NXRETRY_LOG=info LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream res.lab.test 2>"$err" || true)
	expect_eq "the deleted address, from the servers not reached by the deletion" \
		"$(printf 'rc=0 OK\ninet stream 6 192.0.2.70 0')" "$(strip_ms <<<"$raw")"
	expect_between "at once (ms)" 0 $((250 + FOUR_MARGIN_MS)) "$(ms_of "$raw")"
	expect_eq "the residual case said once, at info" "nxretry: res.lab.test: $line" \
		"$(grep -v ': stale negative answer bypassed: ' "$err")"
	out=$("${LIB_FILE%/*}/nxretry" --zone lab.test --timeout 3 --check res.lab.test 2>&1 || true)
	expect_eq "nxretry --check says the same" "agreement:  $line" "$(grep '^agreement: ' <<<"$out")"
	"$DNSLAB" del --server 3,4 res.lab.test
}

# Deleted at 1 and 2, recreated with a new address at 1: .72 at 1, nothing at 2, the old .71 at 3 and
# 4. The waiters wait until the positive answers agree, that is until 4 (the last old one) changed.
test_positives_must_agree() {
	local t3 t4 added i
	reset_waiters
	early fx.lab.test
	"$DNSLAB" add fx.lab.test A 192.0.2.71
	"$DNSLAB" del --server 1,2 fx.lab.test
	"$DNSLAB" add --server 1 fx.lab.test A 192.0.2.72
	NXRETRY_LOG=info waiters 5 fx.lab.test 30 -4
	sleep 3
	t3=$(now_ms)
	"$DNSLAB" del --server 3 fx.lab.test
	"$DNSLAB" add --server 3 fx.lab.test A 192.0.2.72
	sleep 2
	t4=$(now_ms)
	"$DNSLAB" del --server 4 fx.lab.test
	added=$(now_ms)
	wait "${WAITERS[@]}" || true
	"$DNSLAB" add --server 2,4 fx.lab.test A 192.0.2.72
	expect_eq "serials" "1 1 1 1" "$(serials)"
	expect_eq "every waiter has the new address" "$(ok_stream 192.0.2.72 5)" "$(waiter_results)"
	expect_between "none returned while 4 held the old address (ms after its change began)" 0 100000 \
		$(($(waiter_earliest) - t4))
	expect_between "last return after 4's change (ms)" -1000 $((1000 + FOUR_MARGIN_MS)) $(($(waiter_latest) - added))
	for i in 0 1 2 3 4; do
		expect_eq "waiter $i: the disagreement said once, at info" 1 \
			"$(grep -c '^nxretry: fx.lab.test: [0-9a-f:.]* and [0-9a-f:.]* answer different addresses and their serials cannot order them: waiting until they agree$' "$NXLAB_DIR/e.$i" || true)"
	done
	: "$t3"
}

run_tests test_residual test_positives_must_agree
