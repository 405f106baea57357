#!/usr/bin/env bash
# The nxretry program (shim/cli/nxretry.c, built beside the library under test): option parsing and its
# errors (exact lines on stderr, exit 2), the environment it gives the command (LD_PRELOAD and GODEBUG
# appended to, NXRETRY_*), exec (exit status, signal and PID are the command's; usable as a container
# entrypoint with only NXRETRY_ZONES set, with no shell anywhere), the warning for static binaries,
# --check's report and exit codes, and `make install`'s layout, whose installed program finds the
# installed library.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
readonly TOP WRAPPER=${LIB_FILE%/*}/nxretry

unset NXRETRY_ZONES NXRETRY_TIMEOUT NXRETRY_MODE NXRETRY_CONFIG NXRETRY_LOG GODEBUG
# How long caches keep the lab's denials: min(SOA record TTL 3600, SOA MINIMUM) (RFC 2308 §5).
readonly NEG=$((NXLAB_NEG_TTL < 3600 ? NXLAB_NEG_TTL : 3600))

# wrapper ARGS...: the nxretry program with the library under test.
wrapper() {
	LD_PRELOAD=$RUNTIME NXRETRY_LIB=$LIB_FILE "$WRAPPER" "$@"
}

# result CMD...: "exit N", then CMD's stdout lines prefixed "out: ", then its stderr lines "err: ".
result() {
	local rc=0
	"$@" >"$NXLAB_DIR/stdout" 2>"$NXLAB_DIR/stderr" || rc=$?
	echo "exit $rc"
	sed 's/^/out: /' "$NXLAB_DIR/stdout"
	sed 's/^/err: /' "$NXLAB_DIR/stderr"
}

# ---- options and their errors ----------------------------------------------------------------------

test_usage_errors() {
	local args want
	while IFS='|' read -r args want; do
		# shellcheck disable=SC2086 # args are several words (none empty)
		expect_eq "nxretry $args" "exit 2
err: nxretry: $want" "$(result wrapper $args)"
	done <<'CASES'
--frobnicate -- true|unknown option '--frobnicate' (see nxretry --help)
-x true|unknown option '-x' (see nxretry --help)
--zone lab.test --verbosity 3 -- true|unknown option '--verbosity' (see nxretry --help)
--zone lab.test|no command given (see nxretry --help)
--zone lab.test -v --|no command given (see nxretry --help)
|no command given (see nxretry --help)
--zone|--zone needs a value (see nxretry --help)
--config|--config needs a value (see nxretry --help)
--timeout|--timeout needs a value (see nxretry --help)
--mode|--mode needs a value (see nxretry --help)
--check|--check needs a value (see nxretry --help)
--timeout= -- true|--timeout needs a value (see nxretry --help)
--config /nonexistent/nxretry.conf -- true|--config: /nonexistent/nxretry.conf: cannot read the configuration
--config=/nonexistent/x.conf true|--config: /nonexistent/x.conf: cannot read the configuration
--timeout soon -- true|--timeout: 'soon' is not a number of seconds
--timeout -1 -- true|--timeout: '-1' is not a number of seconds
--timeout 1e3 -- true|--timeout: '1e3' is not a number of seconds
--timeout 5s -- true|--timeout: '5s' is not a number of seconds
--timeout=.5 -- true|--timeout: '.5' is not a number of seconds
--mode last -- true|--mode: 'last' is not fallback or first
--mode=First -- true|--mode: 'First' is not fallback or first
CASES
	expect_eq "an empty --zone" "exit 2
err: nxretry: --zone needs a value (see nxretry --help)" "$(result wrapper --zone '' -- true)"
	# The same checks apply to settings taken from the environment (a container's).
	expect_eq "NXRETRY_TIMEOUT from the environment" "exit 2
err: nxretry: NXRETRY_TIMEOUT: 'abc' is not a number of seconds" "$(NXRETRY_TIMEOUT=abc result wrapper -- true)"
	expect_eq "NXRETRY_CONFIG from the environment" "exit 2
err: nxretry: NXRETRY_CONFIG: /nonexistent/env.conf: cannot read the configuration" \
		"$(NXRETRY_CONFIG=/nonexistent/env.conf result wrapper -- true)"
	expect_eq "NXRETRY_LIB unreadable" "exit 2
err: nxretry: NXRETRY_LIB=/nonexistent/libnxretry.so: not readable" \
		"$(NXRETRY_LIB=/nonexistent/libnxretry.so result "$WRAPPER" -- true)"
}

test_help() {
	local opt out
	for opt in -h --help "--zone lab.test -h"; do
		# shellcheck disable=SC2086 # opt may be several words
		out=$(result wrapper $opt)
		expect_eq "nxretry $opt: exit 0, nothing on stderr" "exit 0" "$(grep -v '^out: ' <<<"$out")"
		expect_eq "nxretry $opt: the synopsis" "out: nxretry: run a command with freshly created DNS names resolving through
out: stale negative caches.
out: 
out:   nxretry [--zone SUFFIX]... [--config FILE] [--timeout SECONDS]
out:           [--mode fallback|first] [-v|--verbose] [--] COMMAND [ARG]...
out:   nxretry --resolver[=auto|namespace|rewrite] [OPTION]... [--] COMMAND [ARG]...
out:                            the same, and COMMAND resolves through a stub
out:                            resolver for its life (static programs, dig)
out:   nxretry --check NAME [--zone SUFFIX]...   diagnose one name
out:   nxretry --serve [--listen ADDR[:PORT]]... [--upstream ADDR[:PORT]]...
out:           [--allow-remote] [--max-waits N] [--max-tcp N] [--zone SUFFIX]...
out:           [--config FILE] [--timeout SECONDS] [--mode fallback|first] [-v]
out:                                             a stub resolver (default 127.0.0.1:53)
out:   nxretry -h|--help" "$(sed -n '2,/-h|--help/p' <<<"$out")"
	done
}

# Options given after the command are the command's.
test_command_arguments() {
	expect_eq "arguments after the command" "exit 0
out: --frobnicate|-h|--zone|x" "$(result wrapper sh -c 'IFS="|"; echo "$*"' sh --frobnicate -h --zone x)"
	expect_eq "arguments after --" "exit 0
out: --|-v" "$(result wrapper -- sh -c 'IFS="|"; echo "$*"' sh -- -v)"
}

# ---- the command's environment ---------------------------------------------------------------------

# shellcheck disable=SC2016 # expanded by the command's shell
readonly PRINT_ENV='env | grep -E "^(NXRETRY_(ZONES|TIMEOUT|MODE|CONFIG|LOG)|GODEBUG)=" | sort'

test_environment() {
	local conf=$NXLAB_DIR/wrapper.conf
	echo 'timeout = 5;' >"$conf"
	expect_eq "no option: GODEBUG only" "exit 0
out: GODEBUG=netdns=cgo" "$(result wrapper -- sh -c "$PRINT_ENV")"
	expect_eq "every option" "exit 0
out: GODEBUG=netdns=cgo
out: NXRETRY_CONFIG=$conf
out: NXRETRY_LOG=info
out: NXRETRY_MODE=first
out: NXRETRY_TIMEOUT=2.5
out: NXRETRY_ZONES=a.test,b.test,c.test" \
		"$(result wrapper --zone a.test --zone=b.test --zone c.test --config "$conf" --timeout 2.5 \
			--mode first -v -- sh -c "$PRINT_ENV")"
	expect_eq "the = forms" "exit 0
out: GODEBUG=netdns=cgo
out: NXRETRY_CONFIG=$conf
out: NXRETRY_MODE=fallback
out: NXRETRY_TIMEOUT=10
out: NXRETRY_ZONES=lab.test" \
		"$(result wrapper --zone=lab.test --config="$conf" --timeout=10 --mode=fallback sh -c "$PRINT_ENV")"
	expect_eq "settings from the environment are kept" "exit 0
out: GODEBUG=netdns=cgo
out: NXRETRY_MODE=first
out: NXRETRY_TIMEOUT=7
out: NXRETRY_ZONES=env.test" \
		"$(NXRETRY_ZONES=env.test NXRETRY_TIMEOUT=7 NXRETRY_MODE=first result wrapper -- sh -c "$PRINT_ENV")"
	expect_eq "options replace the environment's" "exit 0
out: GODEBUG=netdns=cgo
out: NXRETRY_MODE=fallback
out: NXRETRY_TIMEOUT=3
out: NXRETRY_ZONES=opt.test" \
		"$(NXRETRY_ZONES=env.test NXRETRY_TIMEOUT=7 NXRETRY_MODE=first \
			result wrapper --zone opt.test --timeout 3 --mode fallback -- sh -c "$PRINT_ENV")"
	expect_eq "GODEBUG is appended to" "exit 0
out: GODEBUG=http2client=0,netdns=cgo" \
		"$(GODEBUG=http2client=0 result wrapper -- sh -c "$PRINT_ENV")"
}

# shellcheck disable=SC2016 # expanded by the command's shell
readonly PRINT_PRELOAD='printf "%s\n" "$LD_PRELOAD"'

test_ld_preload() {
	local dir other
	command -v "${CC:-cc}" >/dev/null || skip "no C compiler to build a library to preload"
	# Another preload that loads without a word on stderr: an empty library.
	dir=$(mktemp -d "$NXLAB_DIR/preload.XXXXXX")
	"${CC:-cc}" -shared -fPIC -o "$dir/libother.so" -x c /dev/null
	other=$RUNTIME${RUNTIME:+ }$dir/libother.so
	expect_eq "LD_PRELOAD: the library" "exit 0
out: $RUNTIME${RUNTIME:+ }$LIB_FILE" "$(result wrapper -- sh -c "$PRINT_PRELOAD")"
	expect_eq "LD_PRELOAD: appended to the one present" "exit 0
out: $other $LIB_FILE" "$(LD_PRELOAD=$other NXRETRY_LIB=$LIB_FILE result "$WRAPPER" -- sh -c "$PRINT_PRELOAD")"
}

# ---- exec: status, signals, PID --------------------------------------------------------------------

test_exit_status() {
	local n
	for n in 0 1 7 255; do
		expect_eq "sh -c 'exit $n'" "exit $n" "$(result wrapper --zone lab.test -- sh -c "exit $n")"
	done
	expect_eq "a command that does not exist" "exit 127" \
		"$(result wrapper -- /nonexistent/cmd | sed -n 1p)"
}

# perl's system() tells an exit status from a death by signal: "EXIT SIGNAL".
# shellcheck disable=SC2016 # perl's variables
readonly STATUS_OF='system { $ARGV[0] } @ARGV; printf "%d %d\n", $? >> 8, $? & 127'

test_signal() {
	local rc=0
	# In a subshell whose stderr takes bash's "Terminated" line.
	# shellcheck disable=SC2016 # the command's $$
	(wrapper --zone lab.test -- sh -c 'kill -TERM $$'; exit $?) 2>/dev/null || rc=$?
	expect_eq "SIGTERM, from the shell's view" 143 "$rc"
	rc=0
	# shellcheck disable=SC2016
	(wrapper -- sh -c 'kill -KILL $$'; exit $?) 2>/dev/null || rc=$?
	expect_eq "SIGKILL, from the shell's view" 137 "$rc"
	command -v perl >/dev/null || skip "perl is not installed (it tells a signal from an exit status)"
	# The wrapper itself dies of the signal (exec), rather than exiting 143 after its child did.
	expect_eq "SIGTERM, from wait(2)'s view: a signal, not an exit status" "0 15" \
		"$(LD_PRELOAD=$RUNTIME NXRETRY_LIB=$LIB_FILE perl -e "$STATUS_OF" "$WRAPPER" -- sh -c 'kill -TERM $$')"
	expect_eq "exit 143, from wait(2)'s view: an exit status" "143 0" \
		"$(LD_PRELOAD=$RUNTIME NXRETRY_LIB=$LIB_FILE perl -e "$STATUS_OF" "$WRAPPER" -- sh -c 'exit 143')"
}

# A container's ENTRYPOINT ["nxretry", "--"]: the environment holds NXRETRY_ZONES and nothing else (no
# PATH, no HOME); the command replaces the wrapper (same PID, so it gets the container's signals) and
# resolves a name its resolver has cached as absent.
test_container_entrypoint() {
	require_lib
	local out=$NXLAB_DIR/entrypoint pid extra=() want_preload
	want_preload=$(readlink -f "${WRAPPER%/*}/libnxretry.so" 2>/dev/null || true)
	# The program finds the libnxretry.so beside it by itself; another library under test (a
	# sanitizer build's, with its runtime) must be named.
	if [ -n "$RUNTIME" ] || [ "$(readlink -f "$LIB_FILE")" != "$want_preload" ]; then
		extra=(NXRETRY_LIB="$LIB_FILE" LD_PRELOAD="$RUNTIME")
		want_preload=$RUNTIME${RUNTIME:+ }$LIB_FILE
	fi
	stale_name entry.lab.test A 127.0.53.92
	# shellcheck disable=SC2016 # the command's variables
	env -i NXRETRY_ZONES=lab.test "${extra[@]}" "$WRAPPER" -- \
		sh -c 'echo "$$"; printf "%s\n" "$LD_PRELOAD" "$GODEBUG"; getent hosts entry.lab.test' \
		>"$out" 2>"$out.err" &
	pid=$!
	wait "$pid" || fail "the entrypoint exited $?"
	expect_eq "the command's PID is the wrapper's" "$pid" "$(sed -n 1p "$out")"
	expect_eq "LD_PRELOAD" "$want_preload" "$(sed -n 2p "$out")"
	expect_eq "GODEBUG" "netdns=cgo" "$(sed -n 3p "$out")"
	expect_eq "the stale name resolves" "127.0.53.92     entry.lab.test" "$(sed -n '4,$p' "$out")"
	expect_eq "nothing on stderr" "" "$(<"$out.err")"
}

# noshell PATH CMD...: CMD through the program with PATH alone in its environment (and NXRETRY_ZONES),
# in a private mount namespace where every file in $SHELLS is covered by $EMPTY, which cannot be run.
noshell() {
	local path=$1 extra=()
	shift
	if [ -n "$RUNTIME" ]; then extra=(NXRETRY_LIB="$LIB_FILE" LD_PRELOAD="$RUNTIME"); fi
	# shellcheck disable=SC2016 # expanded by the inner bash, which execs away before the program runs
	unshare --mount -- bash -c 'empty=$1 n=$2; shift 2
		for s in "${@:1:n}"; do mount --bind "$empty" "$s"; done
		shift "$n"; exec "$@"' bash "$EMPTY" ${#SHELLS[@]} "${SHELLS[@]}" \
		env -i PATH="$path" NXRETRY_ZONES=lab.test "${extra[@]}" "$WRAPPER" -- "$@"
}

# An image with no shell at all (distroless): every shell on the machine covered, PATH holding getent
# alone (or nothing). The program still finds its library and execs the command, which resolves a
# stale name.
test_no_shell() {
	require_lib
	local dir name file
	dir=$(mktemp -d "$NXLAB_DIR/noshell.XXXXXX")
	mkdir "$dir/bin"
	ln -s "$(command -v getent)" "$dir/bin/getent"
	EMPTY=$dir/empty SHELLS=()
	: >"$EMPTY"
	for name in sh bash dash ash busybox; do
		for file in "/bin/$name" "/usr/bin/$name"; do
			if [ -e "$file" ]; then SHELLS+=("$(readlink -f "$file")"); fi
		done
	done
	stale_name noshell.lab.test A 127.0.53.94
	expect_eq "no shell: sh cannot be found on PATH" "exit 127
err: nxretry: sh: No such file or directory" "$(result noshell "$dir/bin" sh -c 'echo a shell')"
	expect_eq "no shell: /bin/sh cannot be run" "exit 126
err: nxretry: /bin/sh: Permission denied" "$(result noshell "$dir/bin" /bin/sh -c 'echo a shell')"
	expect_eq "no shell, getent found on PATH: the stale name resolves" "exit 0
out: 127.0.53.94     noshell.lab.test" "$(result noshell "$dir/bin" getent hosts noshell.lab.test)"
	expect_eq "no shell, PATH leads nowhere, the command by its path" "exit 0
out: 127.0.53.94     noshell.lab.test" \
		"$(result noshell /nonexistent "$(command -v getent)" hosts noshell.lab.test)"
}

# ---- static binaries -------------------------------------------------------------------------------

test_static_warning() {
	local cc=${CC:-cc} dir
	command -v "$cc" >/dev/null || skip "no C compiler"
	dir=$(mktemp -d "$NXLAB_DIR/static.XXXXXX")
	printf '#include <stdio.h>\nint main(void) { puts("ran"); return 3; }\n' >"$dir/prog.c"
	"$cc" -o "$dir/dynamic" "$dir/prog.c"
	if ! "$cc" -static -o "$dir/static" "$dir/prog.c" 2>"$dir/cc.log"; then
		skip "cannot link statically (no libc.a: Debian package libc6-dev): $(head -n 1 "$dir/cc.log")"
	fi
	expect_eq "a static binary: one warning, then the command runs" "exit 3
out: ran
err: nxretry: warning: $dir/static is statically linked; nxretry cannot reach its lookups" \
		"$(result wrapper --zone lab.test -- "$dir/static")"
	expect_eq "a static binary found through PATH" "exit 3
out: ran
err: nxretry: warning: $dir/static is statically linked; nxretry cannot reach its lookups" \
		"$(PATH=$dir:$PATH result wrapper --zone lab.test -- static)"
	expect_eq "a dynamic binary: no warning" "exit 3
out: ran" "$(result wrapper --zone lab.test -- "$dir/dynamic")"
	printf '#!/bin/sh\necho script\n' >"$dir/script"
	chmod +x "$dir/script"
	expect_eq "a script: no warning" "exit 0
out: script" "$(result wrapper --zone lab.test -- "$dir/script")"
}

# ---- --check ---------------------------------------------------------------------------------------

# check_report ARGS...: the exit status and the resolver:, zone apex:, servers:, negative: and verdict:
# lines of `nxretry ARGS`, with the resolver's remaining cache TTL written N (it counts down).
check_report() {
	result wrapper "$@" | grep -E '^(exit |out: (resolver|zone apex|servers|negative|verdict):|err: )' |
		sed -E 's/(may stay cached )[0-9]+( s more)/\1N\2/'
}

test_check_stale_name() {
	require_lib
	stale_name check.lab.test A 127.0.53.91
	expect_eq "--check a stale name: exit 0, its address" "exit 0
out: resolver:   127.0.53.53 says NXDOMAIN (this answer may stay cached N s more, from its SOA)
out: zone apex:  lab.test (configured suffix lab.test)
out: servers:    ns1.lab.test (127.0.53.1 fd00:53::1)
out: negative:   caches keep a denial min(SOA TTL 3600, MINIMUM $NXLAB_NEG_TTL) = $NEG s
out: verdict:    stale negative answer: caches may keep it for up to $NEG s; nxretry returns 127.0.53.91 now (from 127.0.53.1)" \
		"$(check_report --zone lab.test --check check.lab.test)"
	local ttl
	ttl=$(result wrapper --check check.lab.test --zone lab.test |
		sed -n 's/^out: resolver: .*may stay cached \([0-9]*\) s more.*/\1/p')
	expect_between "the resolver's remaining negative TTL" 1 $((NEG + 1)) "${ttl:-0}"
	expect_eq "--check, the name line" "out: name:       check.lab.test" \
		"$(result wrapper --check CHECK.lab.test. --zone lab.test | sed -n 2p)"
}

