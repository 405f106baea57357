#!/usr/bin/env bash
# Real programs under the nxretry program (nxretry --zone lab.test -- CMD) reach names created after the
# resolver cached their NXDOMAIN: curl and node fetch a page from an HTTP server listening on the new
# address; python3, node, java, a Go program built with cgo, getent and perl print what their lookups
# returned. Each program also runs without the wrapper in the same lab and must still fail: the success
# is nxretry's, not a cache that forgot.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
readonly TOP WRAPPER=${LIB_FILE%/*}/nxretry LAB=$TOP/tests/lab
readonly WEB=127.0.53.80 PORT=8080 PAGE="nxretry lab page" CLIENT_TIMEOUT=30

unset NXRETRY_ZONES NXRETRY_TIMEOUT NXRETRY_MODE NXRETRY_CONFIG NXRETRY_LOG
# Nothing but the clients' own output: no proxy, no "Picked up JAVA_TOOL_OPTIONS" line.
unset JAVA_TOOL_OPTIONS _JAVA_OPTIONS JDK_JAVA_OPTIONS
export no_proxy='*' NO_PROXY='*'
PYTHON=/usr/bin/python3
if [ ! -x "$PYTHON" ]; then PYTHON=$(command -v python3 || true); fi
readonly PYTHON

# wrapped CMD...: CMD under the wrapper, as a user would type it. Its --timeout keeps a broken library
# from making the file wait 60 s per client; timeout(1) bounds a client that hangs.
wrapped() {
	LD_PRELOAD=$RUNTIME NXRETRY_LIB=$LIB_FILE timeout -k 2 "$CLIENT_TIMEOUT" \
		"$WRAPPER" --zone lab.test --timeout 5 -- "$@"
}

# plain CMD...: CMD without the wrapper (and without any preload).
plain() {
	env -u LD_PRELOAD timeout -k 2 "$CLIENT_TIMEOUT" "$@"
}

# runs_with_runtime CMD...: skips the test when a sanitizer build is under test and CMD does not run with
# the sanitizer's runtime preloaded (curl hangs at start with libasan's).
runs_with_runtime() {
	if [ -n "$RUNTIME" ] && ! LD_PRELOAD=$RUNTIME timeout -k 1 5 "$@" >/dev/null 2>&1; then
		skip "$1 does not run with $RUNTIME preloaded"
	fi
}

# outcome CMD...: CMD's output, stdout and stderr together, then "exit N" when it failed.
outcome() {
	"$@" 2>&1 || echo "exit $?"
}

# client_name NAME ADDR: NAME looked up too early (A and AAAA), then created with ADDR; the resolver
# keeps answering NXDOMAIN.
client_name() {
	require_lib
	stale_name "$1" A "$2"
}

# The HTTP server on the address the new names point to, for the whole file.
HTTP_PID=
start_http() {
	mkdir -p "$NXLAB_DIR/www"
	echo "$PAGE" >"$NXLAB_DIR/www/index.html"
	"$PYTHON" -m http.server --bind "$WEB" --directory "$NXLAB_DIR/www" "$PORT" \
		>"$NXLAB_DIR/http.log" 2>&1 &
	HTTP_PID=$!
}

stop_http() {
	if [ -n "$HTTP_PID" ]; then
		kill "$HTTP_PID" 2>/dev/null || true
		wait "$HTTP_PID" 2>/dev/null || true
	fi
}

http_listening() {
	[ -n "$(ss -Hntl "src $WEB:$PORT")" ]
}

# Every test that uses the server first checks it is there, by address.
need_http() {
	[ -n "$PYTHON" ] || skip "python3 is not installed (it serves the page)"
	wait_for "the HTTP server on $WEB:$PORT" 5000 http_listening
	if command -v curl >/dev/null; then
		expect_eq "the page by address" "$PAGE" \
			"$(plain curl -sS --max-time 5 "http://$WEB:$PORT/index.html" 2>&1 || true)"
	fi
}

test_curl() {
	command -v curl >/dev/null || skip "curl is not installed"
	runs_with_runtime curl --version
	need_http
	client_name curl.lab.test "$WEB"
	expect_eq "curl under the wrapper fetches the page" "$PAGE" \
		"$(outcome wrapped curl -sS --max-time 10 "http://curl.lab.test:$PORT/index.html")"
	expect_eq "curl without the wrapper still cannot resolve the name" \
		"curl: (6) Could not resolve host: curl.lab.test
exit 6" "$(outcome plain curl -sS --max-time 10 "http://curl.lab.test:$PORT/index.html")"
}

# socket.getaddrinfo and gethostbyname (glibc's getaddrinfo), gethostbyname_ex (getaddrinfo, then
# gethostbyname_r). Errors print as their class and errno.
readonly PY_LOOKUPS='
import socket, sys
name = sys.argv[1]
for what, call in (
    ("getaddrinfo", lambda: [" ".join((f.name, a[0], str(a[1])))
                             for f, _, _, _, a in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)]),
    ("gethostbyname", lambda: [socket.gethostbyname(name)]),
    ("gethostbyname_ex", lambda: [repr(socket.gethostbyname_ex(name))]),
):
    try:
        for line in call():
            print(what, line)
    except OSError as e:
        print(what, type(e).__name__, e.errno)
'

test_python() {
	[ -n "$PYTHON" ] || skip "python3 is not installed"
	runs_with_runtime "$PYTHON" -c pass
	client_name python.lab.test 127.0.53.81
	expect_eq "python3 under the wrapper" "getaddrinfo AF_INET 127.0.53.81 80
gethostbyname 127.0.53.81
gethostbyname_ex ('python.lab.test', [], ['127.0.53.81'])" \
		"$(outcome wrapped "$PYTHON" -c "$PY_LOOKUPS" python.lab.test)"
	# EAI_NONAME is -2.
	expect_eq "python3 without the wrapper" "getaddrinfo gaierror -2
gethostbyname gaierror -2
gethostbyname_ex gaierror -2" "$(outcome plain "$PYTHON" -c "$PY_LOOKUPS" python.lab.test)"
}

# dns.lookup (getaddrinfo on libuv's thread pool), then http.get (its own dns.lookup) of the page.
readonly NODE_CLIENT='
const dns = require("dns"), http = require("http");
const [name, port] = process.argv.slice(1);
dns.lookup(name, { all: true }, (err, addrs) => {
	console.log("lookup", err ? err.code : addrs.map((a) => a.address + "/" + a.family).join(" "));
	http.get({ host: name, port: port, path: "/index.html" }, (res) => {
		let body = "";
		res.on("data", (d) => (body += d));
		res.on("end", () => console.log("http.get", res.statusCode, body.trim()));
	}).on("error", (e) => {
		console.log("http.get", e.code);
		process.exitCode = 2;
	});
});'

test_node() {
	local node
	node=$(command -v node || command -v nodejs) || skip "node is not installed"
	runs_with_runtime "$node" -e 0
	need_http
	client_name node.lab.test "$WEB"
	expect_eq "node under the wrapper" "lookup $WEB/4
http.get 200 $PAGE" "$(outcome wrapped "$node" -e "$NODE_CLIENT" node.lab.test "$PORT")"
	expect_eq "node without the wrapper" "lookup ENOTFOUND
http.get ENOTFOUND
exit 2" "$(outcome plain "$node" -e "$NODE_CLIENT" node.lab.test "$PORT")"
}

test_java() {
	command -v java >/dev/null || skip "java is not installed"
	# Single-file programs need the compiler module, which a bare JRE lacks.
	java --list-modules 2>/dev/null | grep -q '^jdk\.compiler@' ||
		skip "this java cannot run a source file (no jdk.compiler: install a JDK)"
	runs_with_runtime java -version
	client_name java.lab.test 127.0.53.82
	expect_eq "java under the wrapper: getByName, then getAllByName" "127.0.53.82
127.0.53.82" "$(outcome wrapped java "$LAB/Lookup.java" java.lab.test)"
	expect_eq "java without the wrapper" "UnknownHostException
exit 2" "$(outcome plain java "$LAB/Lookup.java" java.lab.test)"
}

test_go_cgo() {
	command -v go >/dev/null || skip "go is not installed (Debian package golang-go): the cgo client is not built"
	command -v "${CC:-cc}" >/dev/null || skip "no C compiler for cgo"
	local dir
	dir=$(mktemp -d "$NXLAB_DIR/go.XXXXXX")
	# A cache of its own when there is no HOME to keep one in.
	if [ -z "${HOME:-}" ] && [ -z "${GOCACHE:-}" ]; then export GOCACHE=$dir/cache; fi
	(cd "$dir" && CGO_ENABLED=1 GOFLAGS='' GO111MODULE=off go build -o lookup "$LAB/lookup.go")
	expect_eq "the Go client is dynamically linked (built with cgo)" yes \
		"$(LC_ALL=C readelf -l "$dir/lookup" | grep -q 'program interpreter' && echo yes || echo no)"
	runs_with_runtime "$dir/lookup" localhost
	client_name go.lab.test 127.0.53.83
	expect_eq "go under the wrapper" 127.0.53.83 "$(outcome wrapped "$dir/lookup" go.lab.test)"
	expect_eq "go without the wrapper" "NOTFOUND
exit 2" "$(outcome plain "$dir/lookup" go.lab.test)"
	# Why the wrapper sets GODEBUG=netdns=cgo: Go's own resolver asks the DNS servers itself.
	expect_eq "go with the preload but its own resolver" "NOTFOUND
exit 2" "$(outcome timeout -k 2 "$CLIENT_TIMEOUT" env LD_PRELOAD="$RUNTIME${RUNTIME:+ }$LIB_FILE" \
		NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=5 GODEBUG=netdns=go "$dir/lookup" go.lab.test)"
}

# getent hosts: gethostbyname2 for AF_INET6 (an authoritative NODATA here), then AF_INET.
test_getent_hosts() {
	client_name hosts.lab.test 127.0.53.84
	expect_eq "getent hosts under the wrapper" "127.0.53.84     hosts.lab.test" \
		"$(outcome wrapped getent hosts hosts.lab.test)"
	expect_eq "getent hosts without the wrapper" "exit 2" "$(outcome plain getent hosts hosts.lab.test)"
}

# getent ahosts: getaddrinfo, AF_UNSPEC, AI_CANONNAME, every socket type.
test_getent_ahosts() {
	client_name ahosts.lab.test 127.0.53.85
	expect_eq "getent ahosts under the wrapper" "127.0.53.85     STREAM ahosts.lab.test
127.0.53.85     DGRAM  
127.0.53.85     RAW    " "$(outcome wrapped getent ahosts ahosts.lab.test)"
	expect_eq "getent ahostsv4 under the wrapper" "127.0.53.85     STREAM ahosts.lab.test
127.0.53.85     DGRAM  
127.0.53.85     RAW    " "$(outcome wrapped getent ahostsv4 ahosts.lab.test)"
	expect_eq "getent ahosts without the wrapper" "exit 2" "$(outcome plain getent ahosts ahosts.lab.test)"
}

# Both families: what glibc prints for a twin name with the same records that no cache has seen.
test_getent_dual_stack_like_glibc() {
	require_lib
	local db
	stale_name dual.lab.test A 127.0.53.86
	"$DNSLAB" add dual.lab.test AAAA fd00:53::86
	"$DNSLAB" add twin.lab.test A 127.0.53.86
	"$DNSLAB" add twin.lab.test AAAA fd00:53::86
	for db in hosts ahosts ahostsv4 ahostsv6; do
		expect_eq "getent $db under the wrapper, as glibc for a name not cached" \
			"$(getent "$db" twin.lab.test | sed 's/twin\.lab\.test/dual.lab.test/')" \
			"$(outcome wrapped getent "$db" dual.lab.test)"
	done
	expect_eq "the twin has both families" "fd00:53::86     twin.lab.test" "$(getent hosts twin.lab.test)"
}

# perl's gethostbyname: glibc's gethostbyname_r in Debian's threaded perl.
# shellcheck disable=SC2016 # perl's variables, not the shell's
readonly PERL_LOOKUP='
my ($name, $aliases, $type, $len, @addrs) = gethostbyname($ARGV[0]) or do { print "not found\n"; exit 2 };
print join(" ", $name, map { join ".", unpack "C4" } @addrs), "\n";'

test_perl() {
	command -v perl >/dev/null || skip "perl is not installed"
	runs_with_runtime perl -e 1
	client_name perl.lab.test 127.0.53.87
	expect_eq "perl under the wrapper" "perl.lab.test 127.0.53.87" \
		"$(outcome wrapped perl -e "$PERL_LOOKUP" perl.lab.test)"
	expect_eq "perl without the wrapper" "not found
exit 2" "$(outcome plain perl -e "$PERL_LOOKUP" perl.lab.test)"
}

if [ -n "$PYTHON" ]; then start_http; fi
trap stop_http EXIT
run_tests test_curl test_python test_node test_java test_go_cgo test_getent_hosts test_getent_ahosts \
	test_getent_dual_stack_like_glibc test_perl
