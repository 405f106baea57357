#!/usr/bin/env bash
# NXRETRY_MODE=first: names under the zones go to their authoritative servers before libc, so a lookup made
# too early waits there and never reaches (never poisons) the caching resolver: once the record exists,
# programs without nxretry resolve it at once. Names in /etc/hosts still come from the hosts file, and
# names of a zone whose servers cannot be reached from libc, after one round of queries.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"

export NXRETRY_ZONES=lab.test NXRETRY_MODE=first NXRETRY_TIMEOUT=20
readonly ADD_AFTER_MS=1000 # the record is created this long after the lookup started
readonly MAX_LAG_MS=1500   # the lookup must return within this long of the creation
readonly MAX_MS=300        # what an answer that needs no wait may take

# resolver_never_saw NAME: the caching resolver has no query for NAME in its log.
resolver_never_saw() {
	expect_eq "$1: the caching resolver never saw it" no "$(resolver_saw "$1" && echo yes || echo no)"
}

# Each case: gai arguments, the name (created after the lookup started), its type and data.
test_waits_without_poisoning_the_cache() {
	require_lib
	local args name type data out start added finished family
	while read -r args name type data; do
		out=$NXLAB_DIR/first.$name
		start=$(now_ms)
		(
			# shellcheck disable=SC2086 # args are several words
			LD_PRELOAD=$NXRETRY_LIB "$GAI" $args -s stream "$name" >"$out" || true
			now_ms >"$out.done"
		) &
		sleep_ms $((ADD_AFTER_MS - ($(now_ms) - start)))
		expect_eq "[$name] still waiting when the record is created" no "$([ -e "$out.done" ] && echo yes || echo no)"
		"$DNSLAB" add "$name" "$type" "$data"
		added=$(now_ms)
		wait
		finished=$(<"$out.done")
		family=inet
		[ "$type" = AAAA ] && family=inet6
		expect_eq "[$name] found" "$(printf 'rc=0 OK\n%s stream 6 %s 0' "$family" "$data")" "$(strip_ms <"$out")"
		expect_between "[$name] ms from the creation to the return" -50 "$MAX_LAG_MS" $((finished - added))
		resolver_never_saw "$name"
		# shellcheck disable=SC2086
		expect_eq "[$name] glibc alone resolves it at once: the cache is clean" \
			"$(printf 'rc=0 OK\n%s stream 6 %s 0' "$family" "$data")" "$(gai $args -s stream "$name")"
	done <<'CASES'
-4  first.lab.test        A     192.0.2.50
-6  first6.lab.test       AAAA  2001:db8::50
-4  first.child.lab.test  A     192.0.2.51
CASES
}

# A name the hosts file has (an IPv4 address only): what glibc answers from the hosts file, at once and
# without a query to any server, also when the family asked has no address there (-6: glibc says
# EAI_NONAME). NXRETRY_TIMEOUT is short: a wait that should not happen costs this file little.
test_hosts_file_first() {
	require_lib
	local cases args before raw NXRETRY_TIMEOUT=2
	cases=$(printf '%s\n' "-4" "-4 -s stream" "-f canonname" "-f nohints" "-6 -f v4mapped" "-6")
	# glibc alone, first: what it asks DNS (AAAA for -6) is then in the resolver's cache, so that the
	# authoritative servers can only see what nxretry asks.
	while read -r args; do
		# shellcheck disable=SC2086 # args are several words
		gai $args hosts-only.lab.test >/dev/null
	done <<<"$cases"
	before=$("$DNSLAB" auth-queries)
	while read -r args; do
		# shellcheck disable=SC2086 # args are several words
		raw=$(NXRETRY_TIMEOUT=$NXRETRY_TIMEOUT NXRETRY_LOG=debug LD_PRELOAD=$NXRETRY_LIB "$GAI" $args hosts-only.lab.test 2>"$NXLAB_DIR/stderr" || true)
		# shellcheck disable=SC2086
		expect_eq "[$args] as glibc without the preload" "$(gai $args hosts-only.lab.test)" "$(strip_ms <<<"$raw")"
		expect_between "[$args] ms" 0 "$MAX_MS" "$(ms_of "$raw")"
		expect_eq "[$args] nxretry said nothing (debug)" "" "$(cat "$NXLAB_DIR/stderr")"
	done <<<"$cases"
	expect_eq "192.0.2.200 from the hosts file" "$(printf 'rc=0 OK\ninet stream 6 192.0.2.200 0')" \
		"$(nxgai -4 -s stream hosts-only.lab.test)"
	expect_eq "no authoritative query" "$before" "$("$DNSLAB" auth-queries)"
}

# Zones whose pinned servers cannot be reached go to libc after one round: www.lab.test, which the
# resolver has, resolves in at most one query_timeout per server (plus a margin), not at NXRETRY_TIMEOUT.
# Each case: the pinned servers, and how many of them cost their query_timeout. The cases run at the
# same time.
test_unreachable_zone_goes_to_libc() {
	require_tools
	local cases servers timeouts i=0 raw qt_ms=400 want
	fault_start 127.0.53.10:53 blackhole
	cases=$(printf '%s\n' "[fd00:54::1]:53|0" "127.0.53.99:5399|0" "127.0.53.10|1" \
		"[fd00:54::1]:53 127.0.53.99:5399 127.0.53.10|1")
	while IFS='|' read -r servers timeouts; do
		i=$((i + 1))
		# shellcheck disable=SC2086 # servers are several words
		write_config "$NXLAB_DIR/unreachable.$i.conf" lab.test 0.4 $servers
		NXRETRY_CONFIG=$NXLAB_DIR/unreachable.$i.conf NXRETRY_TIMEOUT=3 LD_PRELOAD=$NXRETRY_LIB \
			"$GAI" -4 -s stream www.lab.test >"$NXLAB_DIR/unreachable.$i" 2>/dev/null &
	done <<<"$cases"
	wait
	want=$(gai -4 -s stream www.lab.test)
	i=0
	while IFS='|' read -r servers timeouts; do
		i=$((i + 1))
		raw=$(<"$NXLAB_DIR/unreachable.$i")
		expect_eq "[$servers] glibc's answer" "$want" "$(strip_ms <<<"$raw")"
		expect_between "[$servers] ms" 0 $((timeouts * qt_ms + MAX_MS)) "$(ms_of "$raw")"
	done <<<"$cases"
}

run_tests test_waits_without_poisoning_the_cache test_hosts_file_first test_unreachable_zone_goes_to_libc
