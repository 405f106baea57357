# shellcheck shell=bash
# Shared by the tests of what is shipped (t-dist.sh, t-deb.sh): where the artifacts go, how they are
# made, the tree every one of them holds. Sourced after lib.sh.
# shellcheck disable=SC2034 # the variables are used by the files that source this one

TOP=$(cd "$(dirname "$0")/../.." && pwd)
MUSL_BUILD=$(realpath -m "${NXRETRY_MUSL_BUILD:-$TOP/build-musl}")
VERSION=$(cat "$TOP/VERSION")
readonly TOP MUSL_BUILD VERSION BUILD_DIR=${LIB_FILE%/*} DIST=$NXLAB_DIR/dist ARCH=x86_64
readonly GNU_TGZ=$DIST/nxretry-$VERSION-$ARCH-linux-gnu.tar.gz MUSL_TGZ=$DIST/nxretry-$VERSION-$ARCH-linux-musl.tar.gz
readonly DEB=$DIST/nxretry_${VERSION}_amd64.deb

unset NXRETRY_ZONES NXRETRY_TIMEOUT NXRETRY_MODE NXRETRY_CONFIG NXRETRY_LOG GODEBUG
# shellcheck disable=SC2016 # expanded by the command's shell
readonly PRINT_PRELOAD='printf "%s\n" "$LD_PRELOAD"'

# Only a build make checked for shipping (portable.ok: not a sanitizer build, nor one on another c-ares,
# whose make variables these tests do not know) is packed: make dist BUILD=DIR must find it up to date.
require_shipped() {
	require_lib
	if [ -n "$RUNTIME" ] || [ ! -f "$BUILD_DIR/portable.ok" ]; then
		skip "$BUILD_DIR is not a build that is shipped (a sanitizer build, or another c-ares)"
	fi
	if [ "$(uname -m)" != "$ARCH" ]; then skip "the tarballs are named for $ARCH"; fi
}

# mk TARGET...: make in the checkout (not a sub-make of whatever make runs these tests), from the build
# under test, into $DIST.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" BUILD="$BUILD_DIR" MUSL_BUILD="$MUSL_BUILD" \
		DIST="$DIST" "$@" >"$NXLAB_DIR/make.log" 2>&1 || { fail "make $*: $(tail -n 5 "$NXLAB_DIR/make.log")"; return 1; }
}

# The files of a tree (a tarball's or the .deb's /usr), with their modes.
readonly TREE_FILES="755 bin/nxretry
644 lib/nxretry/libnxretry-engine.so
644 lib/nxretry/libnxretry.so
644 share/doc/nxretry/README.md
644 share/doc/nxretry/nxretry.conf
644 share/man/man1/nxretry.1
644 share/man/man5/nxretry.conf.5"

# needed FILE: its NEEDED libraries on one line.
needed() {
	readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd' '
}

