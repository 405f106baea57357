#!/usr/bin/env bash
# make dist's tarballs as a user meets them: exact contents, reproducible, libc alone, unpacked into a
# fresh prefix, moved, and the stale-cache bypass run through their bin/nxretry (the musl one with a
# musl client); and the GitHub action's script: exactly what it appends to $GITHUB_ENV, then a lookup
# in that environment. Made from the library under test's build directory; a sanitizer build is not
# shipped, so it skips.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/ship.sh
. "$(dirname "$0")/ship.sh"

# unpack TARBALL DIR: a fresh prefix.
unpack() {
	mkdir -p "$2"
	tar -C "$2" -xzf "$1"
}

# ---- make dist -------------------------------------------------------------------------------------

test_make_dist() {
	require_shipped
	local want tgz
	mk dist
	want=$(basename "$GNU_TGZ")
	if command -v musl-gcc >/dev/null; then want+=$'\n'$(basename "$MUSL_TGZ"); fi
	expect_eq "dist/: the tarballs" "$want" "$(find "$DIST" -maxdepth 1 -name '*.tar.gz' -printf '%f\n' | sort)"
	for tgz in "$DIST"/*.tar.gz; do
		expect_eq "${tgz##*/}: files and modes" "$TREE_FILES" \
			"$(tar -tvzf "$tgz" | awk '$1 !~ /^d/ { print $1, $NF }' | sed 's/^-rwxr-xr-x/755/; s/^-rw-r--r--/644/; s| \./| |' | sort -k2)"
		expect_eq "${tgz##*/}: owned by root (numeric)" "0/0" "$(tar -tvzf "$tgz" | awk '{ print $2 }' | sort -u)"
		expect_eq "${tgz##*/}: no top directory" "./" "$(tar -tzf "$tgz" | head -n 1)"
	done
	# Reproducible: the same tarball again, byte for byte.
	cp "$GNU_TGZ" "$NXLAB_DIR/first.tar.gz"
	mk dist
	expect_eq "make dist twice: the same bytes" "" "$(cmp "$GNU_TGZ" "$NXLAB_DIR/first.tar.gz" 2>&1)"
}

test_gnu_tarball() {
	require_shipped
	local prefix=$NXLAB_DIR/opt-gnu f
	[ -f "$GNU_TGZ" ] || { fail "$GNU_TGZ not made"; return 1; }
	unpack "$GNU_TGZ" "$prefix"
	# ld.so as well: glibc keeps __tls_get_addr, which the engine's
	# thread-local state (call.c, once.c) calls, in the dynamic loader.
	expect_eq "bin/nxretry needs libc alone" "libpthread.so.0 libdl.so.2 libc.so.6 ld-linux-x86-64.so.2" \
		"$(needed "$prefix/bin/nxretry")"
	expect_eq "the engine needs libc alone" "libpthread.so.0 libdl.so.2 libc.so.6 ld-linux-x86-64.so.2" \
		"$(needed "$prefix/lib/nxretry/libnxretry-engine.so")"
	expect_eq "the preload needs libc alone" "libc.so.6" "$(needed "$prefix/lib/nxretry/libnxretry.so")"
	for f in "$prefix/bin/nxretry" "$prefix"/lib/nxretry/*.so; do
		expect_eq "${f#"$prefix"/}: glibc 2.17" "" "$("$TOP/scripts/check-portable" "$f" 2>&1)"
	done
	expect_eq "stripped" "" "$(readelf -S "$prefix/bin/nxretry" "$prefix"/lib/nxretry/*.so | grep -E '\.(debug_info|symtab) ')"

	stale_name dist.lab.test A 127.0.53.95
	expect_eq "the tarball's nxretry: a stale name resolves" "$prefix/lib/nxretry/libnxretry.so
127.0.53.95     dist.lab.test" \
		"$(env -u NXRETRY_LIB -u LD_PRELOAD "$prefix/bin/nxretry" --zone lab.test -- \
			sh -c "$PRINT_PRELOAD; getent hosts dist.lab.test")"
	# Relocatable: the tree moved elsewhere finds its own library.
	mv "$prefix" "$NXLAB_DIR/moved"
	expect_eq "moved: the library beside it" "$NXLAB_DIR/moved/lib/nxretry/libnxretry.so
127.0.53.95     dist.lab.test" \
		"$(env -u NXRETRY_LIB -u LD_PRELOAD "$NXLAB_DIR/moved/bin/nxretry" --zone lab.test -- \
			sh -c "$PRINT_PRELOAD; getent hosts dist.lab.test")"
	expect_eq "moved: --check" "verdict:    stale negative answer: caches may keep it for up to" \
		"$("$NXLAB_DIR/moved/bin/nxretry" --zone lab.test --check dist.lab.test | sed -n 's/ [0-9]* s; nxretry.*//; /^verdict:/p')"
}

