# shellcheck shell=bash
# Helpers for the lab tests (tests/lab/t-*.sh). tests/lab/run starts one scripts/dnslab per test file
# and runs the file inside it; the file defines test_* functions and ends with `run_tests test_a ...`.
#
# Assertions: ok/fail count, expect_eq/expect_between/expect_lines compare. A test passes when none of
# its assertions failed and no command in it failed unexpectedly (tests run with set -eE).
# Output: one line per test, "PASS|FAIL|SKIP <file> <test> (<ms> ms)", failed assertions indented
# under it (all assertions with NXLAB_VERBOSE=1). tests/lab/run counts those lines.

: "${NXRETRY_LIB:?set by tests/lab/run}" "${GAI:?set by tests/lab/run}" "${DNSLAB:?set by tests/lab/run}"
: "${NXLAB_DIR:?run inside scripts/dnslab}"

FAILS=0

ok() {
	if [ -n "${NXLAB_VERBOSE:-}" ]; then echo "    ok: $*"; fi
}

fail() {
	FAILS=$((FAILS + 1))
	echo "    FAIL: $*"
}

# skip REASON: ends the current test as skipped.
skip() {
	echo "    skip: $*"
	exit 77
}

# expect_eq DESC EXPECTED ACTUAL (multi-line values are shown indented on failure)
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1"
		echo "      expected:"
		indent <<<"$2"
		echo "      got:"
		indent <<<"$3"
	fi
}

indent() {
	sed 's/^/        /'
}

# expect_between DESC LOW HIGH VALUE: LOW <= VALUE < HIGH, integers.
expect_between() {
	if [ "$4" -ge "$2" ] && [ "$4" -lt "$3" ]; then
		ok "$1: $4 in [$2, $3)"
	else
		fail "$1: $4 not in [$2, $3)"
	fi
}

# expect_lines DESC EXPECTED ACTUAL: the same lines in any order.
expect_lines() {
	expect_eq "$1" "$(sort <<<"$2")" "$(sort <<<"$3")"
}

now_ms() {
	local ns
	ns=$(date +%s%N)
	echo $((ns / 1000000))
}

# gai ARGS...: the gai client without the preload; its output without the " ms=N" timing. The
# outcome is in the output's rc= line, so a failed lookup is no failed command.
gai() {
	{ "$GAI" "$@" || true; } | strip_ms
}

# nxgai ARGS...: the same under LD_PRELOAD=$NXRETRY_LIB; NXRETRY_* come from the caller's environment.
nxgai() {
	{ LD_PRELOAD=$NXRETRY_LIB "$GAI" "$@" || true; } | strip_ms
}

strip_ms() {
	sed '1s/ ms=[0-9]*$//'
}

# sleep_ms MS: sleeps MS milliseconds (nothing when MS <= 0).
sleep_ms() {
	if [ "$1" -gt 0 ]; then sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; fi
}

# ms_of OUTPUT: the ms= figure of a raw gai output.
ms_of() {
	sed -n '1s/.* ms=\([0-9]*\)$/\1/p' <<<"$1"
}

# ok_lines ADDR...: gai's output for a successful lookup with socktype 0, which glibc expands into a
# stream, a datagram and a raw node per address.
ok_lines() {
	local addr family
	echo "rc=0 OK"
	for addr in "$@"; do
		case $addr in *:*) family=inet6 ;; *) family=inet ;; esac
		printf '%s\n' "$family stream 6 $addr 0" "$family dgram 17 $addr 0" "$family raw 0 $addr 0"
	done
}

# wait_for DESC TIMEOUT_MS CMD...: polls CMD every 20 ms until it succeeds; false after TIMEOUT_MS.
wait_for() {
	local desc=$1 limit=$2 start
	shift 2
	start=$(now_ms)
	until "$@"; do
		if [ $(($(now_ms) - start)) -ge "$limit" ]; then
			fail "$desc: not within $limit ms"
			return 1
		fi
		sleep 0.02
	done
}

# resolver_saw NAME: the caching resolver has logged a query for NAME.
resolver_saw() {
	"$DNSLAB" resolver-log | grep -q "[ (]${1//./\\.}[. ]"
}

# stale_name NAME TYPE DATA: the timeline every bypass test starts from. NAME is looked up too early
# (A and AAAA, so the resolver caches NXDOMAIN for both types), then created at the authoritative
# server. The resolver must still answer NXDOMAIN, so that a later success can only be the bypass.
stale_name() {
	expect_eq "$1: early lookup fails" "rc=-2 EAI_NONAME" "$(gai "$1")"
	"$DNSLAB" add "$1" "$2" "$3"
	expect_eq "$1: resolver answers its cached NXDOMAIN to A and AAAA" "NXDOMAIN NXDOMAIN" \
		"$("$DNSLAB" resolve "$1" A) $("$DNSLAB" resolve "$1" AAAA)"
}

# The library file: NXRETRY_LIB is an LD_PRELOAD list, with a sanitizer's
# runtime before the library in sanitized builds (make check SANITIZE=...).
LIB_FILE=${NXRETRY_LIB##* }
# shellcheck disable=SC2034 # RUNTIME is used by the files that source this one
RUNTIME=${NXRETRY_LIB%"$LIB_FILE"}
RUNTIME=${RUNTIME% }

# For the files that run whole command lines through the nxretry program
# (README's blocks, --resolver): a sanitizer build's runtime would have to
# come first in every process they start, so they run the plain build only.
require_unsanitized() {
	[ -z "$RUNTIME" ] || skip "a sanitizer build (its runtime must come first in every process started)"
}

require_lib() {
	if [ ! -f "$LIB_FILE" ]; then
		fail "$LIB_FILE not built"
		return 1
	fi
}

# require_built TOOL...: fails the test when a lab tool is not built.
require_built() {
	local tool
	for tool in "$@"; do
		if [ ! -x "$tool" ]; then
			fail "$tool not built (make)"
			return 1
		fi
	done
}

# run_tests FUNCTION...: runs each test in a subshell, in order (tests in one file share the lab).
run_tests() {
	local t rc start status file=${0##*/} failed=0 level err=0
	for t in "$@"; do
		start=$(now_ms)
		set +e
		(
			# Report the command that aborts a test; not failures inside $(...) (a deeper subshell),
			# nor a helper's "return 1" (the helper has said what failed).
			level=$BASH_SUBSHELL
			trap 'err=$?; [ "$BASH_SUBSHELL" -ne "$level" ] || [[ $BASH_COMMAND == return* ]] ||
				echo "    FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: \"$BASH_COMMAND\" exited $err"' ERR
			set -eE
			"$t"
			if [ "$FAILS" -ne 0 ]; then exit 1; fi
		)
		rc=$?
		set -e
		case $rc in
		0) status=PASS ;;
		77) status=SKIP ;;
		*) status=FAIL; failed=1 ;;
		esac
		echo "$status $file ${t#test_} ($(($(now_ms) - start)) ms)"
	done
	return "$failed"
}
