#!/usr/bin/env bash
# The lab itself: servers up, the environment as documented, and the stale negative cache that nxretry
# exists for (RFC 2308 §5). Needs no library.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

test_environment() {
	local pair var want
	for pair in "NXLAB_ZONE lab.test" "NXLAB_AUTH 127.0.53.1" "NXLAB_RESOLVER 127.0.53.53" \
		"NXLAB_NEG_TTL 3600" "NXLAB_FLAVOR $NXLAB_FLAVOR"; do
		read -r var want <<<"$pair"
		expect_eq "\$$var" "$want" "${!var:-}"
	done
	expect_eq "resolv.conf points to the lab resolver" "nameserver 127.0.53.53" "$(grep -v '^#' /etc/resolv.conf)"
	expect_eq "nsswitch hosts" "hosts: files dns" "$(grep '^hosts:' /etc/nsswitch.conf)"
	expect_eq "hosts-file name" "$(ok_lines 192.0.2.200)" "$(gai -4 hosts-only.lab.test)"
	expect_eq "auth-queries is a number" yes "$([[ $("$DNSLAB" auth-queries) =~ ^[0-9]+$ ]] && echo yes)"
}

# Each server answers www with both families, and the resolver's negative answer carries the zone's SOA.
test_servers_answer() {
	local server ask
	for server in "$NXLAB_AUTH +norec" "fd00:53::1 +norec" "$NXLAB_RESOLVER +rec" "fd00:53::53 +rec"; do
		read -ra ask <<<"$server"
		ask[0]=@${ask[0]}
		expect_eq "www A at $server" 192.0.2.10 "$(kdig +short "${ask[@]}" www.lab.test A)"
		expect_eq "www AAAA at $server" 2001:db8::10 "$(kdig +short "${ask[@]}" www.lab.test AAAA)"
	done
	expect_eq "glibc resolves www" "$(ok_lines 2001:db8::10 192.0.2.10)" "$(gai www.lab.test)"
	expect_eq "names outside lab.test fail at once" NXDOMAIN "$("$DNSLAB" resolve nosuch.other.test)"
}

test_stale_cache() {
	local before
	expect_eq "fresh is unknown to the resolver" NXDOMAIN "$("$DNSLAB" resolve fresh.lab.test)"
	expect_eq "the resolver logged the query" yes "$(resolver_saw fresh.lab.test && echo yes)"
	"$DNSLAB" add fresh.lab.test A 192.0.2.77
	before=$("$DNSLAB" auth-queries)
	expect_eq "the authoritative server has it" 192.0.2.77 \
		"$(kdig +short +norec "@$NXLAB_AUTH" fresh.lab.test A)"
	expect_eq "auth-queries counted that query" $((before + 1)) "$("$DNSLAB" auth-queries)"
	expect_eq "the resolver still answers NXDOMAIN" NXDOMAIN "$("$DNSLAB" resolve fresh.lab.test)"
	expect_eq "so glibc fails" "rc=-2 EAI_NONAME" "$(gai -4 fresh.lab.test)"
	expect_eq "gai exits 2 on a failed lookup" 2 "$("$GAI" -4 fresh.lab.test >/dev/null || echo $?)"
}

# How long the resolver keeps that answer: min(SOA TTL, MINIMUM) = NXLAB_NEG_TTL, counting down.
test_negative_ttl() {
	local ttl
	ttl=$(kdig "@$NXLAB_RESOLVER" fresh.lab.test A | awk '$4 == "SOA" { print $2 }')
	expect_between "negative TTL of the cached NXDOMAIN" $((NXLAB_NEG_TTL - 5)) $((NXLAB_NEG_TTL + 1)) "${ttl:-0}"
}

test_records() {
	local record name type data
	for record in "cname.lab.test CNAME www.lab.test|NOERROR www.lab.test." \
		"txt.lab.test TXT hello world|NOERROR \"hello world\"" \
		"six.lab.test AAAA 2001:db8::6|NOERROR 2001:db8::6"; do
		read -r name type data <<<"${record%%|*}"
		"$DNSLAB" add "$name" "$type" "$data"
		expect_eq "add $type" "${record#*|}" "$("$DNSLAB" resolve "$name" "$type")"
	done
	"$DNSLAB" add sub.lab.test NS ns.sub.lab.test
	expect_eq "add NS makes a delegation" "sub.lab.test. 300 IN NS ns.sub.lab.test." \
		"$(kdig +norec "@$NXLAB_AUTH" x.sub.lab.test A | awk '$4 == "NS" { print $1, $2, $3, $4, $5 }')"
	"$DNSLAB" del six.lab.test AAAA
	expect_eq "del TYPE" "" "$(kdig +short +norec "@$NXLAB_AUTH" six.lab.test AAAA)"
	"$DNSLAB" del txt.lab.test
	expect_eq "del NAME" NXDOMAIN "$(kdig +norec "@$NXLAB_AUTH" txt.lab.test TXT | sed -n 's/.*status: \([A-Z]*\);.*/\1/p')"
}

run_tests test_environment test_servers_answer test_stale_cache test_negative_ttl test_records
