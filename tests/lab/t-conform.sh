#!/usr/bin/env bash
# Differential conformance: the same records reached two ways, compared call by call.
#
#   stale: through the lab's caching resolver, which holds each name's NXDOMAIN (looked up before the
#          records existed), under the preload: only nxretry's engine can answer.
#   fresh: through a second Unbound started after the records were added (the same stub to the same
#          authoritative server, no RRset rotation), without the preload: glibc alone answers.
#
# tests/lab/conform prints every getaddrinfo call of its matrix (families x socket types x protocols x
# 128 flag combinations x 6 services, and hints=NULL) and gethostbyname* over buffer sizes 0-1200, one
# line each; both sides must print the same lines. Two network setups: dual stack with a global IPv6
# and a 10.1.2.100/8 IPv4 source (RFC 6724 rule 9 on both families), then every IPv6 address but ::1
# removed (AI_ADDRCONFIG narrows to IPv4; the lab's servers stay reachable over IPv4). Both modes.
# The differences README's "Conformance" section lists as deliberate are left out of the count, each
# by its own filter below.
#
# Runs once per make check, in the first flavor's pass (the fresh resolver is always an Unbound),
# within its own time limit (4 configurations of about 25-100 s each on 2 cores):
# lab flavor: knot-unbound
# lab timeout: 300
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=2 NXRETRY_LOG=off
CONFORM=${CONFORM:-$(dirname "$GAI")/conform}
readonly FRESH_RES=127.0.53.54
OUT=$NXLAB_DIR/conform
mkdir -p "$OUT"

