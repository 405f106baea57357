#!/usr/bin/env bash
# Names outside the zones pass through nxretry --serve untouched (issue 15): for a matrix of types
# (A, AAAA, CNAME, TXT, MX, SRV, a TXT too large for UDP, a DNSSEC-signed answer with DO set, NXDOMAIN
# from the authority and from the resolver itself, SERVFAIL and REFUSED from a broken upstream) the
# stub's reply equals its upstream's byte for byte but the id. build/dnsq (tests/lab/dnsq.c) sends the
# same query to the upstream, then to the stub, and compares bytes 2 on; its -W asks the upstream once
# first, so that both replies come from the resolver's cache, and then sends the two queries in the
# first milliseconds of one wall-clock second, so that TTLs (counted down in whole seconds) agree
# without being zeroed.
# The reply shapes below are Unbound's (BIND adds glue and an SOA): one lab flavor.
# lab flavor: knot-unbound
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"
# shellcheck source=tests/lab/stub.sh
. "$(dirname "$0")/stub.sh"

# The stub bypasses names under child.lab.test only: every name below is outside its zones.
export NXRETRY_ZONES=child.lab.test NXRETRY_TIMEOUT=5
unset NXRETRY_MODE NXRETRY_CONFIG NXRETRY_LOG
readonly STUB=127.0.0.1 SIGNED_AUTH=127.0.53.61
readonly SERVFAIL_UP=127.0.53.70 SERVFAIL_STUB=127.0.0.2 REFUSED_UP=127.0.53.71 REFUSED_STUB=127.0.0.3

# The cases: label, dnsq cmp options, name, type, and the comparison's exact outcome (the reply's
# rcode, flags, section counts and length, as the lab's Unbound gives it).
readonly CASES="A|-b 1232|www.lab.test|A|equal NOERROR flags=8180 an=1 ns=0 ar=1 len=57
A without EDNS|-|www.lab.test|A|equal NOERROR flags=8180 an=1 ns=0 ar=0 len=46
AAAA|-b 1232|www.lab.test|AAAA|equal NOERROR flags=8180 an=1 ns=0 ar=1 len=69
CNAME chain|-b 1232|cname.lab.test|A|equal NOERROR flags=8180 an=2 ns=0 ar=1 len=77
CNAME itself|-b 1232|cname.lab.test|CNAME|equal NOERROR flags=8180 an=1 ns=0 ar=1 len=61
TXT|-b 1232|txt.lab.test|TXT|equal NOERROR flags=8180 an=1 ns=0 ar=1 len=59
MX|-b 1232|mail.lab.test|MX|equal NOERROR flags=8180 an=1 ns=0 ar=1 len=62
SRV|-b 1232|_http._tcp.lab.test|SRV|equal NOERROR flags=8180 an=1 ns=0 ar=1 len=80
NODATA|-b 1232|txt.lab.test|AAAA|equal NOERROR flags=8180 an=0 ns=1 ar=1 len=92
large TXT over UDP, EDNS 1232: truncated|-b 1232|big.lab.test|TXT|equal NOERROR flags=8380 an=0 ns=0 ar=1 len=41
large TXT over UDP, no EDNS: truncated|-|big.lab.test|TXT|equal NOERROR flags=8380 an=0 ns=0 ar=0 len=30
large TXT over TCP|-t|big.lab.test|TXT|equal NOERROR flags=8180 an=1 ns=0 ar=0 len=2050
large TXT over TCP, EDNS|-t -b 1232|big.lab.test|TXT|equal NOERROR flags=8180 an=1 ns=0 ar=1 len=2061
DNSSEC-signed, DO set|-b 1232 -D|www.signed.lab.test|A|equal NOERROR flags=8180 an=2 ns=0 ar=1 len=175
DNSSEC-signed, DO set, NXDOMAIN|-b 1232 -D|nosuch.signed.lab.test|A|equal NXDOMAIN flags=8183 an=0 ns=4 ar=1 len=365
DNSSEC-signed, DO unset|-b 1232|www.signed.lab.test|A|equal NOERROR flags=8180 an=1 ns=0 ar=1 len=64
NXDOMAIN from the authority|-b 1232|nosuch.lab.test|A|equal NXDOMAIN flags=8183 an=0 ns=1 ar=1 len=95
NXDOMAIN from the resolver (local zone)|-b 1232|nosuch.other.test|A|equal NXDOMAIN flags=8583 an=0 ns=0 ar=1 len=46"

