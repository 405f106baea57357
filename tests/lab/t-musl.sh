#!/usr/bin/env bash
# The musl flavor (make musl: build-musl/): its preload bypasses a stale NXDOMAIN for musl-built
# programs, with musl's own codes (EAI_NONAME for NXDOMAIN and NODATA alike; gethostbyname*_r return
# ENOENT when nothing is found). And neither flavor kills a process of the other libc: the glibc
# preload in a musl program, the musl preload in a glibc program, each gives libc's own answer.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=5
MUSL=$(realpath -m "${NXRETRY_MUSL_BUILD:-$(dirname "$0")/../../build-musl}")
readonly MUSL MLIB=$MUSL/libnxretry.so MGAI=$MUSL/gai MHOSTENT=$MUSL/hostent MTHREADS=$MUSL/threads
readonly MAX_MS=1000

require_musl() {
	if [ -n "$RUNTIME" ]; then
		skip "a sanitizer build: the musl flavor is tested by the plain make check"
	fi
	local f
	for f in "$MLIB" "$MUSL/libnxretry-engine.so" "$MGAI" "$MHOSTENT" "$MTHREADS"; do
		[ -x "$f" ] || [ -f "$f" ] || skip "$MUSL is not built (make musl, which needs musl-gcc: apt-get install musl-tools)"
	done
}

# mgai/mhostent ARGS...: the musl clients, without and with the musl preload; timing stripped.
mgai() {
	{ "$MGAI" "$@" || true; } | strip_ms
}

nxmgai() {
	{ LD_PRELOAD=$MLIB "$MGAI" "$@" || true; } | strip_ms
}

mhostent() {
	"$MHOSTENT" "$@" || true
}

nxmhostent() {
	LD_PRELOAD=$MLIB "$MHOSTENT" "$@" || true
}

# musl_lines CANON ADDR...: musl's output for a successful lookup with socktype 0: a stream and a
# datagram node per address (no raw one, unlike glibc), each naming the canonical name (musl sets
# ai_canonname on every node, asked or not).
musl_lines() {
	local canon=$1 addr family
	shift
	echo "rc=0 OK"
	for addr in "$@"; do
		case $addr in *:*) family=inet6 ;; *) family=inet ;; esac
		printf '%s\n' "$family stream 6 $addr 0 canon=$canon" "$family dgram 17 $addr 0 canon=$canon"
	done
}

test_getaddrinfo() {
	require_musl
	stale_name gai.lab.test A 192.0.2.81
	expect_eq "musl without the preload: stale" "rc=-2 EAI_NONAME" "$(mgai -4 gai.lab.test)"
	expect_eq "musl's own answer for a name it resolves" "$(musl_lines www.lab.test 192.0.2.10)" \
		"$(mgai -4 www.lab.test)"
	expect_eq "-4 under the musl preload" "$(musl_lines gai.lab.test 192.0.2.81)" "$(nxmgai -4 gai.lab.test)"
	expect_eq "-4 -s stream -f canonname" "rc=0 OK
inet stream 6 192.0.2.81 0 canon=gai.lab.test" "$(nxmgai -4 -s stream -f canonname gai.lab.test)"
	# Both families: as musl orders them for a twin name with the same records, not cached.
	"$DNSLAB" add gai.lab.test AAAA 2001:db8::81
	"$DNSLAB" add twin.lab.test A 192.0.2.81
	"$DNSLAB" add twin.lab.test AAAA 2001:db8::81
	expect_eq "AF_UNSPEC as musl for an uncached name" \
		"$(mgai twin.lab.test | sed 's/ canon=twin\.lab\.test$/ canon=gai.lab.test/')" "$(nxmgai gai.lab.test)"
}

test_gethostbyname() {
	require_musl
	stale_name ghbn.lab.test A 192.0.2.82
	expect_eq "musl without the preload" "ret=NULL herr=HOST_NOT_FOUND" "$(mhostent ghbn.lab.test)"
	expect_eq "gethostbyname under the musl preload" "ret=hostent herr=-
name ghbn.lab.test
addr 192.0.2.82" "$(nxmhostent ghbn.lab.test)"
}

