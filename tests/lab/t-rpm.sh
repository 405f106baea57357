#!/usr/bin/env bash
# make rpm as a user meets it: rpmlint silent (scripts/rpmlint.toml), the dependencies rpmbuild found
# (nothing past glibc 2.17), the tree (the .deb's), then `rpm --root DIR -i --nodeps` into a scratch root,
# the stale-cache bypass run from DIR/usr/bin/nxretry, `rpm -V` and `rpm -e`, after which DIR holds
# nothing but rpm's database. The host's rpm database is never written. A sanitizer build is not
# shipped, so it skips.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/ship.sh
. "$(dirname "$0")/ship.sh"

readonly RPM=$DIST/nxretry-$VERSION-1.$ARCH.rpm ROOT=$NXLAB_DIR/rpmroot

# rpmr ARGS...: rpm on the scratch root, its database where RHEL keeps it (Debian's rpm defaults to
# ~/.rpmdb), without the two lines Debian's rpm adds to every install or erase (use alien instead).
# rpmq ARGS...: a query of the package file, with a database of the lab's own.
rpmq() {
	rpm --dbpath "$NXLAB_DIR/querydb" "$@"
}

rpmr() {
	{ rpm --root "$ROOT" --dbpath /var/lib/rpm "$@" 2>&1 || echo "rpm exited $?"; } |
		grep -v -e '^rpm: RPM should not be used directly' -e '^rpm: However assuming you know' || true
}

test_rpm() {
	require_shipped
	command -v rpmbuild >/dev/null || skip "no rpmbuild (apt-get install rpm)"
	mk rpm
	expect_eq "make rpm: the package" "${RPM##*/}" "$(find "$DIST" -maxdepth 1 -name '*.rpm' -printf '%f\n')"
	if command -v rpmlint >/dev/null; then
		expect_eq "make rpm's output" "rpm: $RPM ($(stat -c %s "$RPM") bytes)
rpm: rpmlint: 1 packages and 0 specfiles checked; 0 errors, 0 warnings, 0 badness" \
			"$(grep '^rpm: ' "$NXLAB_DIR/make.log" | sed 's/;  *has taken .*//; s/rpmlint:  */rpmlint: /')"
	else
		echo "    note: rpmlint is not installed: the package is not linted"
	fi
	expect_eq "name, version, release, arch, license" "nxretry 0.1.0 1 x86_64 LicenseRef-nxretry AND MIT AND LGPL-2.1-or-later" \
		"$(rpmq -qp --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}\n' "$RPM")"
	expect_eq "the newest glibc version it needs" "GLIBC_2.17" \
		"$(rpmq -qp --requires "$RPM" | sed -n 's/^libc\.so\.6(\(GLIBC_[0-9.]*\))(64bit)$/\1/p' | sort -V | tail -n 1)"
	expect_eq "the package's tree: the .deb's, man pages compressed" "$({ sed 's| | /usr/|; s|\(man[15]/.*\)$|\1.gz|' <<<"$TREE_FILES"
		echo "644 /usr/lib/systemd/system/nxretry.service"
		echo "644 /usr/share/nxretry/resolved.conf.d/nxretry.conf"; } | sort -k2)" \
		"$(rpmq -qlpv "$RPM" | awk '$1 !~ /^d/ { print $1, $NF }' | sed 's/^-rwxr-xr-x/755/; s/^-rw-r--r--/644/' | sort -k2)"
	expect_eq "owned by root" "root root" "$(rpmq -qlpv "$RPM" | awk '{ print $3, $4 }' | sort -u)"

	stale_name rpm.lab.test A 127.0.53.93
	mkdir -p "$ROOT"
	expect_eq "rpm --initdb" "" "$(rpmr --initdb)"
	expect_eq "rpm --root DIR -i --nodeps" "" "$(rpmr -i --nodeps "$RPM")"
	expect_eq "rpm -qa" "nxretry-0.1.0-1.x86_64" "$(rpmr -qa)"
	expect_eq "installed: the stale name through DIR/usr/bin/nxretry" "$ROOT/usr/lib/nxretry/libnxretry.so
127.0.53.93     rpm.lab.test" \
		"$(env -u NXRETRY_LIB -u LD_PRELOAD "$ROOT/usr/bin/nxretry" --zone lab.test -- \
			sh -c "$PRINT_PRELOAD; getent hosts rpm.lab.test")"
	expect_eq "rpm -V: as packed" "" "$(rpmr -V --nodeps nxretry)"
	expect_eq "rpm -e" "" "$(rpmr -e --nodeps nxretry)"
	expect_eq "erased: only rpm's database left" "" "$(find "$ROOT" -not -type d | grep -v "^$ROOT/var/lib/rpm/" || true)"
}

run_tests test_rpm