# The signed zone: signed.lab.test, delegated from lab.test to a Knot of its own that signs it.
start_signed_zone() {
	local d=$NXLAB_DIR/signed
	mkdir -p "$d"
	cat >"$d/signed.lab.test.zone" <<EOF
\$ORIGIN signed.lab.test.
@   3600 IN SOA ns.signed.lab.test. hostmaster.signed.lab.test. 1 3600 600 86400 3600
@   3600 IN NS  ns.signed.lab.test.
ns  3600 IN A   $SIGNED_AUTH
www 300  IN A   192.0.2.61
EOF
	cat >"$d/knot.conf" <<EOF
server:
    rundir: "$d"
    listen: [ $SIGNED_AUTH@53 ]
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: "$d/knot.log"
    any: info
database:
    storage: "$d"
control:
    listen: "$d/knot.sock"
template:
  - id: default
    storage: "$d"
zone:
  - domain: signed.lab.test
    file: "$d/signed.lab.test.zone"
    dnssec-signing: on
EOF
	ip addr add "$SIGNED_AUTH/32" dev lo
	knotd -d -c "$d/knot.conf"
	"$DNSLAB" add signed.lab.test NS ns.signed.lab.test
	"$DNSLAB" add ns.signed.lab.test A "$SIGNED_AUTH"
}

signed_served() {
	kdig +norec +dnssec +time=1 +retry=0 "@$SIGNED_AUTH" www.signed.lab.test A 2>/dev/null | grep -q 'RRSIG'
}

# The records of the matrix, in lab.test.
add_records() {
	local i big=
	for i in 1 2 3 4 5 6 7 8; do big+="\"$(printf '%0250d' "$i")\" "; done
	"$DNSLAB" add big.lab.test TXT "$big"
	"$DNSLAB" add mail.lab.test MX "10 www.lab.test."
	"$DNSLAB" add _http._tcp.lab.test SRV "0 5 80 www.lab.test."
	"$DNSLAB" add txt.lab.test TXT hello
	"$DNSLAB" add cname.lab.test CNAME www.lab.test
}

# compare LABEL A B OPTIONS NAME TYPE EXPECTED: dnsq cmp's outcome.
compare() {
	local label=$1 a=$2 b=$3 opts=$4 name=$5 type=$6 want=$7 args=()
	if [ "$opts" != - ]; then read -ra args <<<"$opts"; fi
	expect_eq "$label ($name $type${args[*]:+, ${args[*]}})" "$want" \
		"$("$DNSQ" cmp -W "${args[@]}" "$a" "$b" "$name" "$type" || true)"
}

# The comparison itself: two queries to the resolver agree byte for byte (its answers are stable within
# a second), and the resolver's answer differs from the authority's (RA set, AA not): dnsq would see a
# stub that changed one bit.
test_comparison_can_fail() {
	require_stub
	add_records
	compare "the resolver against itself" "$NXLAB_RESOLVER" "$NXLAB_RESOLVER" "-b 1232" www.lab.test A \
		"equal NOERROR flags=8180 an=1 ns=0 ar=1 len=57"
	compare "the resolver against the authority: the flags differ" "$NXLAB_RESOLVER" "$NXLAB_AUTH" "-b 1232" \
		www.lab.test A "differ at byte 2 of 57/57: A 0x81 B 0x85"
}

test_matrix() {
	require_stub
	local label opts name type want
	start_signed_zone
	wait_for "the signed zone served with its RRSIGs" 5000 signed_served
	stub_start "$STUB" --upstream "$NXLAB_RESOLVER"
	while IFS='|' read -r label opts name type want; do
		compare "$label" "$NXLAB_RESOLVER" "$STUB" "$opts" "$name" "$type" "$want"
	done <<<"$CASES"
	expect_eq "the resolver was asked by the stub (its log names the stub's queries)" yes \
		"$(resolver_saw mail.lab.test && echo yes || echo no)"
	stub_stop "$STUB_PID"
	expect_eq "the stub exits 0 on SIGTERM" 0 "$STUB_RC"
}

# An upstream that answers SERVFAIL, and one that answers REFUSED, whatever the name: the stub relays
# each reply as it came, for a name outside the zones and for one under them (only NXDOMAIN and NODATA
# start the bypass).
test_broken_upstreams() {
	require_tools
	require_stub
	local pids=() name
	fault_start "$SERVFAIL_UP:53" servfail
	fault_start "$REFUSED_UP:53" refused
	stub_start "$SERVFAIL_STUB" --upstream "$SERVFAIL_UP"
	pids+=("$STUB_PID")
	stub_start "$REFUSED_STUB" --upstream "$REFUSED_UP"
	pids+=("$STUB_PID")
	for name in www.lab.test www.child.lab.test; do
		compare "SERVFAIL" "$SERVFAIL_UP" "$SERVFAIL_STUB" "-" "$name" A \
			"equal SERVFAIL flags=8102 an=0 ns=0 ar=0 len=$((${#name} + 18))"
		compare "REFUSED" "$REFUSED_UP" "$REFUSED_STUB" "-" "$name" A \
			"equal REFUSED flags=8105 an=0 ns=0 ar=0 len=$((${#name} + 18))"
	done
	stub_stop "${pids[0]}"
	stub_stop "${pids[1]}"
	expect_eq "both stubs exit 0 on SIGTERM" "0 0" "$STUB_RCS"
}

run_tests test_comparison_can_fail test_matrix test_broken_upstreams
