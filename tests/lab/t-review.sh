#!/usr/bin/env bash
# Regressions from a review, each once a bug in shim/: a server that answers with the zone's own NS
# records and no AA is lame (the next server answers at once), not a referral to follow; a lookup
# that glibc fails for AI_ADDRCONFIG (no IPv6 on the host) is glibc's answer, at once; first mode asks
# the authority one round per lookup, not a round and then a whole wait; a thread cancelled in
# getaddrinfo, leading a wait or waiting on another's, leaves no lookup of the process hanging.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"

unset NXRETRY_ZONES NXRETRY_MODE NXRETRY_LOG NXRETRY_CONFIG
export NXRETRY_TIMEOUT=3
readonly GOOD=127.0.53.1 MARGIN_MS=300
CANCEL=$TOOLS_DIR/cancel

# A server that answers every query with a referral to lab.test itself (NS ns.lab.test, glue: its own
# address) and no AA, pinned before the good one: lame, so the good server's answer comes in the first
# round; it was once followed as a delegation, back to the same server, until the referrals ran out.
test_lame_pseudo_referral() {
	require_tools
	local upref=127.0.53.20:53 raw conf=$NXLAB_DIR/upref.conf NAME=late.lab.test ADDR=192.0.2.77 reply
	fault_start "$upref" upref
	reply=$(kdig +norec +noedns +time=1 +retry=0 @"${upref%:*}" "$NAME" A |
		sed -n -e '/^[^;]/{s/[[:space:]]\{1,\}/ /g;p;d}' -e 's/^;; ->>HEADER<<-.* \(status: [A-Z]*\);.*/\1/p' \
			-e 's/^;; \(Flags: .*\)/\1/p')
	expect_eq "upref's reply: NOERROR, no AA, no answer, lab.test's NS, glue ${upref%:*}" \
		"$(printf '%s\n' "status: NOERROR" "Flags: qr; QUERY: 1; ANSWER: 0; AUTHORITY: 1; ADDITIONAL: 1" \
			"lab.test. 60 IN NS ns.lab.test." "ns.lab.test. 60 IN A ${upref%:*}")" "$reply"
	: >"$(fault_log "$upref")"
	stale_name "$NAME" A "$ADDR"
	write_config "$conf" lab.test 0.4 "$upref" "$GOOD"
	raw=$(NXRETRY_CONFIG=$conf NXRETRY_LOG=info LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream "$NAME" \
		2>"$NXLAB_DIR/stderr" || true)
	expect_eq "the good server's answer" "$(printf 'rc=0 OK\ninet stream 6 %s 0' "$ADDR")" "$(strip_ms <<<"$raw")"
	expect_between "ms" 0 "$MARGIN_MS" "$(ms_of "$raw")"
	expect_eq "$GOOD answered, first round" 1 \
		"$(grep -c "^nxretry: $NAME: stale negative answer bypassed: $GOOD answered $ADDR after 1 attempt," \
			"$NXLAB_DIR/stderr" || true)"
	expect_eq "the upref server was asked once" 1 "$(fault_queries "$upref")"
}

# NXRETRY_MODE=first, the zone's one pinned server never answers: one round (query_timeout), then
# libc's answer is final. It was once asked again after libc's NXDOMAIN, for all of NXRETRY_TIMEOUT.
test_first_mode_one_round() {
	require_tools
	local hole=127.0.53.10:53 raw conf=$NXLAB_DIR/first.conf
	fault_start "$hole" blackhole
	write_config "$conf" lab.test 0.4 "$hole"
	raw=$(NXRETRY_CONFIG=$conf NXRETRY_MODE=first NXRETRY_TIMEOUT=2 LD_PRELOAD=$NXRETRY_LIB \
		"$GAI" -4 never.lab.test 2>/dev/null || true)
	expect_eq "libc's error" "rc=-2 EAI_NONAME" "$(strip_ms <<<"$raw")"
	expect_between "ms: one query_timeout, not NXRETRY_TIMEOUT (2 s) more" 400 1000 "$(ms_of "$raw")"
	expect_eq "the blackhole was asked once" 1 "$(fault_queries "$hole")"
}

# cancel_case MODE PENDING OTHER ADDR: runs tests/lab/cancel.c in MODE (leader or waiter) under the
# preload, with PENDING never created and OTHER a stale name that has ADDR; `timeout`, so that a hang
# is a failure. Sets OUT (its output without the ms= figures), OTHER_MS and PENDING_MS.
cancel_case() {
	local mode=$1 pending=$2 other=$3 addr=$4 out=$NXLAB_DIR/cancel.$1 status=0
	if [ ! -x "$CANCEL" ]; then
		fail "$CANCEL not built (make)"
		return 1
	fi
	stale_name "$other" A "$addr"
	NXRETRY_ZONES=lab.test LD_PRELOAD=$NXRETRY_LIB timeout -k 2 $((NXRETRY_TIMEOUT * 3)) \
		"$CANCEL" "$mode" "$pending" "$other" >"$out" 2>"$NXLAB_DIR/stderr" || status=$?
	expect_eq "[$mode] ran to its end (no hang: timeout says 124)" 0 "$status"
	OUT=$(sed 's/ ms=[0-9]*$//' "$out")
	OTHER_MS=$(sed -n "s/^${other//./\\.} .* ms=\([0-9]*\)$/\1/p" "$out")
	PENDING_MS=$(sed -n "s/^${pending//./\\.} .* ms=\([0-9]*\)$/\1/p" "$out")
}

