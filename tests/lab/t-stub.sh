#!/usr/bin/env bash
# nxretry --serve, the stub resolver, on 127.0.0.1:53 in front of the lab's Unbound: stale names
# under the zone bypassed (A, AAAA, a CNAME chain), other answers relayed as Unbound gave them, a
# name that never appears NXDOMAIN soon after the deadline, one authority wait for a question asked
# twice, malformed queries answered or dropped, and SIGTERM within a second.
# lab timeout: 150
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

NXRETRY=${LIB_FILE%/*}/nxretry
STUB_LOG=$NXLAB_DIR/stub.log
export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=3 NXRETRY_LOG=info
STUB_PID=

# start_stub [ARGS]: the stub on 127.0.0.1:53, forwarding to the lab's resolver; returns once it answers.
start_stub() {
	"$NXRETRY" --serve --listen 127.0.0.1:53 --upstream "$NXLAB_RESOLVER" "$@" 2>"$STUB_LOG" &
	STUB_PID=$!
	trap stop_stub EXIT
	wait_for "stub answers" 3000 ask_ok
}

ask_ok() {
	dig @127.0.0.1 +tries=1 +timeout=1 www.lab.test A >/dev/null 2>&1
}

stop_stub() {
	if [ -n "$STUB_PID" ]; then
		kill -TERM "$STUB_PID" 2>/dev/null || true
		wait "$STUB_PID" || true
		STUB_PID=
	fi
}

# ask NAME TYPE [DIG OPTIONS]: "STATUS DATA..." as the stub answers.
ask() {
	local name=$1 type=$2 out status
	shift 2
	out=$(dig @127.0.0.1 +tries=1 +timeout=10 "$@" "$name" "$type" +noall +comments +answer)
	status=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out")
	echo "$status" $(awk '!/^;/ && NF >= 5 {print $NF}' <<<"$out")
}

# cache_denial NAME: the resolver caches NXDOMAIN for NAME (A and AAAA) before the records exist.
cache_denial() {
	expect_eq "$1: denied early" "NXDOMAIN NXDOMAIN" \
		"$("$DNSLAB" resolve "$1" A) $("$DNSLAB" resolve "$1" AAAA)"
}

test_stale_names_bypassed() {
	start_stub
	cache_denial fresh.lab.test
	cache_denial alias.lab.test
	cache_denial target.lab.test
	"$DNSLAB" add fresh.lab.test A 192.0.2.61
	"$DNSLAB" add fresh.lab.test AAAA 2001:db8::61
	"$DNSLAB" add alias.lab.test CNAME target.lab.test
	"$DNSLAB" add target.lab.test A 192.0.2.62
	expect_eq "resolver still denies" NXDOMAIN "$("$DNSLAB" resolve fresh.lab.test A)"
	expect_eq "A" "NOERROR 192.0.2.61" "$(ask fresh.lab.test A)"
	expect_eq "AAAA over TCP" "NOERROR 2001:db8::61" "$(ask fresh.lab.test AAAA +tcp)"
	expect_eq "CNAME chain" "NOERROR target.lab.test. 192.0.2.62" "$(ask alias.lab.test A)"
	# The question as the client wrote it, RA=1 and AA=0, the authority's TTL, and EDNS answered.
	local out
	out=$(dig @127.0.0.1 +tries=1 FrEsH.LaB.TeSt A +noall +comments +question +answer)
	expect_eq "letter case echoed" ";FrEsH.LaB.TeSt.			IN	A" "$(grep '^;FrEsH' <<<"$out")"
	expect_eq "flags" ";; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1" \
		"$(grep '^;; flags' <<<"$out")"
	expect_eq "record" "FrEsH.LaB.TeSt.		300	IN	A	192.0.2.61" "$(grep -v '^;' <<<"$out" | grep .)"
	# One line per bypass: A and AAAA; the third question is the engine's memo.
	expect_eq "one bypass line per lookup" 2 "$(grep -c 'fresh.lab.test: stale negative answer bypassed' "$STUB_LOG")"
	stop_stub
}

# dig's view of a reply without its id, timing and TTLs (the resolver's cache counts them down).
shape() {
	dig "@$1" +tries=1 +timeout=5 "${@:2}" +noall +comments +answer +authority +additional |
		sed -e 's/id: [0-9]*/id/' -e '/Query time/d' | awk -F'\t' -v OFS='\t' 'NF >= 5 {$(NF-3)=""} {print}'
}

