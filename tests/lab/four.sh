# shellcheck shell=bash
# Helpers for the four-server lab tests (t-four*.sh, flavor four of scripts/dnslab).

export NXRETRY_ZONES=lab.test
unset NXRETRY_MODE NXRETRY_CONFIG
# shellcheck disable=SC2034 # used by the t-four*.sh files that source this one
readonly FOUR_MARGIN_MS=700 # what a loaded 2-core machine adds to a process's return (measured: up to 440 ms at load 8)

# waiters N NAME TIMEOUT [GAI ARGS...]: N processes under the preload look NAME up, each writing
# "<gai output> end=<ms>" to $NXLAB_DIR/w.<i>; their pids in WAITERS.
waiters() {
	local n=$1 name=$2 timeout=$3 i
	shift 3
	WAITERS=()
	for ((i = 0; i < n; i++)); do
		{
			{ NXRETRY_TIMEOUT=$timeout LD_PRELOAD=$NXRETRY_LIB "$GAI" "$@" -s stream "$name" 2>"$NXLAB_DIR/e.$i" || true; } |
				strip_ms | tr '\n' ' '
			echo "end=$(now_ms)"
		} >"$NXLAB_DIR/w.$i" &
		WAITERS+=("$!")
	done
}

# waiter_results: each waiter's output without its end time, one line each, sorted.
waiter_results() {
	local f
	for f in "$NXLAB_DIR"/w.*; do sed 's/ end=[0-9]*$//' "$f"; done | sort
}

# waiter_latest: the latest end time of the waiters.
waiter_latest() {
	sed -n 's/.* end=\([0-9]*\)$/\1/p' "$NXLAB_DIR"/w.* | sort -n | tail -n 1
}

reset_waiters() {
	rm -f "$NXLAB_DIR"/w.* "$NXLAB_DIR"/e.*
}

# early NAME: NAME looked up too early, so the resolver caches its NXDOMAIN for A and AAAA.
early() {
	expect_eq "$1: early lookup fails" "rc=-2 EAI_NONAME" "$(gai "$1")"
}

# per_server: the four servers' query counts, "n1 n2 n3 n4".
per_server() {
	local n out=()
	for n in 1 2 3 4; do out+=("$("$DNSLAB" auth-queries --server "$n")"); done
	echo "${out[*]}"
}

# waiter_earliest: the earliest end time of the waiters.
waiter_earliest() {
	sed -n 's/.* end=\([0-9]*\)$/\1/p' "$NXLAB_DIR"/w.* | sort -n | head -n 1
}

# ok_stream ADDR N: N lines of a waiter's output for a -s stream lookup that returned ADDR.
ok_stream() {
	local i
	for ((i = 0; i < $2; i++)); do echo "rc=0 OK inet stream 6 $1 0"; done
}

# deleted_on_some NAME ADDR DELETED_AT REST: NAME created with ADDR at every server, then deleted at the
# servers DELETED_AT (--server list): a lookup with a 3 s deadline gives libc's error at its deadline,
# never the deleted address. Then deleted at the servers REST too.
deleted_on_some() {
	local raw
	early "$1"
	"$DNSLAB" add "$1" A "$2"
	"$DNSLAB" del --server "$3" "$1"
	raw=$(NXRETRY_TIMEOUT=3 LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream "$1" 2>/dev/null || true)
	expect_eq "libc's error, not the deleted address" "rc=-2 EAI_NONAME" "$(strip_ms <<<"$raw")"
	expect_between "at the deadline (ms)" 3000 $((3000 + FOUR_MARGIN_MS)) "$(ms_of "$raw")"
	"$DNSLAB" del --server "$4" "$1"
}

# serials: the four servers' SOA serials, "s1 s2 s3 s4".
serials() {
	local n counts=()
	for n in 1 2 3 4; do counts+=("$(kdig +short +norec "@127.0.54.$n" lab.test SOA | awk '{ print $3 }')"); done
	echo "${counts[*]}"
}
