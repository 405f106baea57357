#!/usr/bin/env bash
# lab timeout: 300
# Real clients that no preload reaches get a name created after the caching resolver cached its
# NXDOMAIN, through `nxretry --serve` on 127.0.0.1:53 in front of that resolver, named by the lab's
# resolv.conf (issue 15, "How it must be shown"): a getaddrinfo client linked with gcc -static, a
# CGO_ENABLED=0 Go program (net.LookupHost, then net/http GET), Node's dns.resolve4, dig, and Debian's
# chromium --headless fetching a page (its built-in DNS client, then once with AsyncDns disabled, so
# getaddrinfo). Each client also asks the resolver directly and must still fail: the success is the
# stub's. A name that never appears ends with NXDOMAIN for each client soon after NXRETRY_TIMEOUT;
# test_never prints how long each took.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/stub.sh
. "$(dirname "$0")/stub.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
readonly TOP LAB=$TOP/tests/lab BIN=$NXLAB_DIR/bin
readonly STUB=127.0.0.1 WEB=127.0.53.90 PORT=8080 PAGE="nxretry stub lab page"
readonly TIMEOUT_S=6 CLIENT_LIMIT=40
# A name that never appears: NXDOMAIN from TIMEOUT_S - 1 s after the client starts (the stub waited
# for the authority until its deadline, counted from the client's first query) to TIMEOUT_S + 4 s.
# Chromium takes 2 to 5 s more to start and to end on a loaded machine.
readonly NEVER_MIN_MS=$(((TIMEOUT_S - 1) * 1000)) NEVER_MAX_MS=$(((TIMEOUT_S + 4) * 1000))
readonly CHROMIUM_MAX_MS=$(((TIMEOUT_S + 8) * 1000))
readonly LATE_MS=4000

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=$TIMEOUT_S
unset NXRETRY_MODE NXRETRY_CONFIG NXRETRY_LOG
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'
PYTHON=/usr/bin/python3
if [ ! -x "$PYTHON" ]; then PYTHON=$(command -v python3 || true); fi
readonly PYTHON
CHROMIUM=$(command -v chromium || true)
NODE=$(command -v node || command -v nodejs || true)
readonly CHROMIUM NODE

# client FUNCTION ARGS...: one of the client functions below (each bounds its program's time with
# `limit`), stdout and stderr together, then "exit N" when it failed.
client() {
	"$@" 2>&1 || echo "exit $?"
}

limit() {
	timeout -k 2 "$CLIENT_LIMIT" "$@"
}

# direct CMD...: client CMD with the lab's resolv.conf naming the caching resolver instead of the stub.
direct() {
	resolv_conf "$NXLAB_RESOLVER"
	client "$@"
	resolv_conf "$STUB"
}

# --- the clients ------------------------------------------------------------------------------------

# gai_static NAME: build/gai's source linked with gcc -static (static glibc reads resolv.conf and
# speaks DNS itself), AF_UNSPEC, stream sockets.
gai_static() {
	local rc=0
	limit "$BIN/gai-static" -s stream "$1" | strip_ms || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then return "$rc"; fi
}

# go_fetch NAME URL|-: tests/lab/fetch.go built with CGO_ENABLED=0.
go_fetch() {
	limit "$BIN/fetch" "$@"
}

readonly NODE_RESOLVE4='
require("dns").resolve4(process.argv[1], (err, addrs) => console.log(err ? err.code : addrs.join(" ")));'

node_resolve4() {
	limit "$NODE" -e "$NODE_RESOLVE4" "$1"
}

# dig_a NAME: "STATUS ADDR..." (dig's defaults: resolv.conf's server, 5 s per try, 3 tries).
dig_a() {
	local out
	out=$(limit dig "$1" A +noall +comments +answer)
	echo "$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out")$(awk '$4 == "A" { printf " %s", $5 }' <<<"$out")"
}

