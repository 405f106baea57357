#!/usr/bin/env bash
# lab flavor: four
# Issue 9, items 4 and 5. After a lookup exhausted its deadline, later lookups of the name in the same
# process still ask the authority once (one round, no backoff) before failing, and succeed as soon as
# the record exists. A zone none of whose servers answers at all (every address silent, as behind a
# firewall dropping port 53) is given up after two rounds, far before NXRETRY_TIMEOUT, with one
# warning naming the zone, and remembered for the process.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/four.sh
. "$(dirname "$0")/four.sh"

readonly QUERY_TIMEOUT_MS=800 # the default query_timeout

# tries FILE: the ms= figures of a gai -r output's lines, one per line.
tries_ms() {
	sed -n 's/.* ms=\([0-9]*\) end=.*/\1/p' "$1"
}

# One process: a 3 s deadline passes, then it looks again every 0.5 s. Each later look is one round
# (each server asked once; its outcome serves the process for 1 s), costs no wait, and the record,
# once at one server, is returned at the next look.
test_after_deadline() {
	local outf=$NXLAB_DIR/later.out q0 q1 t0 t1 added t_add last n i ms end
	early later.lab.test
	NXRETRY_TIMEOUT=3 LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream -r 60,500 later.lab.test \
		>"$outf" 2>"$NXLAB_DIR/later.err" &
	local pid=$!
	wait_for "the first lookup's deadline" 8000 grep -q '^try ' "$outf"
	sleep 1
	t0=$(now_ms)
	q0=$("$DNSLAB" auth-queries)
	sleep 3
	q1=$("$DNSLAB" auth-queries)
	t1=$(now_ms)
	t_add=$(now_ms)
	"$DNSLAB" add --server 3 later.lab.test A 192.0.2.51
	added=$(now_ms)
	wait "$pid" || true
	"$DNSLAB" add --server 1,2,4 later.lab.test A 192.0.2.51
	last=$(tail -n 2 "$outf" | sed 's/ ms=[0-9]* end=[0-9]*$//')
	expect_eq "the look after the add returns the address" "$(printf 'rc=0 OK\ninet stream 6 192.0.2.51 0')" "$last"
	n=$(grep -c '^try ' "$outf")
	expect_eq "each failed look: EAI_NONAME" "$(for ((i = 0; i < n; i++)); do echo "try rc=-2 EAI_NONAME"; done)" \
		"$(sed -n 's/^\(try rc=-2 [A-Z_]*\) .*/\1/p' "$outf")"
	ms=$(tries_ms "$outf" | head -n 1)
	expect_between "the first lookup waits its deadline (ms)" 3000 $((3000 + FOUR_MARGIN_MS)) "$ms"
	expect_between "the later looks before the add (tries)" 6 20 "$n"
	for ms in $(tries_ms "$outf" | sed 1d); do
		expect_between "a later look costs no wait (ms)" 0 $((100 + FOUR_MARGIN_MS)) "$ms"
	done
	# Looks every 0.5 s, an outcome kept 1 s: one round (4 queries) a second at most, and at least one
	# every 1.5 s; counted over 3 s.
	expect_between "queries in $((t1 - t0)) ms of looks" 8 $((4 * ((t1 - t0) / 1000 + 2))) $((q1 - q0))
	end=$(sed -n 's/^rc=0 .* end=\([0-9]*\)$/\1/p' "$outf")
	expect_between "the address returned after the add (ms)" -1000 $((1500 + FOUR_MARGIN_MS)) $((end - added))
	expect_between "not before the add began (ms)" 0 100000 $((end - t_add))
}

# Every address of every server drops what it is sent. A lookup gives up after two rounds (each
# server on one family, then on the other: 8 query timeouts, and the first backoff), says so once,
# naming the zone, and the next lookup in the process fails at once.
test_unreachable() {
	local outf=$NXLAB_DIR/gone.out err=$NXLAB_DIR/gone.err n fam ms
	early gone.lab.test
	# The zone's servers through the resolver, before the silence: what discovery needs is cached.
	"$DNSLAB" resolve lab.test SOA >/dev/null
	"$DNSLAB" resolve lab.test NS >/dev/null
	for n in 1 2 3 4; do
		"$DNSLAB" resolve "ns$n.lab.test" A >/dev/null
		"$DNSLAB" resolve "ns$n.lab.test" AAAA >/dev/null
	done
	for n in 1 2 3 4; do for fam in inet inet6; do "$DNSLAB" blackhole "$n" "$fam"; done; done
	NXRETRY_TIMEOUT=60 LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream -r 2,0 gone.lab.test >"$outf" 2>"$err" || true
	for n in 1 2 3 4; do for fam in inet inet6; do "$DNSLAB" unblackhole "$n" "$fam"; done; done
	expect_eq "both lookups: libc's error" "try rc=-2 EAI_NONAME
rc=-2 EAI_NONAME" "$(sed 's/ ms=[0-9]* end=[0-9]*$//' "$outf")"
	ms=$(tries_ms "$outf" | head -n 1)
	expect_between "given up after two rounds, not the 60 s deadline (ms)" $((8 * QUERY_TIMEOUT_MS)) \
		$((8 * QUERY_TIMEOUT_MS + 250 + FOUR_MARGIN_MS)) "$ms"
	ms=$(tries_ms "$outf" | tail -n 1)
	expect_between "remembered: the next lookup fails at once (ms)" 0 $((50 + FOUR_MARGIN_MS)) "$ms"
	expect_eq "one warning, naming the zone" 1 \
		"$(grep -c '^nxretry: gone.lab.test: none of the 4 nameservers of zone lab.test answered in 2 rounds' "$err" || true)"
	expect_eq "and nothing else" 1 "$(wc -l <"$err")"
	expect_eq "the likely causes" 1 "$(grep -c 'port 53 may be blocked.*the zone is private' "$err" || true)"
}

run_tests test_after_deadline test_unreachable