test_musl_tarball() {
	require_shipped
	local prefix=$NXLAB_DIR/opt-musl
	command -v musl-gcc >/dev/null || skip "no musl-gcc (apt-get install musl-tools): make dist makes no musl tarball"
	[ -f "$MUSL_TGZ" ] || { fail "$MUSL_TGZ not made"; return 1; }
	[ -x "$MUSL_BUILD/gai" ] || { fail "$MUSL_BUILD/gai: the musl client is not built"; return 1; }
	unpack "$MUSL_TGZ" "$prefix"
	expect_eq "musl: the program's interpreter" "/lib/ld-musl-x86_64.so.1" \
		"$(readelf -l "$prefix/bin/nxretry" | sed -n 's/.*program interpreter: \(.*\)\]/\1/p')"
	expect_eq "musl: bin/nxretry needs libc alone" "libc.so" "$(needed "$prefix/bin/nxretry")"
	expect_eq "musl: the engine needs libc alone" "libc.so.6" "$(needed "$prefix/lib/nxretry/libnxretry-engine.so")"
	expect_eq "musl: the preload needs libc alone" "libc.so.6" "$(needed "$prefix/lib/nxretry/libnxretry.so")"

	stale_name mdist.lab.test A 127.0.53.96
	expect_eq "the musl client alone: the stale NXDOMAIN" "rc=-2 EAI_NONAME" "$({ "$MUSL_BUILD/gai" -4 mdist.lab.test || true; } | strip_ms)"
	# musl names the canonical name on every node, asked or not (its getaddrinfo.c), and so does the engine there.
	expect_eq "the musl tarball's nxretry, a musl client: the stale name resolves" "rc=0 OK
inet stream 6 127.0.53.96 0 canon=mdist.lab.test" \
		"$({ env -u NXRETRY_LIB -u LD_PRELOAD "$prefix/bin/nxretry" --zone lab.test --timeout 5 -- \
			"$MUSL_BUILD/gai" -4 -s stream mdist.lab.test || true; } | strip_ms)"
	expect_eq "musl: --check" "verdict:    stale negative answer: caches may keep it for up to" \
		"$("$prefix/bin/nxretry" --zone lab.test --check mdist.lab.test | sed -n 's/ [0-9]* s; nxretry.*//; /^verdict:/p')"
}

# ---- the GitHub action -----------------------------------------------------------------------------

# action VAR=VALUE...: scripts/github-action with a fresh runner temp dir, GITHUB_ENV and GITHUB_PATH
# files, and the given inputs; prints "exit N", its stdout, then "env:" and "path:" lines of the files.
action() {
	local runner rc=0
	runner=$(mktemp -d "$NXLAB_DIR/runner.XXXXXX")
	: >"$runner/env" && : >"$runner/path"
	env -u LD_PRELOAD -u GODEBUG RUNNER_TEMP="$runner" GITHUB_ENV="$runner/env" GITHUB_PATH="$runner/path" \
		"$@" "$TOP/scripts/github-action" >"$runner/out" 2>"$runner/err" || rc=$?
	echo "exit $rc"
	sed 's/^/out: /' "$runner/out"
	sed 's/^/env: /' "$runner/env"
	sed 's/^/path: /' "$runner/path"
	echo "$runner" >"$NXLAB_DIR/last-runner"
}

