#!/usr/bin/env bash
# CNAMEs created too late: to a name in the zone, to a name in the delegated child zone (which the zone's
# server does not hold), to targets created too late themselves; AI_CANONNAME gives the chain's end. A
# loop, also one across the two zones, and a chain over 8 links (NX_MAXCHAIN) end with libc's error
# within the deadline.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=5
readonly MAX_MS=1000
readonly LOOP_TIMEOUT_MS=1000 LOOP_MARGIN_MS=500

# chain FIRST N TARGET: N CNAME links FIRST -> FIRST-1 -> ... -> TARGET, as owner/TYPE/data records.
chain() {
	local i owner next records=()
	for ((i = 0; i < $2; i++)); do
		owner=$1
		((i == 0)) || owner=${1%%.*}-$i.${1#*.}
		next=${1%%.*}-$((i + 1)).${1#*.}
		((i + 1 < $2)) || next=$3
		records+=("$owner/CNAME/$next")
	done
	(
		IFS=,
		echo "${records[*]}"
	)
}

# stale_records NAME RECORDS: every owner in RECORDS (owner/TYPE/data, comma separated) is looked up
# first, so the resolver caches its NXDOMAIN, then the records are created.
stale_records() {
	local rec owner type data
	expect_eq "$1: early lookup fails" "rc=-2 EAI_NONAME" "$(gai "$1")"
	for rec in ${2//,/ }; do
		IFS=/ read -r owner type data <<<"$rec"
		if [ "$owner" != "$1" ]; then gai "$owner" >/dev/null; fi
	done
	for rec in ${2//,/ }; do
		IFS=/ read -r owner type data <<<"$rec"
		"$DNSLAB" add "$owner" "$type" "$data"
	done
	expect_eq "$1: the resolver still answers NXDOMAIN" NXDOMAIN "$("$DNSLAB" resolve "$1")"
}

# Each case: the name asked, the canonical name and address expected, the records created too late.
test_cname_resolves() {
	require_lib
	local name canon addr records raw
	while read -r name canon addr records; do
		stale_records "$name" "$records"
		raw=$(LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream -f canonname "$name" || true)
		expect_eq "[$name] address and canonical name" \
			"$(printf 'rc=0 OK\ninet stream 6 %s 0 canon=%s' "$addr" "$canon")" "$(strip_ms <<<"$raw")"
		expect_between "[$name] ms" 0 "$MAX_MS" "$(ms_of "$raw")"
	done <<CASES
alias.lab.test   www.lab.test                192.0.2.10  alias.lab.test/CNAME/www.lab.test
out.lab.test     www.child.lab.test          192.0.2.20  out.lab.test/CNAME/www.child.lab.test
late.lab.test    late-t.lab.test             192.0.2.31  late.lab.test/CNAME/late-t.lab.test,late-t.lab.test/A/192.0.2.31
deep.lab.test    deep-t.child.lab.test       192.0.2.32  deep.lab.test/CNAME/deep-t.child.lab.test,deep-t.child.lab.test/A/192.0.2.32
back.lab.test    www.lab.test                192.0.2.10  back.lab.test/CNAME/back.child.lab.test,back.child.lab.test/CNAME/www.lab.test
eight.lab.test   www.lab.test                192.0.2.10  $(chain eight.lab.test 8 www.lab.test)
CASES
	expect_eq "AF_UNSPEC: both families, as glibc gives the target" "$(gai -f canonname www.child.lab.test)" \
		"$(LD_PRELOAD=$NXRETRY_LIB "$GAI" -f canonname out.lab.test | strip_ms)"
}

# A CNAME to a name outside the configured zones: the target goes to libc, which follows the target's own
# chain. The result names the chain's end as glibc does (AI_CANONNAME; h_name, and the owners before it as
# h_aliases), checked against glibc itself on a twin name never cached as absent.
test_cname_outside_zones() {
	require_lib
	local hostent form want got
	hostent=$(dirname "$GAI")/hostent
	"$DNSLAB" add lc-b.lab.test CNAME www.lab.test
	"$DNSLAB" add lc-twin.child.lab.test CNAME lc-b.lab.test
	stale_records lc.child.lab.test lc.child.lab.test/CNAME/lc-b.lab.test
	want=$(gai -4 -s stream -f canonname lc-twin.child.lab.test)
	got=$(NXRETRY_ZONES=child.lab.test nxgai -4 -s stream -f canonname lc.child.lab.test)
	expect_eq "getaddrinfo: the chain's end, as glibc gives the twin" "$want" "$got"
	expect_eq "the twin ends at www.lab.test" "canon=www.lab.test" "$(grep -o 'canon=.*' <<<"$want")"
	for form in "" "-r" "-4" "-r -4"; do
		# shellcheck disable=SC2086 # form: zero to two options
		want=$({ "$hostent" $form lc-twin.child.lab.test || true; } | sed 's/lc-twin[.]/lc./')
		# shellcheck disable=SC2086
		got=$(NXRETRY_ZONES=child.lab.test LD_PRELOAD=$NXRETRY_LIB "$hostent" $form lc.child.lab.test || true)
		expect_eq "hostent ${form:-(gethostbyname)}: as glibc gives the twin" "$want" "$got"
	done
}

# Each case: the name asked and the records created too late. Every lookup must give what libc gives
# (the cached NXDOMAIN) within NXRETRY_TIMEOUT plus a margin. The cases run at the same time.
test_cname_gives_up() {
	require_lib
	local cases name records i=0 raw
	cases=$(
		cat <<CASES
loop.lab.test    loop.lab.test/CNAME/loop-b.lab.test,loop-b.lab.test/CNAME/loop.lab.test
xloop.lab.test   xloop.lab.test/CNAME/xloop.child.lab.test,xloop.child.lab.test/CNAME/xloop.lab.test
self.lab.test    self.lab.test/CNAME/self.lab.test
nine.lab.test    $(chain nine.lab.test 9 www.lab.test)
twelve.lab.test  $(chain twelve.lab.test 12 www.lab.test)
CASES
	)
	while read -r name records; do
		stale_records "$name" "$records"
	done <<<"$cases"
	while read -r name records; do
		i=$((i + 1))
		NXRETRY_TIMEOUT=$((LOOP_TIMEOUT_MS / 1000)) LD_PRELOAD=$NXRETRY_LIB timeout 20 "$GAI" -4 "$name" \
			>"$NXLAB_DIR/cname.$i" 2>/dev/null &
	done <<<"$cases"
	wait
	i=0
	while read -r name records; do
		i=$((i + 1))
		raw=$(<"$NXLAB_DIR/cname.$i")
		expect_eq "[$name] libc's error" "rc=-2 EAI_NONAME" "$(strip_ms <<<"$raw")"
		expect_between "[$name] ms" 0 $((LOOP_TIMEOUT_MS + LOOP_MARGIN_MS)) "$(ms_of "$raw")"
	done <<<"$cases"
}

run_tests test_cname_resolves test_cname_gives_up test_cname_outside_zones