test_check_never_created() {
	require_lib
	expect_eq "--check a name that exists nowhere: exit 1" "exit 1
out: resolver:   127.0.53.53 says NXDOMAIN (this answer may stay cached N s more, from its SOA)
out: zone apex:  lab.test (configured suffix lab.test)
out: servers:    ns1.lab.test (127.0.53.1 fd00:53::1)
out: negative:   caches keep a denial min(SOA TTL 3600, MINIMUM $NXLAB_NEG_TTL) = $NEG s
out: verdict:    the name exists nowhere yet: nxretry would wait up to 5 s for it" \
		"$(check_report --zone lab.test --timeout 5 --check never.lab.test)"
	expect_eq "--check an existing name: exit 0" "exit 0
out: resolver:   127.0.53.53 says addresses: 192.0.2.10 2001:db8::10
out: zone apex:  lab.test (configured suffix lab.test)
out: servers:    ns1.lab.test (127.0.53.1 fd00:53::1)
out: negative:   caches keep a denial min(SOA TTL 3600, MINIMUM $NXLAB_NEG_TTL) = $NEG s
out: verdict:    the name resolves now; nothing to bypass" \
		"$(check_report --zone lab.test --check www.lab.test)"
}

test_check_invalid_name() {
	local long
	long=$(printf 'a%.0s' {1..64}).lab.test
	expect_eq "--check bad..name" "exit 2
err: nxretry: 'bad..name' is not a valid host name" "$(result wrapper --zone lab.test --check bad..name)"
	expect_eq "--check a 64-character label" "exit 2
err: nxretry: '$long' is not a valid host name" "$(result wrapper --zone lab.test --check "$long")"
	expect_eq "--check an option" "exit 2
err: usage: nxretry --check NAME" "$(result wrapper --check -x)"
}

