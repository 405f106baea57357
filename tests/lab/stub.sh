# shellcheck shell=bash
# Helpers for the stub resolver's lab tests (t-stub-*.sh; source after lib.sh) and bench/stub-soak:
# starting `nxretry --serve` in the lab, pointing the lab's resolv.conf at it, and the figures a test
# watches in a server (descriptors, resident memory). The raw DNS client is build/dnsq
# (tests/lab/dnsq.c), looked for beside $GAI like the other lab tools.

NXRETRY_BIN=${LIB_FILE%/*}/nxretry
DNSQ=$(dirname "$GAI")/dnsq
readonly STUB_READY_MS=5000

# require_stub: fails the test when the nxretry program or dnsq is not built.
require_stub() {
	require_built "$NXRETRY_BIN" "$DNSQ"
}

# stub_listening ADDR PORT: a UDP and a TCP socket listen on ADDR:PORT.
stub_listening() {
	[ -n "$(ss -Hnlu "src $1:$2")" ] && [ -n "$(ss -Hntl "src $1:$2")" ]
}

# stub_start ADDR[:PORT] [OPTION...]: nxretry --serve --listen ADDR[:PORT] OPTION... in the background
# (NXRETRY_* from the caller's environment), its stderr in $NXLAB_DIR/stub-ADDR.log; returns once it
# listens on UDP and TCP, with its pid in STUB_PID. Stopped with stub_stop, or with the lab.
stub_start() {
	local listen=$1 addr port=53 start log
	shift
	addr=${listen%:*}
	if [ "$addr" != "$listen" ]; then port=${listen##*:}; fi
	log=$NXLAB_DIR/stub-$addr-$port.log
	LD_PRELOAD=$RUNTIME "$NXRETRY_BIN" --serve --listen "$listen" "$@" 2>"$log" &
	STUB_PID=$!
	start=$(now_ms)
	until stub_listening "$addr" "$port"; do
		if ! kill -0 "$STUB_PID" 2>/dev/null; then
			fail "nxretry --serve --listen $listen $* exited: $(cat "$log")"
			return 1
		fi
		if [ $(($(now_ms) - start)) -ge "$STUB_READY_MS" ]; then
			fail "nxretry --serve --listen $listen $*: not listening within $STUB_READY_MS ms"
			return 1
		fi
		sleep 0.02
	done
}

# stub_stop PID: SIGTERM, then its exit status in STUB_RC (the stub exits 0 on SIGTERM within a
# second; 124 when it has not exited 2 s later, and is then killed); STUB_RCS collects them, space
# separated. Not in $(...): only the shell that started the stub can wait for it.
STUB_RCS=
stub_stop() {
	local start
	STUB_RC=0
	kill -TERM "$1" 2>/dev/null || true
	start=$(now_ms)
	while kill -0 "$1" 2>/dev/null && [ $(($(now_ms) - start)) -lt 2000 ]; do sleep 0.02; done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
		STUB_RC=124
	else
		wait "$1" 2>/dev/null || STUB_RC=$?
	fi
	STUB_RCS+=${STUB_RCS:+ }$STUB_RC
}

# resolv_conf ADDR: the lab's /etc/resolv.conf (bind-mounted from $NXLAB_DIR) names ADDR alone. Written
# in place: the bind mount holds the file's inode.
resolv_conf() {
	printf 'nameserver %s\n' "$1" >"$NXLAB_DIR/resolv.conf"
}

# poison NAME: the caching resolver answers NXDOMAIN for NAME's A and AAAA (asked directly, not through
# the stub, whose bypass would wait for the name).
poison() {
	expect_eq "$1: the resolver caches its NXDOMAIN" "NXDOMAIN NXDOMAIN" \
		"$("$DNSLAB" resolve "$1" A) $("$DNSLAB" resolve "$1" AAAA)"
}

# stale NAME ADDR: NAME poisoned at the resolver, then created at the authority with ADDR; the
# resolver keeps answering NXDOMAIN.
stale() {
	poison "$1"
	"$DNSLAB" add "$1" A "$2"
	expect_eq "$1: the resolver still answers NXDOMAIN after the add" NXDOMAIN "$("$DNSLAB" resolve "$1" A)"
}

# proc_fds PID: how many descriptors PID has open.
proc_fds() {
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# proc_rss PID: VmRSS of PID in KiB.
proc_rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
