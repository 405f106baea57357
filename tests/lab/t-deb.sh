#!/usr/bin/env bash
# make deb as a user meets it: control fields, the tree, lintian silent at every level, then
# `apt-get install ./FILE.deb` as root of a throwaway copy of this machine (tests/lab/overlay-root: a
# private mount namespace, an overlay of / on a tmpfs, chroot), the stale-cache bypass through the
# installed /usr/bin/nxretry, the systemd unit (systemd-analyze verify, disabled, its ExecStart serving
# a stale name), README's host block (tests/lab/readme.sh; a recording systemctl), and `apt-get purge`, after which dpkg's status is byte for byte what it
# was and nothing outside the package manager's state, caches and logs was written. The host's files
# and package database are never written. A sanitizer build is not shipped, so it skips.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/ship.sh
. "$(dirname "$0")/ship.sh"
# shellcheck source=tests/lab/readme.sh
. "$(dirname "$0")/readme.sh"

# ---- make deb --------------------------------------------------------------------------------------

# The script run as root of the throwaway copy: install, list, look up, purge. Each step's outcome on
# one line; apt's and dpkg's chatter to /mnt/apt.log.
# shellcheck disable=SC2016 # run by the copy's bash
readonly DEB_SCRIPT='set -u
export DEBIAN_FRONTEND=noninteractive PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The man-db trigger would rebuild the whole manual index (a minute): off, in this copy only.
echo "man-db man-db/auto-update boolean false" | debconf-set-selections
cp /var/lib/dpkg/status /tmp/status.before
apt-get install -y "/mnt/$1" >>/mnt/apt.log 2>&1; echo "install: $?"
dpkg-query -W -f="\${Status} \${Version}\n" nxretry
dpkg -L nxretry | grep -E "^/usr/(bin|lib/nxretry)/." | sort
env -u LD_PRELOAD -u NXRETRY_LIB nxretry --zone lab.test -- sh -c "printf \"%s\\n\" \"\$LD_PRELOAD\"; getent hosts deb.lab.test"
unit=/usr/lib/systemd/system/nxretry.service
# --man=no: the check runs man, which caches a formatted page (man -w finds it without); verify stamps
# /run/systemd/systemd-units-load, here on a tmpfs of its own.
mkdir -p /run/systemd
unshare --mount sh -c "mount -t tmpfs verify /run/systemd && systemd-analyze verify --man=no $unit" 2>&1
echo "verify: $?"
echo "man: $(man -w nxretry)"
echo "unit: $(systemctl --root=/ is-enabled nxretry.service 2>&1)"
ls /etc/systemd/resolved.conf.d 2>&1 | sed "s/^ls: cannot access .*/resolved drop-in: not active/"
echo "drop-in: $(grep -E "^(DNS|Domains|Cache)=" /usr/share/nxretry/resolved.conf.d/nxretry.conf | paste -sd" ")"
# The unit'"'"'s command as systemd runs it: the environment file, $$ as $, continued lines joined.
mkdir -p /run/systemd/resolve && echo "nameserver $2" >/run/systemd/resolve/resolv.conf
echo NXRETRY_ZONES=lab.test >/etc/default/nxretry
cmd=$("$3/tests/lab/unit-exec" "$unit")
(set -a; . /etc/default/nxretry; eval "exec $cmd") 2>/mnt/serve.log & pid=$!
for i in $(seq 100); do dig @127.0.0.1 -p 5300 +short +tries=1 +time=1 ddeb.lab.test >/tmp/dig.out 2>&1 && [ -s /tmp/dig.out ] && break; sleep 0.05; done
echo "the unit'"'"'s stub: $(cat /tmp/dig.out)"
kill $pid; wait $pid; echo "stopped: $?"
rm -r /run/systemd/resolve /etc/default/nxretry /tmp/dig.out
# README'"'"'s host block, with a systemctl that records what it is asked.
mkdir -p /tmp/fake && printf "#!/bin/sh\necho \"systemctl \$*\"\n" >/tmp/fake/systemctl && chmod +x /tmp/fake/systemctl
PATH=/tmp/fake:$PATH bash -e -c "$4" >/tmp/host.out 2>&1; echo "host block: $?"
cat /tmp/host.out
echo "link: $(readlink /etc/systemd/resolved.conf.d/nxretry.conf) $(grep -c "^DNS=127.0.0.1:5300$" /etc/systemd/resolved.conf.d/nxretry.conf)"
rm -r /tmp/fake /tmp/host.out /etc/default/nxretry /etc/systemd/resolved.conf.d
apt-get purge -y nxretry >>/mnt/apt.log 2>&1; echo "purge: $?"
dpkg-query -W nxretry >/dev/null 2>&1; echo "query after purge: $?"
cmp -s /var/lib/dpkg/status /tmp/status.before; echo "dpkg status as before: $?"
rm /tmp/status.before'