# A thread leading the wait for a name that does not exist is cancelled 0.5 s into it: another name
# of the zone is answered at once, and the same name (which once waited forever on the flight the
# cancelled thread had left behind) gets libc's error when the cancelled thread's wait ends, within
# its own NXRETRY_TIMEOUT. The cancellation takes effect when getaddrinfo returns.
test_cancelled_leader() {
	require_tools
	cancel_case leader pending.lab.test other.lab.test 192.0.2.61
	expect_eq "the lookups' outcomes, in order" "$(printf '%s\n' "busy worker" \
		"other.lab.test rc=0 OK 192.0.2.61" "pending.lab.test rc=-2 EAI_NONAME" "worker cancelled")" "$OUT"
	expect_between "other.lab.test ms" 0 "$MARGIN_MS" "${OTHER_MS:--1}"
	# The leader's wait ends NXRETRY_TIMEOUT after it began, 0.5 s before this one.
	expect_between "pending.lab.test ms: the leader's wait, within its own timeout" \
		$((NXRETRY_TIMEOUT * 1000 - 1000)) $((NXRETRY_TIMEOUT * 1000 + MARGIN_MS)) "${PENDING_MS:--1}"
}

# A thread waiting on another's lookup of the same name is cancelled: the process's lookups of other
# names (which once blocked for good on the lock the cancelled wait held) are answered at once, the
# name itself when the leader's wait ends, and the leader gets libc's error.
test_cancelled_waiter() {
	require_tools
	cancel_case waiter pending2.lab.test other2.lab.test 192.0.2.62
	expect_eq "the lookups' outcomes, in order" "$(printf '%s\n' "busy waiter" \
		"other2.lab.test rc=0 OK 192.0.2.62" "pending2.lab.test rc=-2 EAI_NONAME" "waiter cancelled" \
		"leader pending2.lab.test rc=-2 EAI_NONAME")" "$OUT"
	expect_between "other2.lab.test ms" 0 "$MARGIN_MS" "${OTHER_MS:--1}"
	# The leader's wait began 1 s before this lookup.
	expect_between "pending2.lab.test ms: the leader's wait, within its own timeout" \
		$((NXRETRY_TIMEOUT * 1000 - 1500)) $((NXRETRY_TIMEOUT * 1000 + MARGIN_MS)) "${PENDING_MS:--1}"
}

# No IPv6 address on any interface: glibc fails AI_ADDRCONFIG lookups for AF_INET6 with EAI_NONAME
# without asking DNS, for names with an AAAA record too; under the preload, the same, at once (it
# once asked the authority: EAI_NODATA for the A-only name, NXRETRY_TIMEOUT for the absent one).
# Last in this file: the lab's IPv6 addresses go with IPv6, and do not come back when it is enabled
# again.
test_addrconfig_without_ipv6() {
	require_tools
	local conf=$NXLAB_DIR/addrconfig.conf name want raw key
	"$DNSLAB" add aaaa-only.lab.test AAAA 2001:db8::9
	"$DNSLAB" add a-only.lab.test A 192.0.2.9
	expect_eq "aaaa-only.lab.test has its AAAA (IPv6 still on)" \
		"$(printf 'rc=0 OK\ninet6 stream 6 2001:db8::9 0')" "$(gai -6 -s stream aaaa-only.lab.test)"
	for key in /proc/sys/net/ipv6/conf/*/disable_ipv6; do
		key=${key#/proc/sys/}
		sysctl -qw "${key//\//.}=1"
	done
	expect_eq "no IPv6 address left" "" "$(ip -6 addr show)"
	write_config "$conf" lab.test 0.4 "$GOOD"
	for name in www.lab.test aaaa-only.lab.test a-only.lab.test absent.lab.test; do
		want=$(gai -6 -f addrconfig "$name")
		expect_eq "[$name] glibc: EAI_NONAME" "rc=-2 EAI_NONAME" "$want"
		raw=$(NXRETRY_CONFIG=$conf LD_PRELOAD=$NXRETRY_LIB "$GAI" -6 -f addrconfig "$name" 2>/dev/null || true)
		expect_eq "[$name] under the preload: glibc's answer" "$want" "$(strip_ms <<<"$raw")"
		expect_between "[$name] ms" 0 100 "$(ms_of "$raw")"
	done
}

run_tests test_lame_pseudo_referral test_first_mode_one_round test_cancelled_leader test_cancelled_waiter \
	test_addrconfig_without_ipv6
