#!/usr/bin/env bash
# nxretry --resolver: a command (a static Go program, dig) resolves a stale name through a stub that
# lives as long as the command, in a private mount namespace (the lab's /etc/resolv.conf, a regular
# file bind-mounted as Docker does, and a symbolic link as systemd-resolved makes, in a throwaway copy
# of the machine: tests/lab/overlay-root) or by rewriting /etc/resolv.conf and restoring it (a root
# container without CAP_SYS_ADMIN); exit status and signals are the command's; no stub is left; without
# the privileges, one line and the preload alone; under sudo the command runs as the invoking user.
# lab timeout: 180
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
readonly TOP NX=${LIB_FILE%/*}/nxretry RESOLV=$NXLAB_DIR/resolv.conf.orig
unset NXRETRY_ZONES NXRETRY_TIMEOUT NXRETRY_MODE NXRETRY_CONFIG NXRETRY_LOG GODEBUG
export NXRETRY_TIMEOUT=10

# The lab's resolv.conf gains a search and an options line, which the command's file must keep.
printf 'search lab.test\noptions ndots:1 timeout:2 attempts:2\n' >>/etc/resolv.conf
cp /etc/resolv.conf "$RESOLV"

# outcome CMD...: CMD's stdout and stderr, then "exit N" (N < 0: killed by signal -N).
outcome() {
	python3 -c 'import subprocess, sys
p = subprocess.run(sys.argv[1:], stderr=subprocess.STDOUT, stdout=subprocess.PIPE)
sys.stdout.write(p.stdout.decode()); print("exit", p.returncode)' "$@"
}

# A static Go client (CGO_ENABLED=0: Go's own resolver, which no preload reaches), built once.
go_lookup() {
	local dir=$NXLAB_DIR/go
	if [ ! -x "$dir/lookup" ]; then
		command -v go >/dev/null || skip "go is not installed (Debian package golang-go)"
		mkdir -p "$dir"
		chmod 711 "$NXLAB_DIR" && chmod 755 "$dir" # run as nobody too
		(cd "$dir" && GOCACHE=${GOCACHE:-$dir/cache} CGO_ENABLED=0 GOFLAGS='' GO111MODULE=off \
			go build -o lookup "$TOP/tests/lab/lookup.go")
	fi
	echo "$dir/lookup"
}

# No stub left behind, and the lab's resolv.conf byte for byte as it was.
expect_clean() {
	expect_eq "$1: no nxretry process left" "" "$(pgrep -a -x nxretry || true)"
	expect_eq "$1: /etc/resolv.conf as it was" "" "$(cmp /etc/resolv.conf "$RESOLV" 2>&1)"
}

# The stub's address in a file nxretry made: its first nameserver line.
stub_of() {
	sed -n 's/^nameserver \(127\.53\.[0-9]*\.[0-9]*\)$/\1/p' <<<"$1" | head -n 1
}

test_static_go_and_dig() {
	require_unsanitized
	local go out
	go=$(go_lookup)
	stale_name stub.lab.test A 127.0.53.101
	expect_eq "static Go alone: the stale denial" "NOTFOUND
exit 2" "$(outcome "$go" stub.lab.test)"
	expect_eq "static Go under plain nxretry: still the stale denial" "nxretry: warning: $go is statically linked; nxretry cannot reach its lookups
NOTFOUND
exit 2" "$(outcome "$NX" --zone lab.test -- "$go" stub.lab.test)"
	out=$(outcome "$NX" --resolver --zone lab.test -- sh -c "cat /etc/resolv.conf; dig +short stub.lab.test; $go stub.lab.test")
	expect_eq "under --resolver: the command's resolv.conf, dig, static Go" "# nxretry --resolver (pid PID): its stub, for the command's life
nameserver STUB
search lab.test
options ndots:1 timeout:2 attempts:2
127.0.53.101
127.0.53.101
exit 0" "$(sed 's/(pid [0-9]*)/(pid PID)/; s/^nameserver 127\.53\.[0-9]*\.[0-9]*$/nameserver STUB/' <<<"$out")"
	expect_eq "the stub's address" "1" "$(stub_of "$out" | grep -c '^127\.53\.')"
	expect_clean "after --resolver"
	# Dynamic programs keep the preload (nscd, /etc/hosts...).
	# shellcheck disable=SC2016 # expanded by the command's shell
	expect_eq "the preload is still on" "$LIB_FILE" \
		"$("$NX" --resolver --zone lab.test -- sh -c 'printf "%s\n" "$LD_PRELOAD"' | tr ' ' '\n' | tail -n 1)"
	expect_clean "after the preload check"
}

test_exit_status() {
	require_unsanitized
	expect_eq "exit 7" "exit 7" "$(outcome "$NX" --resolver -- sh -c 'exit 7')"
	expect_eq "killed by SIGTERM: nxretry dies of it too" "exit -15" \
		"$(outcome "$NX" --resolver -- sh -c 'kill -TERM $$')"
	expect_eq "killed by SIGKILL" "exit -9" "$(outcome "$NX" --resolver -- sh -c 'kill -KILL $$')"
	expect_eq "no such command" "nxretry: no-such-command: No such file or directory
exit 127" "$(outcome "$NX" --resolver -- no-such-command)"
	expect_eq "a bad way" "nxretry: --resolver: 'sideways' is not auto, namespace or rewrite
exit 2" "$(outcome "$NX" --resolver=sideways -- true)"
	expect_eq "with --serve" "nxretry: --resolver runs a command: not with --serve
exit 2" "$(outcome "$NX" --resolver --serve)"
	expect_clean "after the exits"
}

# SIGINT and SIGTERM sent to nxretry reach the command, which may handle them; its status is nxretry's.
test_signals_forwarded() {
	require_unsanitized
	local sig pid ready rc
	for sig in INT TERM; do
		ready=$NXLAB_DIR/ready.$sig
		rm -f "$ready"
		# A background job of a script starts with SIGINT ignored, which bash cannot trap: default first.
		python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
			"$NX" --resolver -- bash -c "trap 'echo got $sig; exit 3' $sig; touch $ready; while :; do sleep 0.05; done" \
			>"$NXLAB_DIR/sig.out" 2>&1 &
		pid=$!
		wait_for "the command started" 5000 test -e "$ready"
		kill -"$sig" "$pid"
		( sleep 10; kill -KILL "$pid" 2>/dev/null ) &
		rc=0
		wait "$pid" || rc=$?
		expect_eq "SIG$sig forwarded: the command's handler and exit status" "got $sig
rc 3" "$(cat "$NXLAB_DIR/sig.out"; echo "rc $rc")"
	done
	expect_clean "after the signals"
}

# The stub killed under the command, in a namespace: said once, and the command's lookups fail (the stub
# was its only server) rather than reach the stale cache.
test_stub_killed_in_namespace() {
	require_unsanitized
	# shellcheck disable=SC2016 # expanded by the command's shell
	expect_eq "said, and dig refused (sorted)" "exit 0
nxretry: the stub ended early (signal 9): the command's lookups fail from now on
refused" "$(outcome "$NX" --resolver -- sh -c 'kill -KILL "$(pgrep -P "$PPID" -x nxretry)"; sleep 0.5
		dig +tries=1 +time=1 www.lab.test | grep -q "connection refused" && echo refused' | sort)"
	expect_clean "after the stub was killed"
}

# Run as nobody: no port 53, no namespace; one line, and the command still runs with the preload.
test_unprivileged() {
	require_unsanitized
	local out
	stale_name nobody.lab.test A 127.0.53.102
	out=$(outcome setpriv --reuid nobody --regid nogroup --clear-groups \
		"$NX" --resolver --zone lab.test -- sh -c 'id -u; getent hosts nobody.lab.test')
	expect_eq "nobody: one line, then the command with the preload alone" "nxretry: --resolver: cannot listen on port 53 of 127.53.0.0/16 (Permission denied): run nxretry --resolver as root (sudo: the command gets your identity back); running the command with the preload alone (static programs and dig are not reached)
65534
127.0.53.102    nobody.lab.test
exit 0" "$out"
	# Root without CAP_SYS_ADMIN, namespace asked for: the namespace is what is missing.
	expect_eq "root without CAP_SYS_ADMIN" "nxretry: --resolver: no private mount namespace (unshare: Operation not permitted): as root in a container, use --resolver=rewrite; running the command with the preload alone (static programs and dig are not reached)
done
exit 0" "$(outcome setpriv --bounding-set -sys_admin "$NX" --resolver=namespace -- echo "done")"
	expect_clean "after the fallbacks"
}

# Through sudo (its variables): namespace and stub as root, the command as the invoking user.
test_sudo_identity() {
	require_unsanitized
	local go
	go=$(go_lookup)
	stale_name sudo.lab.test A 127.0.53.103
	expect_eq "the command as nobody, the stale name through the stub" "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)
127.0.53.103
exit 0" "$(outcome env SUDO_UID=65534 SUDO_GID=65534 SUDO_USER=nobody "$NX" --resolver --zone lab.test -- \
		sh -c "id; $go sudo.lab.test")"
	expect_clean "after sudo"
}

# /etc/resolv.conf a link to systemd-resolved's file, in a throwaway copy of the machine.
test_symlink() {
	require_unsanitized
	local out list=$NXLAB_DIR/symlink.list
	stale_name link.lab.test A 127.0.53.104
	# shellcheck disable=SC2016 # run by the copy's sh
	out=$("$TOP/tests/lab/overlay-root" "$TOP" "$list" sh -c '
		umount /etc/resolv.conf && rm -f /etc/resolv.conf
		mkdir -p /run/systemd/resolve
		cp /etc/resolv.conf.lab /run/systemd/resolve/stub-resolv.conf 2>/dev/null ||
			printf "nameserver 127.0.53.53\nsearch lab.test\n" >/run/systemd/resolve/stub-resolv.conf
		ln -s ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
		sum=$(md5sum </run/systemd/resolve/stub-resolv.conf)
		env -u NXRETRY_LIB -u LD_PRELOAD /mnt/'"${NX#"$TOP"/}"' --resolver --zone lab.test -- \
			sh -c "grep -v ^# /etc/resolv.conf | sed s/127\.53\.[0-9.]*/STUB/; dig +short link.lab.test"
		echo "exit $?"
		echo "link: $(readlink /etc/resolv.conf)"
		[ "$(md5sum </run/systemd/resolve/stub-resolv.conf)" = "$sum" ] && echo "target unchanged"' 2>&1)
	expect_eq "through the link: the target covered in the namespace, unchanged after" "nameserver STUB
search lab.test
127.0.53.104
exit 0
link: ../run/systemd/resolve/stub-resolv.conf
target unchanged" "$out"
}

