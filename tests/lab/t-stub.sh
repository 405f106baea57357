#!/usr/bin/env bash
# nxretry --serve, the stub resolver, on 127.0.0.1:53 in front of the lab's Unbound: stale names
# under the zone bypassed (A, AAAA, a CNAME chain), other answers relayed as Unbound gave them, a
# name that never appears NXDOMAIN soon after the deadline, one authority wait for a question asked
# twice and for a name's A and AAAA, malformed queries answered or dropped, and SIGTERM within a second.
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
	serve --upstream "$NXLAB_RESOLVER" "$@"
	wait_for "stub answers" 3000 ask_ok
}

# serve ARGS: the stub on 127.0.0.1:53 with these upstreams (none of them need answer).
serve() {
	"$NXRETRY" --serve --listen 127.0.0.1:53 "$@" 2>"$STUB_LOG" &
	STUB_PID=$!
	trap stop_stub EXIT
	sleep 0.3
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
	# shellcheck disable=SC2046 # one word per record's data
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
	local rr ttl
	rr=$(grep -v '^;' <<<"$out" | grep .)
	expect_eq "record" "FrEsH.LaB.TeSt. IN A 192.0.2.61" "$(awk '{print $1, $3, $4, $5}' <<<"$rr")"
	# The authority's TTL (300), counted down while the engine's memo keeps the answer.
	ttl=$(awk '{print $2}' <<<"$rr")
	expect_between "TTL" 290 301 "$ttl"
	sleep 2.1
	rr=$(dig @127.0.0.1 +tries=1 fresh.lab.test A +noall +answer)
	expect_between "TTL 2.1 s later" $((ttl - 3)) $((ttl - 1)) "$(awk '{print $2}' <<<"$rr")"
	# One line per bypass: A and AAAA are one lookup of both types, whose outcome the engine's memo
	# keeps for the AAAA question and the third.
	expect_eq "one bypass line per lookup" 1 "$(grep -c 'fresh.lab.test: stale negative answer bypassed' "$STUB_LOG")"
	stop_stub
}