test_gethostbyname_r() {
	require_musl
	stale_name ghbnr.lab.test A 192.0.2.83
	expect_eq "musl without the preload: ENOENT, HOST_NOT_FOUND" "ret=ENOENT herr=HOST_NOT_FOUND" \
		"$(mhostent -r ghbnr.lab.test)"
	expect_eq "gethostbyname_r under the musl preload" "ret=0 herr=-
name ghbnr.lab.test
addr 192.0.2.83" "$(nxmhostent -r ghbnr.lab.test)"
}

# 16 threads of a musl program (128 KiB stacks) wait for one name together.
test_threads() {
	require_musl
	local out want i
	stale_name threads.lab.test A 192.0.2.84
	out=$(LD_PRELOAD=$MLIB "$MTHREADS" -4 16 threads.lab.test || true)
	want=
	for i in $(seq 0 15); do want+="thread $i rc=0 OK"$'\n'; done
	want+="result threads.lab.test rc=0 OK 192.0.2.84 count=16"
	expect_eq "16 threads, one answer" "$want" "$(grep -v '^fds ' <<<"$out" | sed 's/ ms=[0-9]* end=[0-9]*$//')"
}

# A musl program frees a sublist of the preload's list, or a list re-linked with musl's own
# nodes: each node goes back to the allocator that made it (musl's freeaddrinfo finds a block
# from a list's last node, so one of the preload's nodes given to it is a wild free).
test_free_sublist() {
	require_musl
	stale_name sublist.lab.test A 192.0.2.89
	expect_eq "freeaddrinfo(res->ai_next), then the head" "$(musl_lines sublist.lab.test 192.0.2.89)
freed" "$(nxmgai -4 -F sublist sublist.lab.test)"
	expect_eq "the preload's list with musl's spliced in, freed at once" \
		"$(musl_lines sublist.lab.test 192.0.2.89)
freed" "$(nxmgai -4 -F relink:www.lab.test sublist.lab.test)"
}

# Outside the zones, and a stale name under zones that do not cover it: musl's answer, at once.
test_outside() {
	require_musl
	local args zones raw
	stale_name stale-out.lab.test A 192.0.2.85
	"$DNSLAB" add v6only.lab.test AAAA 2001:db8::86
	while read -r zones args; do
		# shellcheck disable=SC2086 # args are several words
		raw=$(NXRETRY_ZONES=$zones LD_PRELOAD=$MLIB "$MGAI" $args 2>"$NXLAB_DIR/stderr" || true)
		# shellcheck disable=SC2086
		expect_eq "[$args] zones=$zones: musl's answer" "$(mgai $args)" "$(strip_ms <<<"$raw")"
		expect_between "[$args] zones=$zones: ms" 0 "$MAX_MS" "$(ms_of "$raw")"
		expect_eq "[$args] zones=$zones: nothing logged" "" "$(<"$NXLAB_DIR/stderr")"
	done <<'CASES'
lab.test    -4 nosuch.other.test
example.com -4 stale-out.lab.test
lab.test    -4 www.lab.test
lab.test    -4 hosts-only.lab.test
lab.test    -4 v6only.lab.test
CASES
	expect_eq "the stale name: musl's code" "rc=-2 EAI_NONAME" "$(mgai -4 stale-out.lab.test)"
	expect_eq "www: musl's answer" "$(musl_lines www.lab.test 192.0.2.10)" "$(nxmgai -4 www.lab.test)"
	expect_eq "an existing name without A: musl's EAI_NONAME" "rc=-2 EAI_NONAME" \
		"$(nxmgai -4 v6only.lab.test)"
}

