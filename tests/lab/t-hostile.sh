#!/usr/bin/env bash
# Programs that do to a lookup what real programs do, at the worst moment (tests/lab/hostile.c): a fork
# while another thread is inside nxretry's one-time initialisation, a cancellation pending when a
# thread starts it, 1,000 lookups left by siglongjmp out of a SIGALRM handler (as curl's synchronous
# resolver does), gethostbyname*'s errno, and a program that put a data file where stderr was. Each
# must leave the process as libc alone would: answers within the usual time, no descriptor left open,
# no line in the data file.
# The preload goes to the client alone (env after timeout): a sanitized build's library would break
# the uninstrumented timeout.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"

HOSTILE=$TOOLS_DIR/hostile
readonly MAX_MS=2000 # a lookup of localhost, with nxretry's initialisation
# Lookups left by siglongjmp. ThreadSanitizer holds a signal back until the sleep it interrupts
# ends (a backoff step, some 200 ms): its build runs fewer.
JUMPS=1000
if nm -D "$LIB_FILE" 2>/dev/null | grep -qw __tsan_init; then JUMPS=50; fi
readonly JUMPS

require_hostile() {
	require_lib && require_built "$HOSTILE"
}

# A configuration file the engine accepts.
config_file() {
	local file=$NXLAB_DIR/hostile.conf
	printf '%s\n' 'zones = ( { suffix = "lab.test"; } );' >"$file"
	echo "$file"
}

# without_ms: the lines in, without their " ms=N" timings.
without_ms() {
	sed 's/ ms=[0-9]*$//'
}

# field LINE_PREFIX KEY OUTPUT: the value of KEY= on the line starting with LINE_PREFIX.
field() {
	sed -n "s/^$1 .*$2=\([^ ]*\).*/\1/p" <<<"$3"
}

# A thread reads the configuration (a fifo that stays empty) inside the initialisation when the
# process forks: the child must not wait for a thread it does not have. Without the fix the child
# spins until its 5 s alarm ends it.
test_fork_during_init() {
	require_hostile
	local fifo=$NXLAB_DIR/hostile.fifo conf out ms
	conf=$(config_file)
	rm -f "$fifo" && mkfifo "$fifo"
	out=$(NXRETRY_CONFIG=$fifo timeout 30 env LD_PRELOAD="$NXRETRY_LIB" "$HOSTILE" fork-init "$fifo" "$conf" 2>&1) || true
	expect_eq "child and thread: localhost found" "child rc=0
thread rc=0" "$(without_ms <<<"$out")"
	ms=$(field child ms "$out")
	expect_between "child: ms for localhost" 0 "$MAX_MS" "${ms:-99999}"
}

# A thread starts the initialisation with a cancellation pending, and the configuration file's open
# is a cancellation point: the initialisation must complete (the cancel then ends the thread at
# libc's next one), or every later lookup of the process waits for it.
test_cancel_during_init() {
	require_hostile
	local conf out ms
	conf=$(config_file)
	out=$(NXRETRY_CONFIG=$conf timeout 30 env LD_PRELOAD="$NXRETRY_LIB" "$HOSTILE" cancel-init 2>&1) || true
	expect_eq "the thread cancelled, then localhost found" "thread cancelled
main rc=0" "$(without_ms <<<"$out")"
	ms=$(field main ms "$out")
	expect_between "main: ms for localhost" 0 "$MAX_MS" "${ms:-99999}"
}

# 1,000 lookups of a name nxretry waits for, each left 5 ms in by siglongjmp: no descriptor stays
# open (each wait has a c-ares socket), the thread's next lookup is nxretry's (a stale name: the
# authority's address, not libc's NXDOMAIN), and its cancellation state is its own again after it.
test_longjmp_out_of_lookups() {
	require_hostile
	local out
	stale_name jumped.lab.test A 192.0.2.71
	out=$(NXRETRY_ZONES=lab.test NXRETRY_MODE=first NXRETRY_TIMEOUT=10 \
		timeout 60 env LD_PRELOAD="$NXRETRY_LIB" "$HOSTILE" longjmp "$JUMPS" 5000 www.lab.test pending.lab.test jumped.lab.test 2>&1) || true
	expect_eq "descriptors: as many after as before" yes \
		"$(awk '$1 == "fds" { print ($2 == $3 && $2 > 0 ? "yes" : $2 " then " $3) }' <<<"$out")"
	expect_eq "every lookup interrupted, the next one bypasses, cancellation enabled" "interrupted $JUMPS
next rc=0 192.0.2.71
cancel enabled" "$(grep -v '^fds ' <<<"$out")"
}

# gethostbyname_r and gethostbyname of a name in the zone (one that exists, one that never will), in
# both modes: the first lookup loads the engine, whose files and sockets leave their errno behind
# (ENOENT); the caller must see what libc alone leaves (glibc: 0, in either case).
test_hostent_errno() {
	require_hostile
	local name mode plain nx
	for name in www.lab.test never.lab.test; do
		plain=$("$HOSTILE" errno "$name" 2>&1)
		for mode in fallback first; do
			nx=$(NXRETRY_ZONES=lab.test NXRETRY_MODE=$mode NXRETRY_TIMEOUT=0.3 LD_PRELOAD=$NXRETRY_LIB \
				"$HOSTILE" errno "$name" 2>&1)
			expect_eq "$name, mode $mode: errno as libc alone leaves it" "$plain" "$nx"
		done
	done
	expect_eq "libc alone: errno 0" "r rc=0 found=0 errno=0
static found=0 errno=0" "$plain"
}

# A program closed stderr and opened a data file, which became fd 2; then nxretry has a line to log
# (a configuration it rejects). rdwr: the file opened read-write before the first lookup; after: a
# file opened write-only after one, when fd 2 was still the test's stderr. The file must not change.
# With stderr left alone the same run logs its line (so the trigger works).
test_stderr_reused() {
	require_hostile
	local data=$NXLAB_DIR/hostile.data err=$NXLAB_DIR/hostile.err how out
	for how in rdwr after; do
		printf 'data\n' >"$data"
		out=$(NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=bogus LD_PRELOAD=$NXRETRY_LIB \
			"$HOSTILE" stderr "$how" "$data" absent.lab.test 2>"$err")
		expect_eq "$how: the lookup failed, the file was fd 2" "rc=-2 fd=2" "$out"
		expect_eq "$how: the data file unchanged" "data" "$(cat "$data")"
		expect_eq "$how: nothing on the old stderr either" "" "$(stderr_of "$err")"
	done
	NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=bogus LD_PRELOAD=$NXRETRY_LIB "$GAI" absent.lab.test \
		>/dev/null 2>"$err" || true
	expect_eq "stderr left alone: the line is logged" 1 "$(grep -c '^nxretry: .*configuration rejected' "$err")"
}

# The first lookup decides what concerns nxretry (NXRETRY_ZONES here) and keeps it in the library's
# own storage: the program's heap in use afterwards is what it is without the preload. Fails when the
# zone table is allocated there (8 KiB and more, kept for the process).
test_heap_untouched() {
	require_hostile
	expect_eq "heap in use after a lookup: as without the preload" "$("$HOSTILE" heap)" \
		"$(NXRETRY_ZONES=lab.test,other.test LD_PRELOAD=$NXRETRY_LIB "$HOSTILE" heap)"
}

run_tests test_fork_during_init test_cancel_during_init test_heap_untouched test_longjmp_out_of_lookups test_hostent_errno \
	test_stderr_reused
