#!/usr/bin/env bash
# The engine is loaded from beside the library as the kernel mapped it, never through a relative path:
# a library preloaded as ./libnxretry.so, in a program that then changes directory into one holding a
# libnxretry-engine.so of its own, loads the real engine (the bypass works) and never the other; without
# /proc and with a relative LD_PRELOAD, no engine is loaded at all (one line says so, libc answers);
# the nxretry program hands the command an absolute NXRETRY_LIB.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

unset NXRETRY_TIMEOUT NXRETRY_MODE NXRETRY_CONFIG NXRETRY_LOG
export NXRETRY_ZONES=lab.test
readonly LIB_DIR=${LIB_FILE%/*} LIB_NAME=${LIB_FILE##*/} ROGUE=$NXLAB_DIR/rogue
readonly MARK=rogue-engine-loaded

# perl -e "$LOOKUP_AFTER_CD" DIR NAME: in one process, chdir to DIR, then getaddrinfo(NAME, IPv4,
# stream): its addresses, one a line, or "error N".
# shellcheck disable=SC2016 # perl's variables
readonly LOOKUP_AFTER_CD='
use Socket qw(getaddrinfo getnameinfo AF_INET SOCK_STREAM NI_NUMERICHOST NIx_NOSERV);
chdir $ARGV[0] or die "chdir $ARGV[0]: $!\n";
my ($err, @res) = getaddrinfo($ARGV[1], "", {family => AF_INET, socktype => SOCK_STREAM});
if ($err) { print "error ", $err + 0, "\n"; exit 0 }
for (@res) { my (undef, $host) = getnameinfo($_->{addr}, NI_NUMERICHOST, NIx_NOSERV); print "$host\n" }'

# A directory holding a libnxretry-engine.so whose loading leaves a file named $MARK in the working
# directory, and whose entry point starts no engine.
rogue_engine() {
	command -v "${CC:-cc}" >/dev/null || skip "no C compiler to build the rogue engine"
	command -v perl >/dev/null || skip "perl is not installed"
	mkdir -p "$ROGUE"
	rm -f "$ROGUE/$MARK"
	[ ! -e "$ROGUE/libnxretry-engine.so" ] || return 0
	"${CC:-cc}" -shared -fPIC -o "$ROGUE/libnxretry-engine.so" -x c - <<EOF
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void)
{
	int fd = open("$MARK", O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
}
void *nxretry_engine_v2(const void *libc) { (void)libc; return 0; }
EOF
}

# The rogue engine's mark: "loaded" or "not loaded".
rogue_loaded() {
	if [ -e "$ROGUE/$MARK" ]; then echo loaded; else echo "not loaded"; fi
}

test_relative_preload_after_chdir() {
	require_lib
	rogue_engine
	stale_name relative.lab.test A 192.0.2.71
	local out
	out=$(cd "$LIB_DIR" && LD_PRELOAD="$RUNTIME${RUNTIME:+ }./$LIB_NAME" \
		perl -e "$LOOKUP_AFTER_CD" "$ROGUE" relative.lab.test 2>"$NXLAB_DIR/stderr")
	expect_eq "the bypass answers" 192.0.2.71 "$out"
	expect_eq "the rogue engine" "not loaded" "$(rogue_loaded)"
	expect_eq "nothing logged" "" "$(cat "$NXLAB_DIR/stderr")"
}

# /proc hidden by an empty file system in a mount namespace of the test's own: the preload's only name
# is the relative one LD_PRELOAD gave.
test_relative_preload_without_proc() {
	require_lib
	rogue_engine
	command -v unshare >/dev/null || skip "unshare is not installed"
	[ -z "$RUNTIME" ] || skip "a sanitizer's runtime ($RUNTIME) cannot start without /proc"
	unshare --mount true 2>/dev/null || skip "no mount namespace for this user"
	stale_name noproc.lab.test A 192.0.2.72
	local out
	# shellcheck disable=SC2016 # $1.. are the inner shell's
	out=$(cd "$LIB_DIR" && unshare --mount sh -c 'mount -t tmpfs none /proc && exec "$@"' sh \
		env LD_PRELOAD="$RUNTIME${RUNTIME:+ }./$LIB_NAME" perl -e "$LOOKUP_AFTER_CD" "$ROGUE" noproc.lab.test \
		2>"$NXLAB_DIR/stderr")
	expect_eq "libc's answer (EAI_NONAME)" "error -2" "$out"
	expect_eq "the rogue engine" "not loaded" "$(rogue_loaded)"
	expect_eq "one line says why" \
		"nxretry: cannot locate libnxretry.so: no absolute path (no /proc/self/maps)" \
		"$(cat "$NXLAB_DIR/stderr")"
}

test_nxretry_lib_made_absolute() {
	require_lib
	# shellcheck disable=SC2016 # the command's own $LD_PRELOAD
	expect_eq "the command's LD_PRELOAD names the library by its absolute path" \
		"$RUNTIME${RUNTIME:+ }$LIB_FILE" \
		"$(cd "$LIB_DIR" && LD_PRELOAD=$RUNTIME NXRETRY_LIB=./$LIB_NAME "$LIB_DIR/nxretry" -- \
			sh -c 'printf "%s\n" "$LD_PRELOAD"')"
}

run_tests test_relative_preload_after_chdir test_relative_preload_without_proc test_nxretry_lib_made_absolute