# name type data...: the records, owner names as written (case kept). A CNAME target's case differs
# from the question's in its first label only: a resolver's name compression may give the rest of a
# target the question's spelling (Unbound sends c1.lab.test's target D1.Lab.TEST as D1.lab.test).
RECORDS=$(
	cat <<'EOF'
a1.lab.test A 192.0.2.11
q1.lab.test AAAA 2001:db8:1::11
b1.lab.test A 192.0.2.12
b1.lab.test AAAA 2001:db8:5::12
m4.lab.test A 10.0.0.8
m4.lab.test A 10.1.0.1
m4.lab.test A 10.1.2.4
m4.lab.test A 192.0.2.13
m4.lab.test A 127.0.0.5
m6.lab.test AAAA 2001:db8:2::1
m6.lab.test AAAA 2001:db8:1:ff00::1
m6.lab.test AAAA 2001:db8:1::4
m6.lab.test AAAA 2001:db8:1:0:8000::1
m6.lab.test AAAA fd00:1::1
m6.lab.test A 192.0.2.14
m6.lab.test A 10.1.2.5
mp.lab.test AAAA ::ffff:192.0.2.15
mp.lab.test AAAA 2001:db8:1::15
mp.lab.test A 192.0.2.16
mq.lab.test AAAA ::ffff:127.0.0.7
mq.lab.test A 10.1.2.7
D1.Lab.TEST A 192.0.2.17
D1.Lab.TEST AAAA 2001:db8:1::17
c1.Lab.TEST CNAME D1.Lab.TEST
c2.lab.test CNAME C2-1.lab.test
C2-1.lab.test CNAME a1.lab.test
c3.lab.test CNAME c3-1.lab.test
c3-1.lab.test CNAME C3-2.lab.test
C3-2.lab.test CNAME t1.lab.test
ct.lab.test CNAME t1.lab.test
c6.lab.test CNAME q1.lab.test
t1.lab.test TXT only-text
EOF
)
# The names asked (as a program spells them).
NAMES=${CONFORM_NAMES:-"a1.lab.test q1.lab.test b1.lab.test m4.lab.test m6.lab.test mp.lab.test mq.lab.test
D1.Lab.TEST d1.lab.test. c1.Lab.TEST c2.lab.test c3.lab.test ct.lab.test c6.lab.test t1.lab.test"}

# Each configuration runs one slice of the getaddrinfo matrix, every STRIDE-th call (a different
# offset in each): with 16, the four together make a quarter of it (103,704 calls). The
# gethostbyname*_r calls run over every buffer size 0-1200 in the first configuration, every
# HSTRIDE-th in the others. The file stays within its time limit (the "lab timeout" line).
STRIDE=${CONFORM_STRIDE:-16}
HSTRIDE=${CONFORM_HSTRIDE:-16}

# The deliberate differences (README, "Conformance"): an extended regular expression matched against
# "WANT<tab>GOT" (glibc's line, then nxretry's) for the same call; empty: none. A name without any
# address, itself (t1) or at the end of its CNAME chain (ct, c3), is no longer one: after the wait it
# gets the servers' verdict, glibc's on the fresh resolver (issue 17, item 11).
T=$'\t'
export DELIBERATE=${CONFORM_DELIBERATE:-}
# First mode only: gethostbyname*_r with a buffer under 120 bytes. glibc's files module fails with
# ERANGE before DNS is asked (it needs room for the longest /etc/hosts line and its own data); nxretry,
# asked first, does not model that module's buffer use and gives the DNS outcome when it fits.
FIRST_SMALL_R="^H gethostbyname2?_r [^ ]+ [0-9]+ ([0-9]|[1-9][0-9]|1[01][0-9]) rc=ERANGE [^${T}]*${T}[^${T}]* rc=[A-Z0-9]+ "

setup_lab() {
	local name line
	# Rule 9 on both families: an IPv4 source inside 10/8 and a global IPv6 source; default routes
	# make every destination usable (RFC 6724 rule 1 decides nothing) except link-local ones.
	ip addr add 10.1.2.100/8 dev lab0
	ip -6 addr add 2001:db8:1::100/48 dev lab0 nodad
	ip route add default dev lab0
	ip -6 route add default dev lab0
	# Every asked name is looked up before it exists: the lab resolver caches its NXDOMAIN.
	for name in $NAMES; do
		expect_eq "$name: early lookup fails" "rc=-2 EAI_NONAME" "$(gai "$name")"
	done
	while read -r -a line; do
		"$DNSLAB" add "${line[0]}" "${line[1]}" "${line[2]}"
	done <<<"$RECORDS"
	for name in $NAMES; do
		expect_eq "$name: the lab resolver still denies it" "NXDOMAIN NXDOMAIN" \
			"$("$DNSLAB" resolve "$name" A | cut -d' ' -f1) $("$DNSLAB" resolve "$name" AAAA | cut -d' ' -f1)"
	done
	# The fresh resolver: the lab's Unbound configuration on another address, no RRset rotation.
	ip addr add "$FRESH_RES/32" dev lo
	mkdir -p "$OUT/fresh"
	sed -e "s|interface: 127.0.53.53|interface: $FRESH_RES|" -e '/interface: fd00/d' \
		-e "s|directory: .*|directory: \"$OUT/fresh\"|" -e "s|pidfile: .*|pidfile: \"$OUT/fresh/pid\"|" \
		-e "s|logfile: .*|logfile: \"$OUT/fresh/log\"|" -e 's|log-queries: yes|log-queries: no|' \
		-e 's|^server:|server:\n    rrset-roundrobin: no|' "$NXLAB_DIR/unbound.conf" >"$OUT/fresh/unbound.conf"
	unbound -c "$OUT/fresh/unbound.conf" &
	echo $! >"$OUT/fresh/daemon"
	printf 'nameserver %s\n' "$FRESH_RES" >"$OUT/fresh/resolv.conf"
	wait_for "fresh resolver up" 5000 fresh_answers
}

fresh_answers() {
	[ "$(kdig +time=1 +retry=0 +short "@$FRESH_RES" www.lab.test A 2>/dev/null)" = 192.0.2.10 ]
}

# side fresh|MODE FILE FLAGS: the matrix through glibc on the fresh resolver, or under the preload in MODE.
side() {
	local side=$1 file=$2
	shift 2
	if [ "$side" = fresh ]; then
		# shellcheck disable=SC2086,SC2016 # NAMES is a list; $1 and $@ are the inner shell's
		unshare --mount sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh \
			"$OUT/fresh/resolv.conf" env -u LD_PRELOAD "$CONFORM" "$@" $NAMES >"$file"
	else
		# shellcheck disable=SC2086
		NXRETRY_MODE=$side LD_PRELOAD=$NXRETRY_LIB "$CONFORM" "$@" $NAMES >"$file"
	fi
}

# compare SETUP MODE OFFSET HSTRIDE HOFFSET: runs both sides at once on the getaddrinfo matrix's
# slice OFFSET (of STRIDE) and the gethostbyname*_r slice HOFFSET (of HSTRIDE), counts calls and
# mismatches per function and name.
compare() {
	local setup=$1 mode=$2 fresh=$OUT/$1-$2-fresh.txt stale=$OUT/$1-$2.txt report pid
	local slice=(-g -h -s "$STRIDE" -o "$3" -S "$4" -O "$5")
	side fresh "$fresh" "${slice[@]}" &
	pid=$!
	side "$mode" "$stale" "${slice[@]}"
	wait "$pid"
	# CONFORM_KEEP=DIR: both sides' lines kept there, for a look at every difference.
	if [ -n "${CONFORM_KEEP:-}" ]; then cp "$fresh" "$stale" "$CONFORM_KEEP/"; fi
	expect_eq "$setup $mode: same number of lines" "$(wc -l <"$fresh")" "$(wc -l <"$stale")"
	local delib_re=$DELIBERATE
	if [ "$mode" = first ] && [ -z "${CONFORM_DELIBERATE:-}" ]; then delib_re=${delib_re:+$delib_re|}$FIRST_SMALL_R; fi
	report=$(paste -d '\n' "$fresh" "$stale" | DELIBERATE=$delib_re awk '
		function key(line, f) { split(line, f, " "); return f[1] == "G" ? "G " f[2] : "H " f[2] " " f[3] }
		# the call: the line up to its outcome
		function call(line) { sub(/ (rc|errno)=.*/, "", line); return line }
		NR % 2 == 1 { want = $0; next }
		{
			k = key(want); calls[k]++; total++
			if ($0 == want) next
			if (call($0) == call(want) && ENVIRON["DELIBERATE"] != "" && (want "\t" $0) ~ ENVIRON["DELIBERATE"]) {
				kept[k]++; deliberate_n++; next
			}
			bad[k]++; mismatches++
			if (shown++ < 12) { print "    want: " want; print "    got:  " $0 }
		}
		END {
			for (k in calls) if (bad[k] || kept[k])
				printf "    %s: %d of %d calls differ%s\n", k, bad[k] + 0, calls[k],
					kept[k] ? sprintf(" (+%d deliberate)", kept[k]) : ""
			printf "TOTAL %d %d %d\n", total - 1, mismatches + 0, deliberate_n + 0
		}')
	local totals
	totals=$(grep '^TOTAL' <<<"$report")
	grep -v '^TOTAL' <<<"$report" || true
	read -r _ calls mism delib <<<"$totals"
	echo "    $setup $mode: $(tail -1 "$stale" | cut -d' ' -f3) getaddrinfo and $(tail -1 "$stale" | cut -d' ' -f4) gethostbyname* calls, $mism mismatches, $delib deliberate"
	expect_eq "$setup $mode: mismatches" 0 "$mism"
	[ "$calls" -gt 0 ] || fail "$setup $mode: no calls compared"
}

# Not in sanitizer builds: their runtime makes the half million calls many times slower, and what
# they check (memory, races) the other lab files check under it.
need() {
	require_lib
	if [ -n "$RUNTIME" ]; then skip "a sanitizer build ($RUNTIME): too slow for this matrix"; fi
	[ -x "$CONFORM" ] || fail "$CONFORM is not built (make all)"
}

test_dual_stack_fallback() {
	need
	setup_lab
	compare dual fallback 0 1 0
}

test_dual_stack_first() {
	need
	compare dual first 1 "$HSTRIDE" 1
}

# Every IPv6 address but ::1 removed: glibc's AI_ADDRCONFIG now sees IPv4 only. The lab's servers and
# both resolvers are reached over IPv4.
test_ipv4_only_fallback() {
	need
	# glibc counts any IPv6 address but ::1 (link-local too), so every one goes.
	# (the namespace's own links: /sys/class/net may still show the host's)
	local dev
	for dev in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		if [ "$dev" != lo ]; then ip -6 addr flush dev "$dev"; fi
	done
	expect_eq "no IPv6 address left but ::1" "" "$(ip -6 addr show | grep inet6 | grep -v ' ::1/128' || true)"
	compare v4only fallback 2 "$HSTRIDE" 2
}

test_ipv4_only_first() {
	need
	compare v4only first 3 "$HSTRIDE" 3
}

run_tests test_dual_stack_fallback test_dual_stack_first test_ipv4_only_fallback test_ipv4_only_first
