#!/usr/bin/env bash
# nxretry --serve's upstream sockets (server.c): a pool of connected UDP sockets per upstream, several
# queries in flight on each, told apart by (id, question). Replies from the upstream's own address
# with another id or another question are ignored and the right one still taken; a socket replaced
# after its SOCKET_USES queries (1,024) while others are in flight on it loses none of them; the
# descriptors stay where they were.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"
# shellcheck source=tests/lab/stub.sh
. "$(dirname "$0")/stub.sh"

export NXRETRY_ZONES=child.lab.test NXRETRY_TIMEOUT=5
unset NXRETRY_MODE NXRETRY_CONFIG NXRETRY_LOG
readonly STUB=127.0.0.1 DECOY=127.0.53.80 WRONGID=127.0.53.81
readonly POOL=32 USES=1024 # server.c's POOL_SOCKETS and SOCKET_USES

# upstream_ports: the local ports of the stub's sockets connected to the lab's resolver, sorted.
upstream_ports() {
	ss -Hnu state connected "dst $NXLAB_RESOLVER:53" | awk '{ n = split($4, a, ":"); print a[n] }' | sort -n
}

test_decoys_ignored() {
	require_tools
	local out i table=(www.pool.test=192.0.2.81)
	for ((i = 0; i < 50; i++)); do table+=("w$i.pool.test=192.0.2.81"); done
	fault_start "$DECOY:53" decoy "${table[@]}"
	stub_start "$STUB" --upstream "$DECOY"
	# Each query (a name of its own: the same query twice in flight is merged) draws a reply with
	# another id, one with another question, then the answer, all from the upstream's address, while
	# the other 49 queries are in flight on the same sockets.
	out=$("$DNSQ" load -a -n 50 -w 3000 "$STUB" "w#.pool.test" A)
	expect_eq "50 clients through an upstream that sends decoys first" \
		"sent 50 answered 50 noreply 0 NOERROR=50 addr=192.0.2.81" "${out% p50=*} addr=${out##*addr=}"
	expect_eq "one query upstream per client (no decoy ended a try)" 50 "$(fault_queries "$DECOY:53")"
	# dig checks what dnsq load does not: the reply's question is the one asked (a decoy relayed
	# would be "Question section mismatch", then a timeout).
	expect_eq "dig: the answer, with its question" 192.0.2.81 \
		"$(dig @"$STUB" +tries=1 +time=2 +short www.pool.test A 2>&1)"
	stub_stop "$STUB_PID"
	expect_eq "the stub exits 0" 0 "$STUB_RC"
}

# The control: an upstream whose only reply carries another id is never relayed; the client gets
# SERVFAIL once the stub's tries (3 × 1.5 s) are spent.
test_wrong_id_never_taken() {
	require_tools
	fault_start "$WRONGID:53" wrongid www.pool.test=192.0.2.81
	stub_start "$STUB" --upstream "$WRONGID"
	local out
	out=$("$DNSQ" load -n 1 -w 6000 "$STUB" www.pool.test A)
	expect_eq "a reply with another id only" "sent 1 answered 1 noreply 0 SERVFAIL=1" "${out% p50=*}"
	expect_eq "three tries upstream" 3 "$(fault_queries "$WRONGID:53")"
	stub_stop "$STUB_PID"
}

test_recycled_mid_flight() {
	require_tools
	if ! command -v dnsperf >/dev/null; then
		skip "dnsperf is not installed"
	fi
	printf '%s\n' "www.lab.test A" "www.lab.test AAAA" "ns1.lab.test A" "nosuch.lab.test A" >"$NXLAB_DIR/pool.queries"
	# 2,048 names: none is asked twice while in flight, so none is merged and each goes upstream.
	local i
	for ((i = 0; i < 2048; i++)); do echo "p$i.lab.test A"; done >"$NXLAB_DIR/pool.distinct"
	stub_start "$STUB" --upstream "$NXLAB_RESOLVER"
	local pid=$STUB_PID first second fds1 fds2 out n=$((POOL * USES * 5 / 4))
	dnsperf -s "$STUB" -d "$NXLAB_DIR/pool.queries" -n $((POOL * 2 / 4)) -c 1 -q 1 >/dev/null 2>&1
	first=$(upstream_ports)
	expect_eq "the pool's sockets after $POOL * 2 queries" "$POOL" "$(grep -c . <<<"$first")"
	# 4 × 200 in flight: every socket reaches its SOCKET_USES with others on it.
	for round in 1 2; do
		out=$(dnsperf -s "$STUB" -d "$NXLAB_DIR/pool.distinct" -n $((n / 2048)) -c 4 -q 200 -t 5 2>&1)
		expect_eq "round $round: $n queries, none lost" "$n 0" \
			"$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' <<<"$out") $(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' <<<"$out")"
		sleep 1.2 # retired sockets are closed at the loop's next turn (at most a second)
		if [ "$round" = 1 ]; then second=$(upstream_ports) fds1=$(proc_fds "$pid"); else fds2=$(proc_fds "$pid"); fi
	done
	expect_eq "no socket of the first $POOL survives $n queries" "" "$(comm -12 <(echo "$first") <(echo "$second"))"
	expect_eq "the pool's sockets after $n queries" "$POOL" "$(grep -c . <<<"$second")"
	expect_eq "descriptors after $n and after $((2 * n)) queries" "$fds1" "$fds2"
	stub_stop "$pid"
	expect_eq "the stub exits 0" 0 "$STUB_RC"
}

run_tests test_decoys_ignored test_wrong_id_never_taken test_recycled_mid_flight