# A name that never appears fails after the deadline with musl's codes.
test_never() {
	require_musl
	local raw start ms
	raw=$(NXRETRY_TIMEOUT=2 LD_PRELOAD=$MLIB "$MGAI" -4 never.lab.test || true)
	expect_eq "getaddrinfo: musl's code" "rc=-2 EAI_NONAME" "$(strip_ms <<<"$raw")"
	expect_between "getaddrinfo: ms" 2000 3000 "$(ms_of "$raw")"
	start=$(now_ms)
	raw=$(NXRETRY_TIMEOUT=2 LD_PRELOAD=$MLIB "$MHOSTENT" -r never2.lab.test || true)
	ms=$(($(now_ms) - start))
	expect_eq "gethostbyname_r: ENOENT, HOST_NOT_FOUND" "ret=ENOENT herr=HOST_NOT_FOUND" "$raw"
	expect_between "gethostbyname_r: ms" 2000 3000 "$ms"
}

# lines_at_most DESC N FILE: FILE has at most N lines, each an nxretry: line.
lines_at_most() {
	local n
	n=$(grep -c . "$3" || true)
	if [ "$n" -le "$2" ] && ! grep -qv '^nxretry: ' "$3"; then
		ok "$1"
	else
		fail "$1: $(cat "$3")"
	fi
}

# The glibc preload in a musl program: it stays out, the program runs and gets musl's answer.
test_glibc_preload_in_musl() {
	require_musl
	require_lib
	local rc
	stale_name wrong1.lab.test A 192.0.2.87
	for args in "-4 www.lab.test" "-4 wrong1.lab.test" "-4 nosuch.other.test"; do
		rc=0
		# shellcheck disable=SC2086 # args are two words
		LD_PRELOAD=$LIB_FILE "$MGAI" $args >"$NXLAB_DIR/out" 2>"$NXLAB_DIR/err" || rc=$?
		# shellcheck disable=SC2086
		expect_eq "[$args] musl's answer" "$(mgai $args)" "$(strip_ms <"$NXLAB_DIR/out")"
		lines_at_most "[$args] at most one warning" 1 "$NXLAB_DIR/err"
		[ "$args" != "-4 www.lab.test" ] || expect_eq "[$args] exit status" 0 "$rc"
	done
	rc=0
	LD_PRELOAD=$LIB_FILE "$MHOSTENT" -r www.lab.test >"$NXLAB_DIR/out" 2>"$NXLAB_DIR/err" || rc=$?
	expect_eq "gethostbyname_r: exit 0 with musl's answer" "0 $(mhostent -r www.lab.test)" \
		"$rc $(<"$NXLAB_DIR/out")"
	lines_at_most "gethostbyname_r: at most one warning" 1 "$NXLAB_DIR/err"
}

# The musl preload in a glibc program: it stays out too.
test_musl_preload_in_glibc() {
	require_musl
	local rc want
	stale_name wrong2.lab.test A 192.0.2.88
	want=$(getent hosts localhost)
	rc=0
	LD_PRELOAD=$MLIB getent hosts localhost >"$NXLAB_DIR/out" 2>"$NXLAB_DIR/err" || rc=$?
	expect_eq "getent hosts localhost: exit 0 with glibc's answer" "0 $want" "$rc $(<"$NXLAB_DIR/out")"
	lines_at_most "getent: at most one warning" 1 "$NXLAB_DIR/err"
	for args in "-4 www.lab.test" "-4 wrong2.lab.test"; do
		# shellcheck disable=SC2086 # args are two words
		LD_PRELOAD=$MLIB "$GAI" $args >"$NXLAB_DIR/out" 2>"$NXLAB_DIR/err" || true
		# shellcheck disable=SC2086
		expect_eq "[$args] glibc's answer" "$(gai $args)" "$(strip_ms <"$NXLAB_DIR/out")"
		lines_at_most "[$args] at most one warning" 1 "$NXLAB_DIR/err"
	done
}

run_tests test_getaddrinfo test_gethostbyname test_gethostbyname_r test_threads test_free_sublist test_outside test_never \
	test_glibc_preload_in_musl test_musl_preload_in_glibc