test_others_relayed() {
	start_stub
	"$DNSLAB" add txt.lab.test TXT '"hello stub"'
	# Over 1232 bytes: truncated over UDP, the client asks again over TCP (the stub then asks over TCP).
	local big q ref
	big=$(printf '"%0200d" ' 1 2 3 4 5 6 7 8)
	"$DNSLAB" add big.lab.test TXT "$big"
	for q in "www.lab.test A" "www.lab.test AAAA" "txt.lab.test TXT" "www.lab.test MX" \
		"nothing.lab.test TXT" "lab.test SOA" "lab.test NS" "www.lab.test A +dnssec" "www.lab.test A +noedns" \
		"big.lab.test TXT" "big.lab.test TXT +tcp" "big.lab.test TXT +ignore"; do
		# shellcheck disable=SC2086 # q is a name, a type and options
		ref=$(shape "$NXLAB_RESOLVER" $q)
		expect_eq "[$q] a reply" 1 "$(grep -c 'status: ' <<<"$ref")"
		# shellcheck disable=SC2086
		expect_eq "[$q] as the resolver answers" "$ref" "$(shape 127.0.0.1 $q)"
	done
	expect_eq "the big TXT came whole" 8 "$(shape 127.0.0.1 big.lab.test TXT | grep -o '"0*[1-8]"' | wc -l)"
	stop_stub
}

test_absent_ends_nxdomain() {
	start_stub
	local start ms out
	start=$(now_ms)
	out=$(ask never.lab.test A)
	ms=$(($(now_ms) - start))
	expect_eq "status" NXDOMAIN "$out"
	expect_between "ms after NXRETRY_TIMEOUT=3" 3000 4500 "$ms"
	stop_stub
}

test_retry_joins_wait() {
	start_stub
	cache_denial joined.lab.test
	local a b
	a=$(mktemp) b=$(mktemp)
	ask joined.lab.test A >"$a" &
	local pa=$!
	sleep 0.3
	ask joined.lab.test A >"$b" &
	local pb=$!
	sleep 0.7
	"$DNSLAB" add joined.lab.test A 192.0.2.63
	wait "$pa" "$pb"
	expect_eq "first client" "NOERROR 192.0.2.63" "$(cat "$a")"
	expect_eq "second client" "NOERROR 192.0.2.63" "$(cat "$b")"
	expect_eq "one wait for both" 1 "$(grep -c 'joined.lab.test: stale negative answer bypassed' "$STUB_LOG")"
	rm -f "$a" "$b"
	stop_stub
}

# raw: sends each hex message of stdin over UDP to the stub, prints the reply's rcode or "none".
raw() {
	python3 -c '
import socket, sys
for line in sys.stdin:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    s.sendto(bytes.fromhex(line.strip()), ("127.0.0.1", 53))
    try:
        r = s.recv(4096)
        print(r[3] & 15)
    except socket.timeout:
        print("none")
'
}

test_malformed() {
	start_stub
	local q=00000100000100000000000003777777036c616204746573740000010001
	expect_eq "rcodes: short, response, 2 questions, opcode 2, cut name, name pointer" \
		"$(printf '%s\n' none none 1 4 1 1)" "$(printf '%s\n' 0000 "0000810000010000000000000377777703" \
			0000010000020000000000000377777703 0000110000010000000000000377777703 \
			00000100000100000000000003777777 000001000001000000000000c00c00010001 | raw)"
	expect_eq "a whole query still answered" 0 "$(echo "$q" | raw)"
	# Half a TCP frame, and the client hangs: the others are answered meanwhile.
	exec 7<>/dev/tcp/127.0.0.1/53
	printf '\000\040\000\001' >&7
	expect_eq "answered beside a half frame" "NOERROR 192.0.2.10" "$(ask www.lab.test A)"
	expect_eq "TCP beside it" "NOERROR 192.0.2.10" "$(ask www.lab.test A +tcp)"
	exec 7>&-
	kill -0 "$STUB_PID"
	stop_stub
}

test_sigterm() {
	start_stub
	ask waiting.lab.test A >/dev/null &
	local client=$! start rc=0
	sleep 0.5
	start=$(now_ms)
	kill -TERM "$STUB_PID"
	wait "$STUB_PID" || rc=$?
	expect_between "exit within a second" 0 1000 $(($(now_ms) - start))
	expect_eq "exit status" 0 "$rc"
	STUB_PID=
	kill "$client" 2>/dev/null || true
}

run_tests test_stale_names_bypassed test_others_relayed test_absent_ends_nxdomain test_retry_joins_wait \
	test_malformed test_sigterm
