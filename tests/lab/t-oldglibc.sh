#!/usr/bin/env bash
# The preload on a real older glibc: Debian 11's glibc 2.31 programs (scripts/old-glibc), run through
# their own ld.so. Before nxretry stopped importing GLIBC_2.34 symbols, ld.so refused to start any of them.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=5
readonly OLD=${NXLAB_OLD_GLIBC:-$PWD/.cache/glibc-2.31}
readonly LIBS=$OLD/lib/x86_64-linux-gnu
readonly V4=192.0.2.31

# old PROGRAM ARGS...: a glibc 2.31 program, its exit status as a last line "rc=N".
old() {
	local prog=$1
	shift
	"$LIBS/ld-2.31.so" --library-path "$LIBS" "$OLD/usr/bin/$prog" "$@" 2>&1 && echo "rc=0" || echo "rc=$?"
}

# nxold PROGRAM ARGS...: the same under the preload.
nxold() {
	LD_PRELOAD=$NXRETRY_LIB old "$@"
}

require_old() {
	require_lib
	if [ -n "$RUNTIME" ]; then skip "a sanitizer's runtime is built for this machine's glibc, not 2.31"; fi
	# make writes portable.ok beside a library it checked against GLIBC_2.17 (not for another c-ares).
	if [ ! -f "${LIB_FILE%/*}/portable.ok" ]; then skip "${LIB_FILE%/*} is not checked for glibc 2.17 (another c-ares)"; fi
	if [ -f "$OLD/skip" ]; then skip "$(cat "$OLD/skip")"; fi
	if [ ! -x "$LIBS/ld-2.31.so" ]; then skip "glibc 2.31 not unpacked in $OLD (make check runs scripts/old-glibc)"; fi
	expect_eq "the old libc is glibc 2.31" "2.31" \
		"$("$LIBS/ld-2.31.so" --library-path "$LIBS" "$LIBS/libc.so.6" | sed -n 's/.*release version \([0-9.]*\)\..*/\1/p')"
}

test_starts() {
	require_old
	expect_eq "a lookup outside the zones, libc's own answer" "$(old getent ahostsv4 localhost)" \
		"$(nxold getent ahostsv4 localhost)"
	expect_eq "which is an address" "127.0.0.1 rc=0" "$(nxold getent ahostsv4 localhost | awk 'NR == 1 { a = $1 } END { print a, $0 }')"
	expect_eq "a program that looks nothing up" "rc=0" "$(nxold iconv -l >/dev/null; echo rc=0)"
}

test_getaddrinfo_bypass() {
	require_old
	stale_name old.lab.test A "$V4"
	expect_eq "without the preload: glibc 2.31 gets the stale NXDOMAIN" "rc=2" \
		"$(old getent ahostsv4 old.lab.test)"
	expect_eq "getent ahostsv4 (getaddrinfo) under the preload" \
		"$(printf '%-15s %s\n' "$V4" "STREAM old.lab.test" "$V4" "DGRAM  " "$V4" "RAW    "; echo rc=0)" \
		"$(nxold getent ahostsv4 old.lab.test)"
}

test_gethostbyname2_bypass() {
	require_old
	expect_eq "getent hosts (gethostbyname2) under the preload" \
		"$(printf '%-15s %s\nrc=0' "$V4" old.lab.test)" "$(nxold getent hosts old.lab.test)"
}

test_never_created() {
	require_old
	expect_eq "a name that never appears: glibc 2.31's own failure after the deadline" "rc=2" \
		"$(NXRETRY_TIMEOUT=1 nxold getent ahostsv4 never.lab.test)"
}

# The nxretry program (its --check) is built for glibc 2.17 too.
test_check_tool() {
	require_old
	local out
	out=$("$LIBS/ld-2.31.so" --library-path "$LIBS" "${LIB_FILE%/*}/nxretry" --check old.lab.test 2>&1 &&
		echo "rc=0" || echo "rc=$?")
	expect_eq "nxretry --check under glibc 2.31: verdict and status" \
		"verdict:    stale negative answer: nxretry returns $V4 now rc=0" \
		"$(grep -E '^(verdict|rc=)' <<<"$out" | sed 's/ (.*//; s/ caches.*nxretry returns/ nxretry returns/' | paste -sd' ')"
}

run_tests test_starts test_getaddrinfo_bypass test_gethostbyname2_bypass test_check_tool test_never_created