# dig's view of a reply without its id, timing and TTLs (the resolver's cache counts them down).
shape() {
	dig "@$1" +tries=1 +timeout=5 "${@:2}" +noall +comments +answer +authority +additional |
		sed -e 's/id: [0-9]*/id/' -e '/Query time/d' -e '/; COOKIE: /d' | awk -F'\t' -v OFS='\t' 'NF >= 5 {$(NF-3)=""} {print}'
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

# two_clients NAME TYPE1 GAP TYPE2 WAIT ADDR: one client asks NAME TYPE1, another TYPE2 GAP s
# later, and WAIT s after that NAME gets the A record ADDR; prints each client's answer (ask), in order.
two_clients() {
	local name=$1 a b pa pb
	a=$(mktemp) b=$(mktemp)
	ask "$name" "$2" >"$a" &
	pa=$!
	sleep "$3"
	ask "$name" "$4" >"$b" &
	pb=$!
	sleep "$5"
	"$DNSLAB" add "$name" A "$6"
	wait "$pa" "$pb"
	cat "$a" "$b"
	rm -f "$a" "$b"
}

test_retry_joins_wait() {
	start_stub
	cache_denial joined.lab.test
	expect_eq "both clients" "$(printf '%s\n' "NOERROR 192.0.2.63" "NOERROR 192.0.2.63")" \
		"$(two_clients joined.lab.test A 0.3 A 0.7 192.0.2.63)"
	expect_eq "one wait for both" 1 "$(grep -c 'joined.lab.test: stale negative answer bypassed' "$STUB_LOG")"
	stop_stub
}

# A client's A and AAAA questions for one name are one engine lookup of both types: one wait, one
# bypass line, and each question answered from it (the AAAA one with no data: the name has only A).
test_address_pair_one_wait() {
	start_stub
	cache_denial pair.lab.test
	expect_eq "A, then AAAA (the name has none)" "$(printf '%s\n' "NOERROR 192.0.2.64" "NOERROR")" \
		"$(two_clients pair.lab.test A 0 AAAA 1 192.0.2.64)"
	expect_eq "one wait for both" 1 "$(grep -c 'pair.lab.test: stale negative answer bypassed' "$STUB_LOG")"
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

# held: one socket sends its query, 1,030 more send it once, then the first sends it again (as glibc
# resends); after the record is added, prints "RCODE ANSWERS" per reply received, the first socket's first.
held() {
	python3 - "$1" "$2" <<'PY'
import resource, socket, struct, subprocess, sys, time
name, dnslab = sys.argv[1], sys.argv[2]
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0\0\1\0\1"
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(1031)]
socks[0].sendto(q, ("127.0.0.1", 53))
time.sleep(0.2)  # its wait runs: every copy after it joins
for s in socks[1:]:
    s.sendto(q, ("127.0.0.1", 53))
socks[0].sendto(q, ("127.0.0.1", 53))
time.sleep(0.5)
subprocess.run([dnslab, "add", name, "A", "192.0.2.65"], check=True)
for s in socks:
    s.settimeout(3)
    got = []
    while True:
        try:
            r = s.recv(4096)
        except socket.timeout:
            break
        got.append("%d %d" % (r[3] & 15, r[6] << 8 | r[7]))
        s.settimeout(0.3 if s is socks[0] else 0.01)  # a second reply would come with the first
    print(",".join(got) or "none")
PY
}

test_held_copies() {
	start_stub
	cache_denial held.lab.test
	local out
	out=$(held held.lab.test "$DNSLAB")
	expect_eq "a resend is answered once" "0 1" "$(head -n 1 <<<"$out")"
	expect_eq "1,024 copies held, the others get the upstream's NXDOMAIN" \
		"$(printf '   1023 0 1\n      7 3 0')" "$(tail -n +2 <<<"$out" | sort | uniq -c)"
	expect_eq "said once" 1 "$(grep -c 'copies of held.lab.test wait already' "$STUB_LOG")"
	stop_stub
}

# tcp_pipelined NAME...: one TCP connection, every query written at once (ids 1, 2...); prints
# "ID RCODE ANSWERS" per reply in the order they came.
tcp_pipelined() {
	python3 - "$@" <<'PY'
import socket, struct, sys
c = socket.create_connection(("127.0.0.1", 53))
c.settimeout(10)
out = b""
for i, name in enumerate(sys.argv[1:], 1):
    q = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0\0\1\0\1"
    out += struct.pack(">H", len(q)) + q
c.sendall(out)
buf = b""
for _ in sys.argv[1:]:
    while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
        more = c.recv(4096)
        if not more:
            sys.exit("closed")
        buf += more
    n = struct.unpack(">H", buf[:2])[0]
    r, buf = buf[2:2 + n], buf[2 + n:]
    print(r[0] << 8 | r[1], r[3] & 15, r[6] << 8 | r[7])
PY
}

test_tcp_pipelined() {
	start_stub
	cache_denial piped.lab.test
	(sleep 1 && "$DNSLAB" add piped.lab.test A 192.0.2.66) &
	local adder=$!
	expect_eq "answered as they complete: the held one last" "$(printf '2 0 1\n3 0 1\n1 0 1')" \
		"$(tcp_pipelined piped.lab.test www.lab.test ns1.lab.test)"
	wait "$adder"
	stop_stub
}

test_bounds() {
	start_stub --max-waits 1 --max-tcp 2
	cache_denial bound1.lab.test
	cache_denial bound2.lab.test
	ask bound1.lab.test A >/dev/null &
	local held=$!
	sleep 0.3
	expect_eq "a second wait past --max-waits 1: the upstream's answer" NXDOMAIN "$(ask bound2.lab.test A)"
	expect_eq "said" 1 "$(grep -c 'waits in flight (--max-waits)' "$STUB_LOG")"
	exec 7<>/dev/tcp/127.0.0.1/53 8<>/dev/tcp/127.0.0.1/53
	sleep 0.2
	expect_eq "a third TCP connection past --max-tcp 2 is closed" "" "$(dig @127.0.0.1 +tcp +tries=1 +short www.lab.test 2>/dev/null | grep -v '^;')"
	exec 7>&- 8>&-
	sleep 0.2
	expect_eq "served again once they are gone" 192.0.2.10 "$(dig @127.0.0.1 +tcp +tries=1 +short www.lab.test)"
	wait "$held"
	stop_stub
}

# 400 distinct absent names wait at once (a thread each): every one is answered (NXDOMAIN, or the
# resolver's SERVFAIL when the load makes it give up), the threads end, and the heap they used goes
# back (measured with 600: 58 MB resident after them without malloc_trim, 9 MB with).
test_many_waits_memory() {
	start_stub
	python3 - <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(400):
    time.sleep(0.002)  # paced: a burst overflows socket buffers on the way (a client would resend)
    name = "absent-%d.lab.test" % i
    s.sendto(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) +
             b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0\0\1\0\1", ("127.0.0.1", 53))
s.settimeout(10)
got = {}
while len(got) < 400:
    r = s.recv(4096)
    got[r[0] << 8 | r[1]] = r[3] & 15
sys.exit(0 if set(got.values()) <= {2, 3} else "rcodes %s" % set(got.values()))
PY
	sleep 0.2
	expect_eq "threads after" 1 "$(awk '/^Threads/ {print $2}' "/proc/$STUB_PID/status")"
	# A sanitizer's quarantine and shadow memory are not the stub's.
	if [ -z "$RUNTIME" ]; then
		expect_between "resident kB after" 0 15000 "$(awk '/^VmRSS/ {print $2}' "/proc/$STUB_PID/status")"
	fi
	stop_stub
}

# fake_upstream ADDR MODE: a server on ADDR:53 that never answers (silent), answers SERVFAIL to
# everything (servfail), FORMERR without the question (formerr), or NOERROR 0.3 s after it logged
# the query in $NXLAB_DIR/fake-queries (slow), until killed.
fake_upstream() {
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
while True:
    q, peer = s.recvfrom(4096)
    if sys.argv[2] == "servfail":
        s.sendto(q[:2] + bytes([0x81, 0x82]) + q[4:], peer)
    elif sys.argv[2] == "formerr":  # the header alone, every count 0
        s.sendto(q[:2] + bytes([0x81, 0x81]) + bytes(8), peer)
    elif sys.argv[2] == "slow":  # each query logged, then an empty NOERROR 0.3 s later
        with open(os.environ["NXLAB_DIR"] + "/fake-queries", "a") as log:
            log.write(q[2:].hex() + "\n")
        time.sleep(0.3)
        s.sendto(q[:2] + bytes([0x81 | (q[2] & 1), 0x80]) + q[4:], peer)
PY
	sleep 0.3
}

# elapsed_ask NAME: "STATUS DATA... MS" as the stub answers.
elapsed_ask() {
	local start out
	start=$(now_ms)
	out=$(ask "$1" A)
	echo "$out $(($(now_ms) - start))"
}

test_upstream_failover() {
	local out fake
	fake_upstream 127.0.0.8 silent
	fake=$!
	serve --upstream 127.0.0.8 --upstream "$NXLAB_RESOLVER"
	out=$(elapsed_ask www.lab.test)
	expect_eq "a silent first upstream: the next one's answer" "NOERROR 192.0.2.10" "${out% *}"
	expect_between "after one try (1.5 s)" 1400 2500 "${out##* }"
	out=$(elapsed_ask ns1.lab.test)
	expect_between "then the one that answered is asked first" 0 500 "${out##* }"
	stop_stub
	serve --upstream 127.0.0.9 --upstream "$NXLAB_RESOLVER"
	out=$(elapsed_ask www.lab.test)
	expect_eq "a refusing first upstream (ICMP): the next at once" "NOERROR 192.0.2.10" "${out% *}"
	expect_between "ms" 0 500 "${out##* }"
	stop_stub
	serve --upstream 127.0.0.8
	out=$(elapsed_ask www.lab.test)
	expect_eq "every upstream silent: SERVFAIL after 3 tries" SERVFAIL "${out% *}"
	expect_between "ms" 4400 5500 "${out##* }"
	stop_stub
	kill "$fake"
	fake_upstream 127.0.0.8 servfail
	fake=$!
	serve --upstream 127.0.0.8 --upstream "$NXLAB_RESOLVER"
	out=$(elapsed_ask fresh-servfail.lab.test)
	expect_eq "SERVFAIL relayed as it is, no bypass" SERVFAIL "${out% *}"
	expect_between "at once" 0 500 "${out##* }"
	stop_stub
	kill "$fake"
	# FORMERR with no question (an upstream that could not read the query): relayed at once, not
	# taken for a stray reply and tried 3 times.
	fake_upstream 127.0.0.8 formerr
	fake=$!
	serve --upstream 127.0.0.8
	out=$(elapsed_ask www.lab.test)
	expect_eq "a FORMERR without question relayed" FORMERR "${out% *}"
	expect_between "at once" 0 500 "${out##* }"
	stop_stub
	kill "$fake"
}

# merge_clients N: N clients, each on a socket of its own, send the same query (A of merged.example,
# outside the zones, id 1000 + i), and one more the same with RD clear; prints "answered K ids-ok J"
# for the N, then "rd0 answered" or "rd0 none".
merge_clients() {
	python3 - "$1" <<'PY'
import socket, struct, sys
n = int(sys.argv[1])
def query(qid, flags):
    name = b"".join(bytes([len(l)]) + l for l in b"merged.example".split(b".")) + b"\0"
    return struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
socks = []
for i in range(n + 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(query(1000 + i, 0x0100 if i < n else 0), ("127.0.0.1", 53))
    socks.append(s)
answered = ids = 0
for i, s in enumerate(socks[:n]):
    try:
        r = s.recv(4096)
        answered += 1
        ids += struct.unpack(">H", r[:2])[0] == 1000 + i and r[3] & 15 == 0
    except socket.timeout:
        pass
try:
    socks[n].recv(4096)
    rd0 = "answered"
except socket.timeout:
    rd0 = "none"
print("answered %d ids-ok %d rd0 %s" % (answered, ids, rd0))
PY
}

# The same query from many clients while it is in flight is one query upstream: each client gets
# the reply with its own id; a query that differs in one bit (RD) is not merged.
test_merged_queries() {
	local fake
	fake_upstream 127.0.0.8 slow
	fake=$!
	serve --upstream 127.0.0.8
	expect_eq "50 clients answered, each with its id" "answered 50 ids-ok 50 rd0 answered" "$(merge_clients 50)"
	expect_eq "queries the upstream got: one, and the RD-clear one" 2 "$(wc -l <"$NXLAB_DIR/fake-queries")"
	stop_stub
	kill "$fake"
}

# The command line's outcomes: READY=1 to NOTIFY_SOCKET once it serves, IPv6, exit 1 when the address
# is taken, exit 2 for a remote address without --allow-remote and when no upstream is left.
test_command_line() {
	local notified rc=0
	notified=$(mktemp)
	python3 - "$notified" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0nxretry-t-stub")
open(sys.argv[1] + ".bound", "w").close()
s.settimeout(5)
open(sys.argv[1], "w").write(s.recv(64).decode())
PY
	local listener=$!
	for _ in $(seq 50); do [ -e "$notified.bound" ] && break; sleep 0.1; done
	export NOTIFY_SOCKET=@nxretry-t-stub
	serve --listen '[::1]:53' --upstream "$NXLAB_RESOLVER"
	unset NOTIFY_SOCKET
	wait "$listener" || true
	expect_eq "sd_notify" READY=1 "$(cat "$notified")"
	rm -f "$notified" "$notified.bound"
	expect_eq "IPv6" 192.0.2.10 "$(dig @::1 +tries=1 +short www.lab.test)"
	"$NXRETRY" --serve --listen 127.0.0.1:53 --upstream "$NXLAB_RESOLVER" 2>"$NXLAB_DIR/second.log" || rc=$?
	expect_eq "address taken: exit 1" 1 "$rc"
	expect_eq "one line" "nxretry: cannot listen on 127.0.0.1 (udp): Address already in use" \
		"$(cat "$NXLAB_DIR/second.log")"
	stop_stub
	rc=0
	"$NXRETRY" --serve --listen 192.0.2.1:53 --upstream "$NXLAB_RESOLVER" 2>/dev/null || rc=$?
	expect_eq "remote without --allow-remote: exit 2" 2 "$rc"
	rc=0
	"$NXRETRY" --serve --listen 127.0.0.1:53 --upstream 127.0.0.1 2>/dev/null || rc=$?
	expect_eq "its own address as the only upstream: exit 2" 2 "$rc"
	rc=0
	"$NXRETRY" --listen 127.0.0.1:53 true 2>/dev/null || rc=$?
	expect_eq "--listen without --serve: exit 2" 2 "$rc"
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

# Mode first: the authority is asked before the upstream, so a name too young never reaches its cache.
test_first_mode() {
	start_stub --mode first
	"$DNSLAB" add early.lab.test A 192.0.2.64
	expect_eq "A" "NOERROR 192.0.2.64" "$(ask early.lab.test A)"
	if resolver_saw early.lab.test; then fail "the resolver was asked for early.lab.test"; fi
	expect_eq "an existing name: the authority's answer" "NOERROR 127.0.53.1" "$(ask ns1.lab.test A)"
	stop_stub
}

# resolv.conf names a resolver that is not there (or the stub itself): the zone's servers are found
# through the upstreams.
test_discovery_through_upstreams() {
	printf 'nameserver 127.0.0.7\n' >"$NXLAB_DIR/nowhere.conf"
	mount --bind "$NXLAB_DIR/nowhere.conf" /etc/resolv.conf
	start_stub
	cache_denial through.lab.test
	"$DNSLAB" add through.lab.test A 192.0.2.67
	expect_eq "bypassed" "NOERROR 192.0.2.67" "$(ask through.lab.test A)"
	stop_stub
	umount /etc/resolv.conf
}

run_tests test_first_mode test_stale_names_bypassed test_others_relayed test_absent_ends_nxdomain test_retry_joins_wait \
	test_address_pair_one_wait \
	test_held_copies test_tcp_pipelined test_bounds test_many_waits_memory test_upstream_failover test_merged_queries \
	test_command_line test_discovery_through_upstreams test_malformed test_sigterm