# ---- make install ----------------------------------------------------------------------------------

test_make_install() {
	require_lib
	local dest prefix files
	command -v make >/dev/null || skip "make is not installed"
	# make install BUILD=DIR must find DIR up to date: only a build made for shipping (portable.ok), not a
	# sanitizer build or one on another c-ares, whose make variables this test does not know.
	[ -f "${LIB_FILE%/*}/portable.ok" ] || skip "${LIB_FILE%/*} is not a build that is installed"
	dest=$(mktemp -d "$NXLAB_DIR/install.XXXXXX")
	prefix=$dest/usr/local
	# Not a sub-make of whatever make runs these tests.
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" install BUILD="${LIB_FILE%/*}" \
		DESTDIR="$dest" PREFIX=/usr/local >"$dest.log" 2>&1; then
		fail "make install: $(tail -n 5 "$dest.log")"
		return 1
	fi
	files=$(cd "$dest" && find . -type f -printf '%m %P\n' | sort -k2)
	expect_eq "installed files" "755 usr/local/bin/nxretry
644 usr/local/lib/nxretry/libnxretry-engine.so
644 usr/local/lib/nxretry/libnxretry.so
644 usr/local/share/doc/nxretry/README.md
644 usr/local/share/doc/nxretry/nxretry.conf
644 usr/local/share/man/man1/nxretry.1
644 usr/local/share/man/man5/nxretry.conf.5" "$files"

	# The installed program, with nothing pointing it at the checkout, finds the installed library.
	stale_name inst.lab.test A 127.0.53.93
	expect_eq "installed: --check" "exit 0
out: verdict:    stale negative answer: caches may keep it for up to $NEG s; nxretry returns 127.0.53.93 now (from 127.0.53.1)" \
		"$(env -u NXRETRY_LIB -u LD_PRELOAD "$prefix/bin/nxretry" --zone lab.test --check inst.lab.test |
			sed -n 's/^verdict:/out: &/p' | sed '1i exit 0')"
	# shellcheck disable=SC2016 # the command's LD_PRELOAD
	expect_eq "installed: a lookup" "exit 0
out: $prefix/lib/nxretry/libnxretry.so
out: 127.0.53.93     inst.lab.test" \
		"$(result env -u NXRETRY_LIB -u LD_PRELOAD "$prefix/bin/nxretry" --zone lab.test -- \
			sh -c 'printf "%s\n" "$LD_PRELOAD"; getent hosts inst.lab.test')"
	# Called through a symbolic link (/usr/bin/nxretry -> /usr/local/bin/nxretry, say).
	mkdir "$dest/links"
	ln -s "$prefix/bin/nxretry" "$dest/links/nxretry"
	expect_eq "installed, through a symlink" "exit 0
out: $prefix/lib/nxretry/libnxretry.so" \
		"$(result env -u NXRETRY_LIB -u LD_PRELOAD "$dest/links/nxretry" -- sh -c "$PRINT_PRELOAD")"

	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" uninstall BUILD="${LIB_FILE%/*}" \
		DESTDIR="$dest" PREFIX=/usr/local >"$dest.log" 2>&1 || fail "make uninstall: $(tail -n 5 "$dest.log")"
	expect_eq "make uninstall leaves no file" "" "$(cd "$dest" && find . -type f)"
}

run_tests test_usage_errors test_help test_command_arguments test_environment test_ld_preload \
	test_exit_status test_signal test_container_entrypoint test_no_shell test_static_warning test_check_stale_name \
	test_check_never_created test_check_invalid_name test_make_install