test_github_action() {
	require_shipped
	local runner
	[ -f "$GNU_TGZ" ] || { fail "$GNU_TGZ not made"; return 1; }
	expect_eq "no zones" "exit 2
out: ::error title=nxretry::input zones: at least one zone suffix is needed" \
		"$(action INPUT_ZONES=' , ' INPUT_TARBALL="$GNU_TGZ")"
	expect_eq "a bad timeout" "exit 2
out: ::error title=nxretry::input timeout: '2m' is not a number of seconds" \
		"$(action INPUT_ZONES=lab.test INPUT_TIMEOUT=2m INPUT_TARBALL="$GNU_TGZ")"
	expect_eq "a bad mode" "exit 2
out: ::error title=nxretry::input mode: 'last' is not fallback or first" \
		"$(action INPUT_ZONES=lab.test INPUT_MODE=last INPUT_TARBALL="$GNU_TGZ")"

	local out
	out=$(action INPUT_ZONES=$'lab.test other.test\nthird.test' INPUT_TIMEOUT=30 INPUT_MODE=fallback \
		INPUT_TARBALL="$GNU_TGZ")
	runner=$(cat "$NXLAB_DIR/last-runner")
	expect_eq "from the tarball: what GITHUB_ENV and GITHUB_PATH get" "exit 0
out: nxretry: $runner/nxretry/lib/nxretry/libnxretry.so preloaded for the next steps, zones lab.test,other.test,third.test
env: LD_PRELOAD=$runner/nxretry/lib/nxretry/libnxretry.so
env: NXRETRY_ZONES=lab.test,other.test,third.test
env: NXRETRY_TIMEOUT=30
env: NXRETRY_MODE=fallback
env: GODEBUG=netdns=cgo
path: $runner/nxretry/bin" "$out"

	# A later step: the runner exports each NAME=VALUE line; a lookup of a stale name succeeds.
	stale_name action.lab.test A 127.0.53.98
	expect_eq "a later step, in that environment: the stale name resolves" "127.0.53.98     action.lab.test" \
		"$(while IFS='=' read -r name value; do export "$name=$value"; done <"$runner/env"
			getent hosts action.lab.test)"
	expect_eq "a later step: nxretry --check on PATH" "verdict:    stale negative answer: caches may keep it for up to" \
		"$(PATH=$(cat "$runner/path"):$PATH NXRETRY_ZONES=lab.test nxretry --check action.lab.test |
			sed -n 's/ [0-9]* s; nxretry.*//; /^verdict:/p')"

	# Built with make (no tarball), after another preload: appended to.
	out=$(action INPUT_ZONES=lab.test NXRETRY_ACTION_BUILD="$BUILD_DIR" LD_PRELOAD=libother.so GODEBUG=x=1)
	runner=$(cat "$NXLAB_DIR/last-runner")
	expect_eq "built with make, appended to LD_PRELOAD and GODEBUG" "exit 0
out: nxretry: $runner/nxretry/lib/nxretry/libnxretry.so preloaded for the next steps, zones lab.test
env: LD_PRELOAD=libother.so $runner/nxretry/lib/nxretry/libnxretry.so
env: NXRETRY_ZONES=lab.test
env: GODEBUG=x=1,netdns=cgo
path: $runner/nxretry/bin" "$out"
	expect_eq "built with make: the same tree" "$(cut -d' ' -f2 <<<"$TREE_FILES")" \
		"$(cd "$runner/nxretry" && find . -type f | sed 's|^\./||' | sort)"
}

# node_action STATEFILE VAR=VALUE...: the action as the runner runs it (node, action.yml's main file), with
# GITHUB_STATE=STATEFILE; the post step when the VARs include STATE_main=done. Prints "exit N" and its
# stdout and stderr.
node_action() {
	local state=$1 runner rc=0
	shift
	runner=$(mktemp -d "$NXLAB_DIR/runner.XXXXXX")
	: >"$runner/env"
	env -u LD_PRELOAD -u GODEBUG RUNNER_TEMP="$runner" GITHUB_ENV="$runner/env" GITHUB_STATE="$state" "$@" \
		node "$TOP/scripts/github-action.js" >"$runner/out" 2>&1 || rc=$?
	echo "exit $rc"
	cat "$runner/out"
	echo "$runner" >"$NXLAB_DIR/last-runner"
}

# post_env STATEFILE: the STATE_* variables the runner gives the post step.
post_env() {
	sed 's/^/STATE_/' "$1"
}

# resolver: true without systemd-resolved (the lab): resolv.conf names the stub for the rest of the job,
# dig (which no preload reaches) gets a stale name, and the post step puts the file back byte for byte.
test_github_action_resolver() {
	require_shipped
	local state=$NXLAB_DIR/state.rewrite out
	command -v node >/dev/null || skip "no node (the runner's own runs action.yml's main and post)"
	[ -f "$GNU_TGZ" ] || { fail "$GNU_TGZ not made"; return 1; }
	cp /etc/resolv.conf "$NXLAB_DIR/resolv.before"
	# Made stale before the stub is in the way (it would hold the early lookup until the timeout).
	stale_name ci.lab.test A 127.0.53.97
	expect_eq "a bad resolver input" "exit 2
::error title=nxretry::input resolver: 'yes' is not true or false" \
		"$(node_action "$state.bad" INPUT_ZONES=lab.test INPUT_RESOLVER=yes INPUT_TARBALL="$GNU_TGZ")"
	out=$(node_action "$state" INPUT_ZONES=lab.test INPUT_TIMEOUT=10 INPUT_RESOLVER=true INPUT_TARBALL="$GNU_TGZ")
	expect_eq "main: preload, then the stub named first by /etc/resolv.conf" "exit 0
nxretry: $(cat "$NXLAB_DIR/last-runner")/nxretry/lib/nxretry/libnxretry.so preloaded for the next steps, zones lab.test
nxretry: /etc/resolv.conf names the stub first for the rest of the job" "$out"
	expect_eq "main: the state saved for post" "main=done
resolver=rewrite
pid=PID" "$(sed 's/^pid=[0-9][0-9]*$/pid=PID/' "$state")"
	expect_eq "a later step: dig gets the stale name through the stub" "127.0.53.97" "$(dig +short ci.lab.test)"
	expect_eq "post: stopped and restored" "exit 0
nxretry: the stub stopped; the resolver configuration is the runner's again" \
		"$(mapfile -t st < <(post_env "$state"); node_action /dev/null "${st[@]}" INPUT_ZONES=lab.test)"
	expect_eq "post: /etc/resolv.conf byte for byte" "" "$(cmp /etc/resolv.conf "$NXLAB_DIR/resolv.before" 2>&1)"
	expect_eq "post: no nxretry process" "" "$(pgrep -a -x nxretry || true)"
	expect_eq "post: dig gets the resolver's stale denial again" "NXDOMAIN" \
		"$(dig +noall +comments ci.lab.test | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')"
}