# chromium_get NAME NETLOG [FLAG...]: chromium --headless prints the page at http://NAME:PORT/ (its
# DOM); NETLOG gets its net log.
# A page chromium abandoned with ERR_NETWORK_CHANGED (-21: its own watcher of the namespace's links
# and files cancelled the request, 1 run in 5 here) is asked once more, with a note under the test;
# any other failure stands.
chromium_get() {
	local name=$1 log=$2 page try
	shift 2
	for try in 1 2; do
		page=$(limit "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync --no-proxy-server \
			--user-data-dir="$(mktemp -d "$NXLAB_DIR/chromium.XXXXXX")" --log-net-log="$log" "$@" \
			--dump-dom "http://$name:$PORT/" 2>/dev/null | sed -n 's/.*<body>\(.*\)/\1/p')
		if [ -n "$page" ] || [ "$try" = 2 ] || ! grep -q '"net_error":-21' "$log" 2>/dev/null; then
			break
		fi
		echo "    note: chromium: $name: ERR_NETWORK_CHANGED, asked again" >&3
	done
	printf '%s\n' "$page" | sed '/^$/d'
}

# netlog_dns LOG NAME: what chromium's net log says of NAME's resolution: "builtin A: rcode=R answers=N"
# for each reply its built-in client got to an A query ("timeout" for a try that got none; "none" when
# it sent no A query), and whether
# getaddrinfo was asked too ("getaddrinfo: yes|no"; Chromium 156 falls back to it after a built-in
# NXDOMAIN).
readonly NETLOG_DNS='
import json, sys
log, name = json.load(open(sys.argv[1])), sys.argv[2]
types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
jobs, queries, replies, system = set(), {}, set(), False
for e in log["events"]:
    t, p, source = types.get(e["type"], ""), e.get("params", {}), e["source"]["id"]
    if t == "HOST_RESOLVER_MANAGER_JOB" and e.get("phase") == 1 and "//" + name + ":" in p.get("host", ""):
        jobs.add(source)
    elif t == "DNS_TRANSACTION" and e.get("phase") == 1 and p.get("hostname") == name:
        queries[source] = p.get("query_type")
    elif t == "DNS_TRANSACTION_RESPONSE" and queries.get(source) == 1:
        replies.add("rcode=%d answers=%d" % (p["rcode"], p["answer_count"]) if "rcode" in p else "timeout")
    elif t == "HOST_RESOLVER_SYSTEM_TASK" and source in jobs:
        system = True
print("builtin A: %s; getaddrinfo: %s" % (", ".join(sorted(replies)) or "none", "yes" if system else "no"))'

netlog_dns() {
	"$PYTHON" -c "$NETLOG_DNS" "$@" 2>&1 || echo "netlog unreadable"
}

# --- setup --------------------------------------------------------------------------------------------

# Built once for the file, into $BIN; a client that cannot be built is skipped by its test with the
# reason in $BIN/NAME.why.
build_clients() {
	mkdir -p "$BIN"
	if ! gcc -static -O2 -Wall -Wextra -Werror -o "$BIN/gai-static" "$LAB/gai.c" >"$BIN/gai-static.why" 2>&1; then
		sed -i '1i gcc -static failed (is libc6-dev installed?):' "$BIN/gai-static.why"
	fi
	if ! command -v go >/dev/null; then
		echo "go is not installed (Debian package golang-go)" >"$BIN/fetch.why"
	else
		if [ -z "${HOME:-}" ] && [ -z "${GOCACHE:-}" ]; then export GOCACHE=$BIN/gocache; fi
		(cd "$BIN" && CGO_ENABLED=0 GOFLAGS='' GO111MODULE=off go build -o fetch "$LAB/fetch.go") \
			>"$BIN/fetch.why" 2>&1 || sed -i '1i go build failed:' "$BIN/fetch.why"
	fi
}

need_client() {
	if [ ! -x "$BIN/$1" ]; then
		if [ "$1" = gai-static ] && grep -q . "$BIN/$1.why"; then
			fail "$(cat "$BIN/$1.why")"
			return 1
		fi
		skip "$(head -n 3 "$BIN/$1.why")"
	fi
}

HTTP_PID='' FILE_STUB=''
start_file() {
	mkdir -p "$NXLAB_DIR/www"
	echo "$PAGE" >"$NXLAB_DIR/www/index.html"
	if [ -n "$PYTHON" ]; then
		"$PYTHON" -m http.server --bind "$WEB" --directory "$NXLAB_DIR/www" "$PORT" >"$NXLAB_DIR/http.log" 2>&1 &
		HTTP_PID=$!
	fi
	build_clients
	if stub_start "$STUB" --upstream "$NXLAB_RESOLVER"; then FILE_STUB=$STUB_PID; fi
	FAILS=0 # a stub that did not start fails each test (need_stub), not the file
	resolv_conf "$STUB"
}

stop_file() {
	if [ -n "$HTTP_PID" ]; then kill "$HTTP_PID" 2>/dev/null || true; fi
	if [ -n "$FILE_STUB" ]; then kill "$FILE_STUB" 2>/dev/null || true; fi
}

need_stub() {
	require_stub
	if [ -z "$FILE_STUB" ] || ! kill -0 "$FILE_STUB" 2>/dev/null; then
		fail "nxretry --serve is not running (see $NXLAB_DIR/stub-$STUB-53.log: $(cat "$NXLAB_DIR/stub-$STUB-53.log"))"
		return 1
	fi
}

http_listening() {
	[ -n "$(ss -Hntl "src $WEB:$PORT")" ]
}

need_http() {
	[ -n "$PYTHON" ] || skip "python3 is not installed (it serves the page)"
	wait_for "the HTTP server on $WEB:$PORT" 5000 http_listening
}

# --- tests --------------------------------------------------------------------------------------------

test_static_c() {
	need_stub
	need_client gai-static
	expect_eq "linked statically" "" "$(LC_ALL=C readelf -l "$BIN/gai-static" | grep 'program interpreter' || true)"
	stale static.lab.test "$WEB"
	expect_eq "static getaddrinfo through the stub" "rc=0 OK
inet stream 6 $WEB 0" "$(client gai_static static.lab.test)"
	expect_eq "static getaddrinfo asking the resolver" "rc=-2 EAI_NONAME" "$(direct gai_static static.lab.test)"
}

test_go_static() {
	need_stub
	need_client fetch
	need_http
	expect_eq "linked statically" "" "$(LC_ALL=C readelf -l "$BIN/fetch" | grep 'program interpreter' || true)"
	stale go.lab.test "$WEB"
	expect_eq "Go (CGO_ENABLED=0): net.LookupHost and net/http through the stub" "lookup $WEB
get 200 $PAGE" "$(client go_fetch go.lab.test "http://go.lab.test:$PORT/")"
	expect_eq "Go asking the resolver" "lookup NOTFOUND
exit 2" "$(direct go_fetch go.lab.test "http://go.lab.test:$PORT/")"
}

test_node_resolve4() {
	need_stub
	[ -n "$NODE" ] || skip "node is not installed"
	stale node.lab.test "$WEB"
	expect_eq "node dns.resolve4 through the stub" "$WEB" "$(client node_resolve4 node.lab.test)"
	expect_eq "node dns.resolve4 asking the resolver" ENOTFOUND "$(direct node_resolve4 node.lab.test)"
}

test_dig() {
	need_stub
	command -v dig >/dev/null || skip "dig is not installed (Debian package bind9-dnsutils)"
	stale dig.lab.test "$WEB"
	expect_eq "dig through the stub" "NOERROR $WEB" "$(client dig_a dig.lab.test)"
	expect_eq "dig asking the resolver" NXDOMAIN "$(direct dig_a dig.lab.test)"
}

test_chromium() {
	need_stub
	[ -n "$CHROMIUM" ] || skip "chromium is not installed (apt-get install chromium)"
	[ -n "$PYTHON" ] || skip "python3 is not installed (it reads chromium's net log)"
	need_http
	local log=$NXLAB_DIR/chromium
	stale chromium.lab.test "$WEB"
	expect_eq "chromium (built-in DNS client) through the stub" "$PAGE" \
		"$(client chromium_get chromium.lab.test "$log-async.json")"
	expect_eq "chromium: the address came from its built-in client" "builtin A: rcode=0 answers=1; getaddrinfo: no" \
		"$(netlog_dns "$log-async.json" chromium.lab.test)"
	stale chromium-sys.lab.test "$WEB"
	expect_eq "chromium --disable-features=AsyncDns (getaddrinfo) through the stub" "$PAGE" \
		"$(client chromium_get chromium-sys.lab.test "$log-sys.json" --disable-features=AsyncDns)"
	expect_eq "chromium --disable-features=AsyncDns: from getaddrinfo" "builtin A: none; getaddrinfo: yes" \
		"$(netlog_dns "$log-sys.json" chromium-sys.lab.test)"
	expect_eq "chromium asking the resolver: no page" "" \
		"$(direct chromium_get chromium.lab.test "$log-direct.json")"
	expect_eq "chromium asking the resolver: NXDOMAIN to its built-in client, then to getaddrinfo" \
		"builtin A: rcode=3 answers=0; getaddrinfo: yes" "$(netlog_dns "$log-direct.json" chromium.lab.test)"
}

# timed OUT CMD...: CMD's output in OUT, and "ms=N" (its wall time) in OUT.ms.
timed() {
	local out=$1 start
	shift
	start=$(now_ms)
	client "$@" >"$out"
	echo $(($(now_ms) - start)) >"$out.ms"
}

# Every client at once, each for a name of its own that never appears: NXDOMAIN (as each client says
# it) within [NEVER_MIN_MS, NEVER_MAX_MS).
test_never() {
	need_stub
	local d=$NXLAB_DIR/never c max pids=() want=() clients=() log=$NXLAB_DIR/chromium-never.json
	mkdir -p "$d"
	if [ -x "$BIN/gai-static" ]; then
		timed "$d/static-c" gai_static never-c.lab.test &
		pids+=("$!") clients+=(static-c) want+=("rc=-2 EAI_NONAME")
	fi
	if [ -x "$BIN/fetch" ]; then
		timed "$d/go" go_fetch never-go.lab.test - &
		pids+=("$!") clients+=(go) want+=("lookup NOTFOUND
exit 2")
	fi
	if [ -n "$NODE" ]; then
		timed "$d/node" node_resolve4 never-node.lab.test &
		pids+=("$!") clients+=(node) want+=(ENOTFOUND)
	fi
	if command -v dig >/dev/null; then
		timed "$d/dig" dig_a never-dig.lab.test &
		pids+=("$!") clients+=(dig) want+=(NXDOMAIN)
	fi
	if [ -n "$CHROMIUM" ] && [ -n "$PYTHON" ]; then
		timed "$d/chromium" chromium_get never-chromium.lab.test "$log" &
		pids+=("$!") clients+=(chromium) want+=("")
	fi
	[ ${#pids[@]} -gt 0 ] || skip "no client is available"
	wait "${pids[@]}" || true
	for c in "${!clients[@]}"; do
		expect_eq "${clients[c]}: a name that never appears" "${want[c]}" "$(cat "$d/${clients[c]}")"
		max=$NEVER_MAX_MS
		if [ "${clients[c]}" = chromium ]; then max=$CHROMIUM_MAX_MS; fi
		expect_between "${clients[c]}: ms until its answer" "$NEVER_MIN_MS" "$max" "$(cat "$d/${clients[c]}.ms")"
		echo "    ${clients[c]}: NXDOMAIN after $(cat "$d/${clients[c]}.ms") ms (NXRETRY_TIMEOUT=$TIMEOUT_S)"
	done
	if [ -n "$CHROMIUM" ] && [ -n "$PYTHON" ]; then
		# Chromium's client gives up after 3 s (a try of 1 s, one of 2 s: ERR_DNS_TIMED_OUT), then asks
		# getaddrinfo, whose query joins the stub's wait.
		expect_eq "chromium: its built-in client timed out, then getaddrinfo had the NXDOMAIN" \
			"builtin A: timeout; getaddrinfo: yes" \
			"$(netlog_dns "$log" never-chromium.lab.test)"
	fi
}

# Every client at once, each for a name the resolver has denied, created LATE_MS after they started
# (past chromium's 3 s of patience, within glibc's 5 s try): each gets the address within 2 s of
# LATE_MS (the adds and the engine's 1 s backoff cap; chromium 3.5 s, its start and page included);
# chromium's through getaddrinfo, its built-in client having given up.
test_late() {
	need_stub
	local d=$NXLAB_DIR/late c name pids=() want=() clients=() names=() max log=$NXLAB_DIR/chromium-late.json
	mkdir -p "$d"
	if [ -x "$BIN/gai-static" ]; then clients+=(static-c) want+=("rc=0 OK
inet stream 6 $WEB 0"); fi
	if [ -x "$BIN/fetch" ]; then clients+=(go) want+=("lookup $WEB"); fi
	if [ -n "$NODE" ]; then clients+=(node) want+=("$WEB"); fi
	if command -v dig >/dev/null; then clients+=(dig) want+=("NOERROR $WEB"); fi
	if [ -n "$CHROMIUM" ] && [ -n "$PYTHON" ]; then clients+=(chromium) want+=("$PAGE"); fi
	[ ${#clients[@]} -gt 0 ] || skip "no client is available"
	for c in "${clients[@]}"; do
		name=late-$c.lab.test
		names+=("$name")
		poison "$name"
	done
	for c in "${!clients[@]}"; do
		name=${names[c]}
		case ${clients[c]} in
		static-c) timed "$d/static-c" gai_static "$name" & ;;
		go) timed "$d/go" go_fetch "$name" - & ;;
		node) timed "$d/node" node_resolve4 "$name" & ;;
		dig) timed "$d/dig" dig_a "$name" & ;;
		chromium) timed "$d/chromium" chromium_get "$name" "$log" & ;;
		esac
		pids+=("$!")
	done
	sleep_ms "$LATE_MS"
	for name in "${names[@]}"; do "$DNSLAB" add "$name" A "$WEB"; done
	wait "${pids[@]}" || true
	for c in "${!clients[@]}"; do
		max=$((LATE_MS + 2000))
		if [ "${clients[c]}" = chromium ]; then max=$((LATE_MS + 3500)); fi
		expect_eq "${clients[c]}: a name created after $LATE_MS ms" "${want[c]}" "$(cat "$d/${clients[c]}")"
		expect_between "${clients[c]}: ms until its answer" "$LATE_MS" "$max" "$(cat "$d/${clients[c]}.ms")"
		echo "    ${clients[c]}: the address after $(cat "$d/${clients[c]}.ms") ms (record created at ${LATE_MS} ms)"
	done
	if [ -n "$CHROMIUM" ] && [ -n "$PYTHON" ]; then
		expect_eq "chromium: its built-in client timed out, then getaddrinfo got the address" \
			"builtin A: timeout; getaddrinfo: yes" "$(netlog_dns "$log" late-chromium.lab.test)"
	fi
}

start_file
trap stop_file EXIT
exec 3>&1 # the file's output: chromium_get's notes, under the test that runs it

run_tests test_static_c test_go_static test_node_resolve4 test_dig test_chromium test_never test_late
