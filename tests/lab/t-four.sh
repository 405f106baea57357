#!/usr/bin/env bash
# lab flavor: four
# Route 53's shape (issue 9): lab.test on four dual-stack servers of three implementations, each its
# own primary, a change reaching each at its own moment. The lab itself, then nxretry's round: each
# nameserver once per round, from a random one, at most one query per server per second at the cap,
# evenly spread, and an address that times out skipped from then on.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/four.sh
. "$(dirname "$0")/four.sh"

test_lab() {
	local n fam want=knot\ bind\ nsd\ knot
	command -v nsd >/dev/null || want="knot bind bind knot"
	expect_eq "implementations" "$want" "$NXLAB_IMPLS"
	for n in 1 2 3 4; do
		for fam in 127.0.54.$n fd00:54::$n; do
			expect_eq "server $n on $fam answers www" 192.0.2.10 "$(kdig +short +norec "@$fam" www.lab.test A)"
		done
	done
	expect_eq "four NS" "ns1.lab.test. ns2.lab.test. ns3.lab.test. ns4.lab.test." \
		"$(kdig +short +norec @127.0.54.3 lab.test NS | sort | tr '\n' ' ' | sed 's/ $//')"
	"$DNSLAB" add --server 2 only2.lab.test A 192.0.2.2
	for n in 1 2 3 4; do
		expect_eq "only2 at server $n" "$([ "$n" = 2 ] && echo 192.0.2.2)" \
			"$(kdig +short +norec "@127.0.54.$n" only2.lab.test A)"
	done
	expect_eq "serials after one change at server 2" "1 2 1 1" \
		"$(for n in 1 2 3 4; do kdig +short +norec "@127.0.54.$n" lab.test SOA | awk '{ print $3 }'; done | tr '\n' ' ' | sed 's/ $//')"
	"$DNSLAB" del --server 2 only2.lab.test
	expect_eq "del at server 2" "" "$(kdig +short +norec @127.0.54.2 only2.lab.test A)"
	# The same two changes everywhere, so that serials stay comparable for the tests below.
	"$DNSLAB" add --server 1,3,4 only2.lab.test A 192.0.2.2
	"$DNSLAB" del --server 1,3,4 only2.lab.test
	expect_eq "serials after the same changes everywhere" "3 3 3 3" \
		"$(for n in 1 2 3 4; do kdig +short +norec "@127.0.54.$n" lab.test SOA | awk '{ print $3 }'; done | tr '\n' ' ' | sed 's/ $//')"
	"$DNSLAB" blackhole 3 inet6
	expect_eq "blackholed: no reply" "timeout" \
		"$(kdig +time=1 +retry=0 +norec @fd00:54::3 www.lab.test A >/dev/null 2>&1 || echo timeout)"
	expect_eq "blackholed: the other family answers" 192.0.2.10 "$(kdig +short +norec @127.0.54.3 www.lab.test A)"
	"$DNSLAB" unblackhole 3 inet6
	expect_eq "unblackholed" 192.0.2.10 "$(kdig +short +time=1 +norec @fd00:54::3 www.lab.test A)"
}

# A change that reaches one server (here the third) is seen within about a second by every waiter.
test_first_server() {
	local added latest
	reset_waiters
	early first.lab.test
	waiters 5 first.lab.test 20 -4
	sleep 2
	"$DNSLAB" add --server 3 first.lab.test A 192.0.2.31
	added=$(now_ms)
	wait "${WAITERS[@]}" || true
	"$DNSLAB" add --server 1,2,4 first.lab.test A 192.0.2.31 # serials stay comparable
	expect_eq "every waiter has the address" "$(for _ in 1 2 3 4 5; do echo "rc=0 OK inet stream 6 192.0.2.31 0"; done)" \
		"$(waiter_results)"
	latest=$(waiter_latest)
	expect_between "last waiter's return after the add (ms)" -1000 $((1000 + FOUR_MARGIN_MS)) $((latest - added))
}

# 20 processes wait for a name that never comes: from 3 s to about 6 s after they started (the cap
# reached), at most 4 queries a second each (one per server), and every server asked alike.
test_rate_and_spread() {
	local before after i b a min=999999 max=0 total=0 t0 t1
	reset_waiters
	early never.lab.test
	waiters 20 never.lab.test 14 -4
	sleep 3
	t0=$(now_ms)
	read -ra before <<<"$(per_server)"
	t0=$(((t0 + $(now_ms)) / 2))
	sleep 3
	t1=$(now_ms)
	read -ra after <<<"$(per_server)"
	t1=$(((t1 + $(now_ms)) / 2))
	for i in 0 1 2 3; do
		b=${before[i]} a=${after[i]}
		total=$((total + a - b))
		if [ $((a - b)) -lt "$min" ]; then min=$((a - b)); fi
		if [ $((a - b)) -gt "$max" ]; then max=$((a - b)); fi
	done
	# queries per process per second, times 100: 20 processes over the time between the two counts
	# (rounds 1 s apart from start to start at the cap: 4.00, and a round's 4 queries come together,
	# so a window can catch one round more or less: 0.4 of margin)
	expect_between "queries/s per waiting process (x100), $total in $((t1 - t0)) ms" 250 441 \
		$((total * 100000 / (20 * (t1 - t0))))
	expect_between "max:min per server (x100), counts ${before[*]} -> ${after[*]}" 100 151 $((max * 100 / (min > 0 ? min : 1)))
	wait "${WAITERS[@]}" || true
	expect_eq "all fail at the deadline" "$(for _ in $(seq 20); do echo "rc=-2 EAI_NONAME"; done)" "$(waiter_results)"
}

# Server 2's IPv6 address drops every packet: a process pays its query timeout once, then asks
# server 2 on IPv4; a change reaching server 2 alone is seen within about a second.
test_blackholed_family() {
	local added latest i timeouts
	reset_waiters
	"$DNSLAB" blackhole 2 inet6
	early bh.lab.test
	NXRETRY_LOG=debug waiters 3 bh.lab.test 20 -4
	sleep 3
	"$DNSLAB" add --server 2 bh.lab.test A 192.0.2.32
	added=$(now_ms)
	wait "${WAITERS[@]}" || true
	"$DNSLAB" add --server 1,3,4 bh.lab.test A 192.0.2.32
	expect_eq "every waiter has the address" "$(for _ in 1 2 3; do echo "rc=0 OK inet stream 6 192.0.2.32 0"; done)" \
		"$(waiter_results)"
	latest=$(waiter_latest)
	expect_between "last waiter's return after the add (ms)" -1000 $((1000 + FOUR_MARGIN_MS)) $((latest - added))
	for i in 0 1 2; do
		timeouts=$(grep -c 'fd00:54::2: TIMEOUT' "$NXLAB_DIR/e.$i" || true)
		expect_between "waiter $i: timeouts at the blackholed address" 0 2 "$timeouts"
	done
	"$DNSLAB" unblackhole 2 inet6
}

run_tests test_lab test_first_server test_rate_and_spread test_blackholed_family