# resolver: true with systemd-resolved (hosted runners), in a throwaway copy of the machine whose
# systemctl is a recorder: the stub forwards to resolved's upstreams, the drop-in routes resolved to it,
# and post leaves nothing behind but what the copy's recorder wrote.
test_github_action_resolved() {
	require_shipped
	local list=$NXLAB_DIR/resolved.list out
	command -v node >/dev/null || skip "no node"
	[ -f "$GNU_TGZ" ] || { fail "$GNU_TGZ not made"; return 1; }
	stale_name runner.lab.test A 127.0.53.99
	# shellcheck disable=SC2016 # run by the copy's bash
	out=$("$TOP/tests/lab/overlay-root" "$NXLAB_DIR" "$list" bash -c '
		set -u
		mkdir -p /usr/local/libexec/fake /run/systemd/resolve
		printf "%s\n" "#!/bin/sh" "echo \"\$*\" >>/usr/local/libexec/fake/systemctl.log" \
			"[ \"\$1\" != is-active ] || [ \"\$3\" = systemd-resolved ]" >/usr/local/libexec/fake/systemctl
		chmod +x /usr/local/libexec/fake/systemctl
		export PATH=/usr/local/libexec/fake:$PATH
		printf "nameserver %s\n" "$1" >/run/systemd/resolve/resolv.conf
		: >/tmp/state
		env -u LD_PRELOAD RUNNER_TEMP=/tmp GITHUB_ENV=/tmp/env GITHUB_STATE=/tmp/state INPUT_ZONES=lab.test \
			INPUT_RESOLVER=true INPUT_TARBALL="/mnt/dist/${2##*/}" node "$3/scripts/github-action.js" | tail -n 1
		echo "state: $(grep -v ^pid= /tmp/state | paste -sd" ")"
		cat /etc/systemd/resolved.conf.d/nxretry.conf
		echo "stub: $(dig @127.53.0.53 +short runner.lab.test)"
		mapfile -t st < <(sed s/^/STATE_/ /tmp/state)
		env -u LD_PRELOAD "${st[@]}" node "$3/scripts/github-action.js" | tail -n 1
		[ -e /etc/systemd/resolved.conf.d ] || echo "drop-in directory removed"
		pgrep -x nxretry || echo "no nxretry process"
		cat /usr/local/libexec/fake/systemctl.log
		rm -r /usr/local/libexec/fake /run/systemd/resolve /tmp/state /tmp/env /tmp/nxretry' \
		bash "$NXLAB_RESOLVER" "$GNU_TGZ" "$TOP" 2>&1)
	expect_eq "resolved: main, the drop-in, the stub; post" "nxretry: systemd-resolved asks the stub on 127.53.0.53:53 (/etc/systemd/resolved.conf.d/nxretry.conf) for the rest of the job
state: main=done dropin_dir=made resolver=resolved
# nxretry (GitHub action): every name through its stub until the job's post step
[Resolve]
DNS=127.53.0.53
Domains=~.
Cache=no-negative
stub: 127.0.53.99
nxretry: the stub stopped; the resolver configuration is the runner's again
drop-in directory removed
no nxretry process
is-active --quiet systemd-resolved
restart systemd-resolved
restart systemd-resolved" "$out"
	# Directories copied up to the overlay's upper layer are listed too: files only (whiteouts included).
	expect_eq "resolved: no file left in the copy" "" "$(grep -v '^d ' "$list" || true)"
}

run_tests test_make_dist test_gnu_tarball test_musl_tarball test_github_action test_github_action_resolver \
	test_github_action_resolved
