#!/usr/bin/env bash
# Replies that do not fit in 512 bytes: a name created too late with 40 A records (nxretry's queries carry
# no EDNS, so the UDP reply is truncated and the answer must come over TCP) resolves with all of them
# (NX_MAXADDRS is 48); a server that always truncates over UDP is asked again over TCP.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=5
readonly COUNT=40 MAX_MS=1000
readonly TC_SERVER=127.0.53.20:53

# stream_lines PREFIX FIRST N: gai's lines for the addresses PREFIX.FIRST .. PREFIX.(FIRST+N-1), sorted.
stream_lines() {
	local i
	for ((i = $2; i < $2 + $3; i++)); do echo "inet stream 6 $1.$i 0"; done | sort
}

test_forty_addresses() {
	require_lib
	local i raw
	stale_name big.lab.test A 192.0.2.101
	for ((i = 102; i < 101 + COUNT; i++)); do "$DNSLAB" add big.lab.test A "192.0.2.$i"; done
	expect_eq "UDP without EDNS is truncated" 1 \
		"$(kdig +norec +notcp +ignore +noedns "@$NXLAB_AUTH" big.lab.test A | grep -cE '^;; Flags:.* tc')"
	expect_eq "TCP has all $COUNT" "$COUNT" "$(kdig +short +norec +tcp "@$NXLAB_AUTH" big.lab.test A | grep -c .)"
	expect_eq "the resolver still answers NXDOMAIN" NXDOMAIN "$("$DNSLAB" resolve big.lab.test)"
	raw=$(LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream big.lab.test || true)
	expect_eq "rc" "rc=0 OK" "$(strip_ms <<<"$raw" | head -n 1)"
	expect_eq "all $COUNT addresses, once each" "$(stream_lines 192.0.2 101 "$COUNT")" \
		"$(strip_ms <<<"$raw" | tail -n +2 | sort)"
	expect_between "ms" 0 "$MAX_MS" "$(ms_of "$raw")"
	raw=$(nxgai big.lab.test)
	expect_eq "AF_UNSPEC, default socket types: 3 nodes for each address" \
		"$(printf 'rc=0 OK %s' $((3 * COUNT)))" "$(head -n 1 <<<"$raw") $(grep -c '^inet [a-z]* [0-9]* 192\.0\.2\.' <<<"$raw" || true)"
}

# A faultdns that sets TC on every UDP reply and answers over TCP, pinned: the answer comes over TCP.
test_tcp_fallback() {
	require_tools
	local conf=$NXLAB_DIR/tc.conf raw
	fault_start "$TC_SERVER" tc tcp.lab.test=192.0.2.71 tcp.lab.test=192.0.2.72
	write_config "$conf" lab.test 0.8 "$TC_SERVER"
	expect_eq "glibc fails (no such name in the lab's zone)" "rc=-2 EAI_NONAME" "$(gai -4 tcp.lab.test)"
	raw=$(NXRETRY_CONFIG=$conf LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream tcp.lab.test || true)
	expect_eq "both addresses" "$(printf 'rc=0 OK\n%s\n%s' "inet stream 6 192.0.2.71 0" "inet stream 6 192.0.2.72 0")" \
		"$(strip_ms <<<"$raw")"
	expect_between "ms" 0 "$MAX_MS" "$(ms_of "$raw")"
	expect_eq "asked over UDP, then over TCP" "$(printf '%s\n' "udp tcp.lab.test A" "tcp tcp.lab.test A")" \
		"$(cat "$(fault_log "$TC_SERVER")")"
}

run_tests test_forty_addresses test_tcp_fallback
