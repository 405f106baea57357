#!/usr/bin/env bash
# README's "Which way for my job?" blocks, run as written (tests/lab/readme.sh: the lab's zone, no
# sudo), each against a stale name: the preload for a dynamic client; --resolver for one command; the
# Dockerfile's entrypoint as Docker runs it (PID 1, root without CAP_SYS_ADMIN, /etc/resolv.conf a bind
# mount) in a throwaway copy of this machine (tests/lab/overlay-root) standing in for the image; the
# GitHub steps as the runner runs them (the action's main with the block's inputs, the run step with
# the exported environment, then post). ./run-e2e-tests is a lookup of the row's stale name: getent for
# the preload, dig and a static Go client (CGO_ENABLED=0) for the stub. The pod's block is t-pod.sh's,
# the host's t-deb.sh's.
# lab timeout: 180
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/ship.sh
. "$(dirname "$0")/ship.sh"
# shellcheck source=tests/lab/readme.sh
. "$(dirname "$0")/readme.sh"

readonly WORK=$NXLAB_DIR/work TREE=$NXLAB_DIR/tree RESOLV=$NXLAB_DIR/resolv.before
cp /etc/resolv.conf "$RESOLV"

# The installed tree (make install, as the tarball holds it) and the static Go client, once.
setup() {
	if [ -x "$WORK/lookup" ]; then return 0; fi
	command -v go >/dev/null || skip "go is not installed (Debian package golang-go)"
	mkdir -p "$WORK"
	(cd "$WORK" && GOCACHE=${GOCACHE:-$WORK/cache} CGO_ENABLED=0 GOFLAGS='' GO111MODULE=off \
		go build -o lookup "$TOP/tests/lab/lookup.go")
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" BUILD="$BUILD_DIR" DESTDIR="$TREE" PREFIX= \
		install >"$NXLAB_DIR/make.log" 2>&1 || { fail "make install: $(tail -n 3 "$NXLAB_DIR/make.log")"; return 1; }
}

# e2e NAME [LOOKUP]: ./run-e2e-tests in $WORK, looking NAME up with dig and the static Go client
# (LOOKUP: the client's path as the test will see it), or with getent when LOOKUP is "getent".
e2e() {
	local lookup=${2:-$WORK/lookup}
	if [ "$lookup" = getent ]; then
		printf '#!/bin/sh\ngetent hosts %s\n' "$1"
	else
		printf '#!/bin/sh\ndig +short %s\n%s %s\n' "$1" "$lookup" "$1"
	fi >"$WORK/run-e2e-tests"
	chmod 755 "$WORK/run-e2e-tests"
}

# run_block ROW: README's block run in $WORK by a shell whose PATH has the build's nxretry first.
run_block() {
	(cd "$WORK" && export PATH="$BUILD_DIR:$PATH" && eval "$(readme_block "$1")")
}

expect_clean() {
	expect_eq "$1: no nxretry process left" "" "$(pgrep -a -x nxretry || true)"
	expect_eq "$1: /etc/resolv.conf as it was" "" "$(cmp /etc/resolv.conf "$RESOLV" 2>&1)"
}

test_preload() {
	require_unsanitized
	setup
	stale_name which-preload.lab.test A 127.0.53.81
	e2e which-preload.lab.test getent
	expect_eq "the preload block" "127.0.53.81     which-preload.lab.test" \
		"$(run_block preload)"
}

test_command() {
	require_unsanitized
	setup
	stale_name which-command.lab.test A 127.0.53.82
	e2e which-command.lab.test
	expect_eq "the command block: dig and static Go" "127.0.53.82
127.0.53.82" "$(run_block command)"
	expect_clean "after the command block"
}

# docker run, for the Dockerfile in $1 with its context in $2: ADD (a tarball, unpacked), COPY, ENV,
# then ENTRYPOINT and CMD (exec form) as PID 1 of a PID namespace, root with Docker's default bounding
# set (no CAP_SYS_ADMIN). Run as root of the throwaway copy, whose /etc/resolv.conf is bind-mounted.
# shellcheck disable=SC2016 # run by the copy's python
readonly DOCKER_RUN='import json, os, shlex, subprocess, sys
env, argv = dict(os.environ), []
for line in open(sys.argv[1]).read().splitlines():
    word, _, rest = line.partition(" ")
    if word == "ADD":
        src, dst = rest.split()
        os.makedirs(dst, exist_ok=True)
        subprocess.run(["tar", "-C", dst, "-xzf", os.path.join(sys.argv[2], src)], check=True)
    elif word == "COPY":
        src, dst = rest.split()
        subprocess.run(["cp", os.path.join(sys.argv[2], src), dst], check=True)
    elif word == "ENV":
        env.update(kv.split("=", 1) for kv in shlex.split(rest))
    elif word in ("ENTRYPOINT", "CMD"):
        argv += json.loads(rest)