# ---- rewrite: a root container where a new mount namespace is forbidden ------------------------------

# The rewritten file, the stub's address as STUB and the pid as PID.
REWRITTEN="# nxretry --resolver: the stub of pid PID first, the original servers after it;
# restored when its command ends.
nameserver STUB
# nxretry: the original follows
$(cat "$RESOLV")
# nxretry: the stub may hold a question until the name exists
options timeout:12"
readonly REWRITTEN

anonymize() {
	sed 's/pid [0-9]* first/pid PID first/; s/^nameserver 127\.53\.[0-9]*\.[0-9]*$/nameserver STUB/'
}

test_rewrite() {
	require_unsanitized
	local go
	go=$(go_lookup)
	stale_name rewrite.lab.test A 127.0.53.105
	# The lab's /etc/resolv.conf is bind-mounted, as Docker's is: rename gives EBUSY, written in place.
	expect_eq "--resolver=rewrite: the file the command reads, dig, static Go" "$REWRITTEN
127.0.53.105
127.0.53.105
exit 0" "$(outcome "$NX" --resolver=rewrite --zone lab.test -- sh -c "cat /etc/resolv.conf; dig +short rewrite.lab.test; $go rewrite.lab.test" | anonymize)"
	expect_clean "after --resolver=rewrite"
	# Docker's default capabilities: no CAP_SYS_ADMIN, so auto rewrites (in a container).
	expect_eq "auto, root in a container without CAP_SYS_ADMIN: rewritten" "$REWRITTEN
exit 0" "$(outcome env container=docker setpriv --bounding-set -sys_admin "$NX" --resolver -- cat /etc/resolv.conf | anonymize)"
	expect_clean "after auto in a container"
}

