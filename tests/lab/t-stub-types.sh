#!/usr/bin/env bash
# nxretry --serve bypasses every record type, not only A and AAAA (issue 15, item 3): the lab's
# Unbound caches NXDOMAIN for a name, TXT, MX, SRV and CAA records are then added at the authority,
# and dig through the stub gets each one exactly (rdata and the authority's TTL), a CNAME to a TXT
# name with its chain; ANY is relayed as the resolver answers it, and a NODATA for TXT from the
# resolver stands (only NXDOMAIN triggers the bypass for types other than A and AAAA).
# lab timeout: 90
# MX and SRV name www.lab.test, which has addresses: BIND refuses an update whose MX or SRV target has none
# (check-integrity).
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/stub.sh
. "$(dirname "$0")/stub.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=3 NXRETRY_LOG=info
unset NXRETRY_MODE NXRETRY_CONFIG
readonly STUB=127.0.0.1

# records NAME TYPE [DIG OPTION...]: "STATUS" then one "TTL TYPE RDATA" line per answer record, as
# the stub answers.
records() {
	local name=$1 type=$2 out
	shift 2
	out=$(dig @"$STUB" +tries=1 +timeout=10 "$@" "$name" "$type" +noall +comments +answer)
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out"
	awk '!/^;/ && NF >= 5 { line = $2 " " $4; for (i = 5; i <= NF; i++) line = line " " $i; print line }' <<<"$out"
}

# deny NAME TYPE: the resolver caches NXDOMAIN for NAME (asked directly, not through the stub).
deny() {
	expect_eq "$1 $2: the resolver caches its NXDOMAIN" NXDOMAIN "$("$DNSLAB" resolve "$1" "$2")"
}

test_other_types_bypassed() {
	require_stub || return 1
	stub_start "$STUB" --upstream "$NXLAB_RESOLVER" || return 1
	deny txt.lab.test TXT
	deny mx.lab.test MX
	deny _sip._tcp.srv.lab.test SRV
	deny caa.lab.test CAA
	deny alias-txt.lab.test TXT
	"$DNSLAB" add txt.lab.test TXT '"v=spf1 -all" "two words"' 120
	"$DNSLAB" add mx.lab.test MX '10 www.lab.test.' 240
	"$DNSLAB" add _sip._tcp.srv.lab.test SRV '5 10 5060 www.lab.test.' 180
	"$DNSLAB" add caa.lab.test CAA '0 issue "letsencrypt.org"' 90
	"$DNSLAB" add alias-txt.lab.test CNAME txt.lab.test. 200
	expect_eq "the resolver still denies" "NXDOMAIN NXDOMAIN" \
		"$("$DNSLAB" resolve txt.lab.test TXT) $("$DNSLAB" resolve mx.lab.test MX)"
	expect_eq "TXT" "NOERROR
120 TXT \"v=spf1 -all\" \"two words\"" "$(records txt.lab.test TXT)"
	expect_eq "MX over TCP" "NOERROR
240 MX 10 www.lab.test." "$(records mx.lab.test MX +tcp)"
	expect_eq "SRV" "NOERROR
180 SRV 5 10 5060 www.lab.test." "$(records _sip._tcp.srv.lab.test SRV)"
	expect_eq "CAA without EDNS" "NOERROR
90 CAA 0 issue \"letsencrypt.org\"" "$(records caa.lab.test CAA +noedns)"
	# The CNAME carries the chain's TTL (the smallest), the TXT its own.
	expect_eq "CNAME to a TXT name" "NOERROR
120 CNAME txt.lab.test.
120 TXT \"v=spf1 -all\" \"two words\"" "$(records alias-txt.lab.test TXT)"
	expect_eq "one bypass line per question" 1 \
		"$(grep -c 'mx.lab.test: stale negative answer bypassed: .* answered 1 record of type 15' \
			"$NXLAB_DIR/stub-$STUB-53.log")"
	stub_stop "$STUB_PID"
	expect_eq "stub exit" 0 "$STUB_RC"
}

# ANY (a meta type) is relayed; a resolver's NODATA for TXT stands: the name exists there, and
# browsers ask HTTPS records of every name, most of which have none (docs/design.md).
test_any_and_nodata_relayed() {
	require_stub || return 1
	stub_start "$STUB" --upstream "$NXLAB_RESOLVER" || return 1
	"$DNSLAB" add plain.lab.test A 192.0.2.70
	expect_eq "the resolver's NODATA" NOERROR "$("$DNSLAB" resolve plain.lab.test TXT)"
	"$DNSLAB" add plain.lab.test TXT '"late"'
	expect_eq "TXT NODATA relayed" "NOERROR" "$(records plain.lab.test TXT)"
	deny anyname.lab.test ANY
	"$DNSLAB" add anyname.lab.test TXT '"any"'
	expect_eq "ANY relayed as denied" "NXDOMAIN" "$(records anyname.lab.test ANY)"
	expect_eq "no bypass line" 0 "$(grep -c 'bypassed' "$NXLAB_DIR/stub-$STUB-53.log" || true)"
	stub_stop "$STUB_PID"
}

run_tests test_other_types_bypassed test_any_and_nodata_relayed