env.pop("LD_PRELOAD", None)
os.execvpe("unshare", ["unshare", "--pid", "--fork", "--mount-proc", "setpriv", "--bounding-set", "-sys_admin", "--"] + argv, env)'

test_container() {
	require_unsanitized
	local ctx=$NXLAB_DIR/context list=$NXLAB_DIR/container.list
	setup
	stale_name which-container.lab.test A 127.0.53.83
	mkdir -p "$ctx"
	readme_block container >"$ctx/Dockerfile"
	tar -C "$TREE" -czf "$ctx/nxretry-$VERSION-$ARCH-linux-gnu.tar.gz" .
	cp "$WORK/lookup" "$ctx/lookup"
	e2e which-container.lab.test /mnt/lookup
	cp "$WORK/run-e2e-tests" "$ctx/"
	# shellcheck disable=SC2016 # run by the copy's sh
	expect_eq "the container block, as docker runs it: dig and static Go, exit 0" "127.0.53.83
127.0.53.83
exit 0" "$("$TOP/tests/lab/overlay-root" "$ctx" "$list" sh -c 'python3 -c "$1" /mnt/Dockerfile /mnt; echo "exit $?"' \
		sh "$DOCKER_RUN" 2>&1)"
	expect_clean "after the container"
}

# The runner: the uses step's main with the block's inputs (the tarball in the workspace), each run step
# in bash with what GITHUB_ENV holds, then the post step with what GITHUB_STATE holds.
# shellcheck disable=SC2016 # run by python
readonly RUNNER='import os, subprocess, sys, yaml
steps, action = yaml.safe_load(sys.stdin), sys.argv[1]
runner = os.environ["RUNNER_TEMP"]
files = {k: os.path.join(runner, k.lower()) for k in ("GITHUB_ENV", "GITHUB_STATE", "GITHUB_PATH")}
for f in files.values():
    open(f, "w").close()
base = dict(os.environ, **files)
def exported(name):
    return dict(l.rstrip("\n").split("=", 1) for l in open(files[name]) if "=" in l)
for step in steps:
    if "uses" in step:
        inputs = {"INPUT_" + k.upper(): str(v).lower() if isinstance(v, bool) else str(v) for k, v in step["with"].items()}
        subprocess.run(["node", action], env=dict(base, **inputs), check=True)
    else:
        env = dict(base, **exported("GITHUB_ENV"))
        env["PATH"] = ":".join(l.strip() for l in open(files["GITHUB_PATH"])) + ":" + env["PATH"]
        subprocess.run(["bash", "-e", "-c", step["run"]], env=env, check=True)
post = {"STATE_" + k: v for k, v in exported("GITHUB_STATE").items()}
subprocess.run(["node", action], env=dict(base, **post), check=True)'

test_runner() {
	require_unsanitized
	local runner=$NXLAB_DIR/runner out
	setup
	python3 -c 'import yaml' 2>/dev/null || skip "python3 with yaml (Debian package python3-yaml)"
	command -v node >/dev/null || skip "no node (the runner's own runs the action)"
	stale_name which-runner.lab.test A 127.0.53.84
	e2e which-runner.lab.test
	tar -C "$TREE" -czf "$WORK/nxretry-$VERSION-$ARCH-linux-gnu.tar.gz" .
	mkdir -p "$runner"
	out=$(readme_block runner | (cd "$WORK" && env -u LD_PRELOAD -u GODEBUG RUNNER_TEMP="$runner" \
		python3 -c "$RUNNER" "$TOP/scripts/github-action.js") 2>&1)
	expect_eq "the runner block: main, the run step (dig, static Go), post" "nxretry: $runner/nxretry/lib/nxretry/libnxretry.so preloaded for the next steps, zones lab.test
nxretry: /etc/resolv.conf names the stub first for the rest of the job
127.0.53.84
127.0.53.84
nxretry: the stub stopped; the resolver configuration is the runner's again" "$out"
	expect_clean "after the job"
}

run_tests test_preload test_command test_container test_runner