# A name created while the command waits: the stub holds the question past the client's 2 s try, so
# the rewritten file's options must keep the client on the stub rather than on the next server, which
# answers the cached denial.
test_rewrite_pending() {
	require_unsanitized
	local go start ms
	go=$(go_lookup)
	expect_eq "pending: early lookup fails" "rc=-2 EAI_NONAME" "$(gai pending.lab.test)"
	(sleep 3 && "$DNSLAB" add pending.lab.test A 127.0.53.107) &
	start=$(now_ms)
	expect_eq "static Go waits on the stub until the name exists" "127.0.53.107
exit 0" "$(outcome "$NX" --resolver=rewrite --zone lab.test -- "$go" pending.lab.test)"
	ms=$(($(now_ms) - start))
	expect_between "static Go's wait (ms)" 3000 8000 "$ms"
	wait
	expect_clean "after the pending name"
}

# kill -9 the stub mid-job, then nxretry itself: lookups of existing names still succeed at once (the
# dead stub's address refuses), and the next nxretry puts the original back.
test_rewrite_killed() {
	require_unsanitized
	local go pid stub cmd ready=$NXLAB_DIR/ready.killed ms start
	go=$(go_lookup)
	"$DNSLAB" add alive.lab.test A 127.0.53.106
	"$NX" --resolver=rewrite -- sh -c "touch $ready; exec sleep 30" >"$NXLAB_DIR/killed.out" 2>&1 &
	pid=$!
	wait_for "the command started" 5000 test -e "$ready"
	stub=$(pgrep -P "$pid" -x nxretry)
	cmd=$(pgrep -P "$pid" -x sleep)
	kill -KILL "$stub"
	wait_for "nxretry saw the stub die" 2000 grep -q "stub ended early" "$NXLAB_DIR/killed.out"
	expect_eq "what nxretry said" "nxretry: the stub ended early (signal 9): lookups go on to the original servers" \
		"$(cat "$NXLAB_DIR/killed.out")"
	out=$("$GAI" -4 -s stream alive.lab.test || true)
	ms=$(ms_of "$out")
	expect_eq "stub killed: getaddrinfo of an existing name" "rc=0 OK
inet stream 6 127.0.53.106 0" "$(strip_ms <<<"$out")"
	expect_between "stub killed: getaddrinfo's ms (glibc timeout 2 s here)" 0 500 "$ms"
	echo "    measured: stub killed, getaddrinfo $ms ms"
	start=$(now_ms)
	expect_eq "stub killed: static Go" "127.0.53.106" "$("$go" alive.lab.test)"
	ms=$(($(now_ms) - start))
	expect_between "stub killed: static Go's ms" 0 500 "$ms"
	echo "    measured: stub killed, static Go $ms ms"
	kill -KILL "$pid"
	{ wait "$pid" || true; } 2>/dev/null
	kill "$cmd"
	expect_eq "nxretry killed too: the file still names the dead stub first" "$REWRITTEN" \
		"$(anonymize </etc/resolv.conf)"
	expect_eq "nxretry killed: dig still answers (refused, next server)" ";; communications error to STUB#53: connection refused
127.0.53.106" "$(dig +short +tries=1 alive.lab.test | sed 's/127\.53\.[0-9]*\.[0-9]*#/STUB#/')"
	expect_eq "the next nxretry: ignores the leftover, restores the original" \
		"nxretry: /etc/resolv.conf: a killed nxretry's stub left in it is ignored
exit 0" "$(outcome "$NX" --resolver=rewrite -- true)"
	expect_clean "after the kills"
}