test_deb() {
	require_shipped
	local out list=$NXLAB_DIR/deb-upper.list
	command -v dpkg-deb >/dev/null || skip "not a Debian system (no dpkg-deb)"
	mk deb
	expect_eq "make deb: the package" "$(basename "$DEB")" "$(find "$DIST" -maxdepth 1 -name '*.deb' -printf '%f\n')"
	expect_eq "control: package, version, architecture, dependency" "nxretry
$VERSION
amd64
libc6 (>= 2.17)" "$(dpkg-deb -f "$DEB" Package Version Architecture Depends | sed 's/^[A-Za-z]*: //')"
	expect_eq "the package's tree" "$({ sed 's| | ./usr/|; s|\(man[15]/.*\)$|\1.gz|' <<<"$TREE_FILES"
		printf '644 ./usr/share/%s\n' doc/nxretry/changelog.gz doc/nxretry/copyright lintian/overrides/nxretry \
			nxretry/resolved.conf.d/nxretry.conf
		echo "644 ./usr/lib/systemd/system/nxretry.service"
	} | sort -k2)" \
		"$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print $1, $NF }' | sed 's/^-rwxr-xr-x/755/; s/^-rw-r--r--/644/' | sort -k2)"
	# make deb ran lintian (it fails when lintian says anything).
	if command -v lintian >/dev/null; then
		expect_eq "make deb's output" "deb: $DEB ($(stat -c %s "$DEB") bytes)
deb: lintian, every level: nothing to say" "$(grep '^deb: ' "$NXLAB_DIR/make.log")"
	else
		echo "    note: lintian is not installed: the package is not linted"
	fi

	stale_name deb.lab.test A 127.0.53.97
	"$DNSLAB" add ddeb.lab.test A 127.0.53.96
	out=$("$TOP/tests/lab/overlay-root" "$DIST" "$list" bash -c "$DEB_SCRIPT" bash "${DEB##*/}" "$NXLAB_RESOLVER" "$TOP" \
		"$(readme_block host)" 2>&1) ||
		fail "overlay-root exited $?"
	expect_eq "apt-get install ./FILE.deb, the bypass through /usr/bin/nxretry, apt-get purge" "install: 0
install ok installed $VERSION
/usr/bin/nxretry
/usr/lib/nxretry/libnxretry-engine.so
/usr/lib/nxretry/libnxretry.so
/usr/lib/nxretry/libnxretry.so
127.0.53.97     deb.lab.test
verify: 0
man: /usr/share/man/man1/nxretry.1.gz
unit: disabled
resolved drop-in: not active
drop-in: DNS=127.0.0.1:5300 Domains=~. Cache=no-negative
the unit's stub: 127.0.53.96
stopped: 0
host block: 0
NXRETRY_ZONES=lab.test
systemctl enable --now nxretry.service
systemctl restart systemd-resolved
link: /usr/share/nxretry/resolved.conf.d/nxretry.conf 1
purge: 0
query after purge: 1
dpkg status as before: 0" "$out"
	# What the copy's writes were: nothing named nxretry, nothing outside the package manager's state,
	# logs and caches (directories copied up to hold a file that is gone again do not count).
	expect_eq "purged: no file left with nxretry in its path" "" "$(grep nxretry "$list" || true)"
	expect_eq "purged: nothing written outside var/{lib/dpkg,lib/apt,cache,log} and tmp" "" \
		"$(grep -v '^d ' "$list" | grep -vE '^. (var/lib/dpkg|var/lib/apt|var/cache|var/log)/' || true)"
	expect_eq "the host: nxretry not installed" "" "$(dpkg-query -W nxretry 2>/dev/null || true)"
	expect_eq "the host: no /usr/bin/nxretry" "" "$(ls /usr/bin/nxretry 2>/dev/null || true)"
}

run_tests test_deb
