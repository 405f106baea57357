#!/usr/bin/env bash
# Shared waits (flight.c): threads of one process asking for the same fresh name at the same moment share
# one polling loop. 32 threads (tests/lab/threads.c) wait for a name that does not exist yet; it is created
# after ADD_AFTER_MS; every thread gets it, soon after, and the authoritative servers see about the
# queries one thread alone causes (measured in the same test with another name).
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=20
readonly ADD_AFTER_MS=2000 # the record is created this long after the threads started
readonly MAX_LAG_MS=1500   # every thread must return within this long of the creation

# waiting_threads N NAME ADDR: N threads look NAME up (-4) under the preload; NAME is created with ADDR
# after ADD_AFTER_MS. Checks every thread's result and time, and sets QUERIES to the number of queries
# the authoritative servers received meanwhile.
waiting_threads() {
	local n=$1 name=$2 addr=$3 out=$NXLAB_DIR/threads.$1 before start adding added
	before=$("$DNSLAB" auth-queries)
	start=$(now_ms)
	(LD_PRELOAD=$NXRETRY_LIB "$THREADS" -4 "$n" "$name" >"$out" || true) &
	wait_for "$n threads: the lookups reached the resolver" "$ADD_AFTER_MS" resolver_saw "$name"
	sleep_ms $((ADD_AFTER_MS - ($(now_ms) - start)))
	expect_eq "$n threads: still waiting when the record is created" "" "$(cat "$out")"
	# The record exists from some moment while dnslab add runs (which may take a while on a busy
	# machine): no thread may return before it started, nor long after it ended.
	adding=$(($(now_ms) - start))
	"$DNSLAB" add "$name" A "$addr"
	added=$(($(now_ms) - start))
	wait
	QUERIES=$(($("$DNSLAB" auth-queries) - before))
	expect_eq "$n threads: all found it" "result $name rc=0 OK $addr count=$n" "$(grep '^result ' "$out")"
	expect_eq "$n threads: one line each, all OK" "$n $n" \
		"$(grep -c '^thread ' "$out") $(grep -c '^thread [0-9]* rc=0 OK ms=' "$out")"
	expect_eq "$n threads: no descriptor left open" yes \
		"$(awk '$1 == "fds" { print ($2 == $3 ? "yes" : $2 " then " $3) }' "$out")"
	# A thread's ms counts from its start, which is at most a few ms after $start.
	# Each thread's end on the realtime clock, as the shell's: a slow process start (a sanitizer's
	# runtime) does not shift it.
	local from=$((adding - 50)) to=$((added + MAX_LAG_MS)) ends
	ends=$(sed -n "s/^thread .* end=\([0-9]*\)\$/\1/p" "$out" | awk -v s="$start" '{ print $1 - s }' | sort -n)
	expect_between "$n threads: the slowest returned, ms after the start" "$from" "$to" "$(tail -n 1 <<<"$ends")"
	expect_between "$n threads: the fastest returned, ms after the start" "$from" "$to" "$(head -n 1 <<<"$ends")"
}

test_32_threads_share_one_wait() {
	require_tools
	local one
	# The resolver fetches lab.test's SOA, NS and server addresses (nxretry's discovery) once: before
	# either count, so that both count the same things.
	expect_eq "warm-up: an absent name" "rc=-2 EAI_NONAME" "$(NXRETRY_TIMEOUT=0.2 nxgai -4 warm-up.lab.test)"
	waiting_threads 1 single.lab.test 192.0.2.91
	one=$QUERIES
	waiting_threads 32 pending.lab.test 192.0.2.92
	if [ -n "${NXLAB_VERBOSE:-}" ]; then echo "    authoritative queries: 1 thread $one, 32 threads $QUERIES"; fi
	expect_between "authoritative queries for 1 thread" 1 100 "$one"
	expect_between "authoritative queries for 32 threads (1 thread: $one), at most 1.5 times" 1 \
		$((one * 3 / 2 + 1)) "$QUERIES"
}

run_tests test_32_threads_share_one_wait
