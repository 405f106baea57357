#!/usr/bin/env bash
# The build is architecture-aware: shim/cli/start.c calls __libc_start_main at the version
# scripts/glibc-compat read from this compiler's libc.so.6 (x86-64 GLIBC_2.2.5, aarch64 GLIBC_2.17).
# With aarch64-linux-gnu-gcc installed (not in CI), the preload and start.o are built for aarch64: the
# preload passes check-portable --preload (GCC's outline atomics would import __getauxval through a
# constructor) and a program started through start.o imports __libc_start_main@GLIBC_2.17 and links.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# lab timeout: 240

TOP=$(cd "$(dirname "$0")/../.." && pwd)
readonly TOP BUILD_DIR=${LIB_FILE%/*} CROSS=aarch64-linux-gnu-gcc

# The version of __libc_start_main FILE imports.
start_version() {
	objdump -T "$1" | awk '/\*UND\*/ && $NF == "__libc_start_main" { gsub(/[()]/, "", $(NF - 1)); print $(NF - 1) }'
}

test_host_start_version() {
	require_lib
	if [ -n "$RUNTIME" ] || [ ! -f "$BUILD_DIR/glibc-compat.h" ]; then
		skip "$BUILD_DIR has no glibc-compat.h (a sanitizer or musl build)"
	fi
	local want
	want=$(objdump -T "$(${CC:-cc} -print-file-name=libc.so.6)" |
		awk '$NF == "__libc_start_main" { gsub(/[()]/, "", $(NF - 1)); print $(NF - 1) }' | sort -V | head -n 1)
	expect_eq "glibc-compat selects libc.so.6's first __libc_start_main" \
		"#define NX_LIBC_START_MAIN_VERSION \"$want\"" \
		"$(grep NX_LIBC_START_MAIN_VERSION "$BUILD_DIR/glibc-compat.h")"
	expect_eq "nxretry imports it" "$want" "$(start_version "$BUILD_DIR/nxretry")"
}

test_aarch64_build() {
	command -v "$CROSS" >/dev/null || skip "$CROSS is not installed (apt-get install gcc-aarch64-linux-gnu)"
	if [ -n "$RUNTIME" ] || [ ! -f "$BUILD_DIR/glibc-compat.h" ]; then
		skip "$BUILD_DIR has no glibc-compat.h (a sanitizer or musl build)"
	fi
	local b=$NXLAB_DIR/build-aarch64 prog=$NXLAB_DIR/started-aarch64
	make -s -C "$TOP" CC="$CROSS" BUILD="$b" "$b/libnxretry.so" "$b/obj/start.o" >"$NXLAB_DIR/make.out" 2>&1 ||
		{ fail "make for aarch64: $(tail -n 3 "$NXLAB_DIR/make.out")"; return 1; }
	expect_eq "the preload is aarch64's" "AArch64" \
		"$(readelf -h "$b/libnxretry.so" | sed -n 's/^ *Machine: *//p')"
	expect_eq "check-portable --preload" "" "$("$TOP/scripts/check-portable" --preload "$b/libnxretry.so" 2>&1)"
	printf 'static int ran;\n__attribute__((constructor)) static void f(void) { ran++; }\nint main(void) { return ran != 1; }\n' |
		"$CROSS" -O2 -include "$b/glibc-compat.h" -o "$prog" -x c - -x none "$b/obj/start.o" -Wl,--wrap=__libc_start_main \
			2>"$NXLAB_DIR/link.out" || fail "link: $(cat "$NXLAB_DIR/link.out")"
	expect_eq "a program started by start.o imports" GLIBC_2.17 "$(start_version "$prog")"
}

run_tests test_host_start_version test_aarch64_build
