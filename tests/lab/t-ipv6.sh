#!/usr/bin/env bash
# Nameservers pinned by IPv6 address in a configuration file (NXRETRY_CONFIG): the bracketed and the bare
# forms work, and an address without a route (fd00:54::/64: the lab has fd00:53::/64 only) is skipped at
# once, long before query_timeout, for the next server to answer.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"

unset NXRETRY_ZONES NXRETRY_MODE
export NXRETRY_TIMEOUT=5 NXRETRY_LOG=info
readonly QUERY_TIMEOUT=2 # s: a server that costs its timeout shows in MAX_MS
readonly MAX_MS=500

test_no_route_to_fd00_54() {
	expect_eq "the lab has no route to fd00:54::1" "" "$(ip -6 route get fd00:54::1 2>/dev/null || true)"
}

# Each case: the zone suffix, gai arguments, the name (created too late) with its type and data, the
# server expected to answer (as nxretry logs it), then the pinned nameservers in order. query_timeout
# is QUERY_TIMEOUT: a server that is not skipped at once would cost that much.
test_pinned_ipv6() {
	require_tools
	local cases suffix args name type data by servers conf raw family
	cases=$(
		cat <<'CASES'
lab.test        -4  v6.lab.test        A     192.0.2.40    fd00:53::1  [fd00:53::1]:53
lab.test        -4  v6.lab.test        A     192.0.2.40    fd00:53::1  fd00:53::1
lab.test        -6  v6aaaa.lab.test    AAAA  2001:db8::40  fd00:53::1  [fd00:53::1]:53
lab.test        -4  v6.lab.test        A     192.0.2.40    fd00:53::1  [fd00:54::1]:53 [fd00:53::1]:53
lab.test        -4  v6.lab.test        A     192.0.2.40    127.0.53.1  [fd00:54::1]:53 [fd00:54::2]:53 127.0.53.1
child.lab.test  -4  v6.child.lab.test  A     192.0.2.41    fd00:53::2  [fd00:54::1]:53 [fd00:53::2]:53
CASES
	)
	while read -r suffix args name type data _; do
		stale_name "$name" "$type" "$data"
	done < <(sort -u -k3,3 <<<"$cases")
	conf=$NXLAB_DIR/ipv6.conf
	while read -r suffix args name type data by servers; do
		# shellcheck disable=SC2086 # servers are several words
		write_config "$conf" "$suffix" "$QUERY_TIMEOUT" $servers
		# shellcheck disable=SC2086 # args are several words
		raw=$(NXRETRY_CONFIG=$conf LD_PRELOAD=$NXRETRY_LIB "$GAI" $args -s stream "$name" 2>"$NXLAB_DIR/stderr" || true)
		family=inet
		[ "$type" = AAAA ] && family=inet6
		expect_eq "[$servers] $name" "$(printf 'rc=0 OK\n%s stream 6 %s 0' "$family" "$data")" "$(strip_ms <<<"$raw")"
		expect_between "[$servers] ms" 0 "$MAX_MS" "$(ms_of "$raw")"
		expect_eq "[$servers] answered by $by, first round" \
			"nxretry: $name: stale negative answer bypassed: $by answered $data after 1 attempt" \
			"$(sed 's/, [0-9.]* s$//' "$NXLAB_DIR/stderr")"
	done <<<"$cases"
}

run_tests test_no_route_to_fd00_54 test_pinned_ipv6
