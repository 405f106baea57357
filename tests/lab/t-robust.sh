#!/usr/bin/env bash
# Robustness: 10,000 lookups in one process (fresh names served again from the in-process answer cache,
# absent names failing at once after their first deadline, a name libc answers) leave no descriptor open
# and keep the authoritative servers quiet; valgrind finds no definite leak and no memory error in a
# smaller run; names too long for DNS, or not host names, get libc's answer at once.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=0.3
readonly NAMES="fresh1.lab.test fresh2.lab.test absent1.lab.test absent2.lab.test www.lab.test"
readonly THREADS_N=4 LOOPS=2500 # 10,000 lookups, 2,000 per name
readonly MAX_LOOP_MS=15000 MAX_AUTH_QUERIES=60 MAX_MS=300

# The outcome lines threads prints for COUNT lookups of each of NAMES.
want_results() {
	local count=$1
	printf '%s\n' "result absent1.lab.test rc=-2 EAI_NONAME count=$count" \
		"result absent2.lab.test rc=-2 EAI_NONAME count=$count" \
		"result fresh1.lab.test rc=0 OK 192.0.2.61 count=$count" \
		"result fresh2.lab.test rc=0 OK 192.0.2.62 count=$count" \
		"result www.lab.test rc=0 OK 192.0.2.10 count=$count"
}

# The fresh names, created too late, once per lab (the tests share it).
stale_fresh_names() {
	[ ! -e "$NXLAB_DIR/fresh-names" ] || return 0
	stale_name fresh1.lab.test A 192.0.2.61
	stale_name fresh2.lab.test A 192.0.2.62
	touch "$NXLAB_DIR/fresh-names"
}

test_ten_thousand_lookups() {
	require_tools
	local out=$NXLAB_DIR/loop before start ms
	stale_fresh_names
	before=$("$DNSLAB" auth-queries)
	start=$(now_ms)
	# shellcheck disable=SC2086 # NAMES are several words
	LD_PRELOAD=$NXRETRY_LIB "$THREADS" -4 -n "$LOOPS" "$THREADS_N" $NAMES >"$out" 2>"$NXLAB_DIR/stderr" || true
	ms=$(($(now_ms) - start))
	expect_eq "every outcome as expected, 2,000 lookups each" "$(want_results $((THREADS_N * LOOPS / 5)))" \
		"$(grep '^result ' "$out")"
	expect_eq "descriptors: as many after as before" yes \
		"$(awk '$1 == "fds" { print ($2 == $3 && $2 > 0 ? "yes" : $2 " then " $3) }' "$out")"
	expect_between "ms for 10,000 lookups" 0 "$MAX_LOOP_MS" "$ms"
	expect_between "authoritative queries for 10,000 lookups" 1 "$MAX_AUTH_QUERIES" \
		$(($("$DNSLAB" auth-queries) - before))
	expect_eq "nothing logged at the default level" "" "$(cat "$NXLAB_DIR/stderr")"
}

# valgrind on the loop client, 200 lookups (40 per name, in the order above), under the preload: no
# definitely lost block, no invalid access (ERROR SUMMARY counts both with these options).
test_valgrind() {
	require_tools
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	case $NXRETRY_LIB in *' '*) skip "a sanitizer build ($NXRETRY_LIB): valgrind cannot run it" ;; esac
	local out=$NXLAB_DIR/valgrind status=0
	stale_fresh_names
	# shellcheck disable=SC2086 # NAMES are several words
	LD_PRELOAD=$NXRETRY_LIB valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
		--log-file="$out.vg" "$THREADS" -4 -n 200 1 $NAMES >"$out" 2>/dev/null || status=$?
	expect_eq "exit status: 2 (absent names fail), not valgrind's 99" 2 "$status"
	expect_eq "outcomes" "$(want_results 40)" "$(grep '^result ' "$out")"
	expect_eq "valgrind: no error, no definite leak" "ERROR SUMMARY: 0 errors from 0 contexts" \
		"$(sed -n 's/^==[0-9]*== \(ERROR SUMMARY: [0-9]* errors from [0-9]* contexts\).*/\1/p' "$out.vg")"
	expect_eq "valgrind: nothing definitely lost" "" \
		"$(grep -E 'definitely lost: [1-9]|definitely lost in' "$out.vg" || true)"
}

# Names glibc cannot send (over 253 characters, a label over 63) give libc's own answer at once, in both
# modes. Each case: the name's length, then its label lengths, under lab.test.
test_long_names() {
	require_lib
	local len labels name label n raw mode
	while read -r len labels; do
		name=lab.test
		for n in $labels; do
			printf -v label '%*s' "$n" ''
			name=${label// /x}.$name
		done
		expect_eq "the name is $len characters" "$len" "${#name}"
		for mode in fallback first; do
			raw=$(NXRETRY_MODE=$mode NXRETRY_TIMEOUT=5 NXRETRY_LOG=debug LD_PRELOAD=$NXRETRY_LIB "$GAI" "$name" \
				2>"$NXLAB_DIR/stderr" || true)
			expect_eq "[$len $mode] as glibc" "$(gai "$name")" "$(strip_ms <<<"$raw")"
			expect_between "[$len $mode] ms" 0 "$MAX_MS" "$(ms_of "$raw")"
			expect_eq "[$len $mode] nothing asked (debug)" "" "$(stderr_of "$NXLAB_DIR/stderr")"
		done
	done <<'CASES'
300  63 63 63 63 35
254  63 63 63 53
73   64
CASES
}

# Names glibc sends no query for, not being host names (measured on 2.36: "$", "*", "/" or a leading
# "-"), give libc's own answer at once in both modes: no authority is asked to answer what glibc would
# never ask. An underscore is a name glibc does send, so it waits like any other (t-lab covers that).
test_not_host_names() {
	require_lib
	local name raw mode
	# shellcheck disable=SC2016 # a literal dollar sign
	for name in 'a$b.lab.test' '-a.lab.test' 'a*b.lab.test' 'a/b.lab.test'; do
		for mode in fallback first; do
			raw=$(NXRETRY_MODE=$mode NXRETRY_TIMEOUT=5 NXRETRY_LOG=debug LD_PRELOAD=$NXRETRY_LIB "$GAI" -- "$name" \
				2>"$NXLAB_DIR/stderr" || true)
			expect_eq "[$name $mode] as glibc" "$(gai -- "$name")" "$(strip_ms <<<"$raw")"
			expect_between "[$name $mode] ms" 0 "$MAX_MS" "$(ms_of "$raw")"
			expect_eq "[$name $mode] nothing asked (debug)" "" "$(stderr_of "$NXLAB_DIR/stderr")"
		done
	done
}

run_tests test_ten_thousand_lookups test_valgrind test_long_names test_not_host_names