# A regular /etc/resolv.conf (no mount), in a throwaway copy: replaced by rename, both ways.
test_rewrite_rename() {
	require_unsanitized
	local list=$NXLAB_DIR/rename.list
	# shellcheck disable=SC2016 # run by the copy's sh
	expect_eq "renamed over and back: new inodes, the same bytes after" "rewritten
inode changed
bytes as before
exit 0" "$("$TOP/tests/lab/overlay-root" "$TOP" "$list" sh -c '
		cp /etc/resolv.conf /tmp/orig && umount /etc/resolv.conf && cp /tmp/orig /etc/resolv.conf
		inode=$(stat -c %i /etc/resolv.conf)
		env -u NXRETRY_LIB -u LD_PRELOAD /mnt/'"${NX#"$TOP"/}"' --resolver=rewrite -- \
			sh -c "head -n 1 /etc/resolv.conf | grep -q \"^# nxretry --resolver:\" && echo rewritten"
		rc=$?
		[ "$(stat -c %i /etc/resolv.conf)" != "$inode" ] && echo "inode changed"
		cmp -s /etc/resolv.conf /tmp/orig && echo "bytes as before"
		echo "exit $rc"' 2>&1)"
}

run_tests test_static_go_and_dig test_exit_status test_signals_forwarded test_stub_killed_in_namespace test_unprivileged test_sudo_identity \
	test_symlink test_rewrite test_rewrite_pending test_rewrite_killed test_rewrite_rename
