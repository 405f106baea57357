#!/usr/bin/env bash
# Node's dns.lookup (getaddrinfo on libuv's thread pool) resolves stale names under the preload, several
# at once. Node exports its own c-ares: the library must not use it.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=5
readonly NODE=/usr/bin/node

# Prints one line per name given: the JSON of dns.lookup(name, {all: true}) or the error code.
readonly LOOKUP='
const dns = require("dns").promises;
Promise.all(process.argv.slice(1).map((name) =>
	dns.lookup(name, { all: true }).then((a) => JSON.stringify(a), (e) => e.code)))
	.then((lines) => console.log(lines.join("\n")));'

test_node_lookup() {
	[ -x "$NODE" ] || skip "$NODE is not installed"
	require_lib
	stale_name fresh.lab.test A 192.0.2.77
	expect_eq "node without the preload" ENOTFOUND "$("$NODE" -e "$LOOKUP" fresh.lab.test)"
	expect_eq "node with the preload" '[{"address":"192.0.2.77","family":4}]' \
		"$(LD_PRELOAD=$NXRETRY_LIB "$NODE" -e "$LOOKUP" fresh.lab.test)"
}

test_node_parallel_lookups() {
	[ -x "$NODE" ] || skip "$NODE is not installed"
	require_lib
	local i names=() want=()
	for i in 1 2 3 4; do
		stale_name "p$i.lab.test" A "192.0.2.$((80 + i))"
		names+=("p$i.lab.test")
		want+=("[{\"address\":\"192.0.2.$((80 + i))\",\"family\":4}]")
	done
	want+=(ENOTFOUND)
	expect_eq "four stale names and a missing one at once" "$(printf '%s\n' "${want[@]}")" \
		"$(NXRETRY_TIMEOUT=1 LD_PRELOAD=$NXRETRY_LIB "$NODE" -e "$LOOKUP" "${names[@]}" never.lab.test)"
}

run_tests test_node_lookup test_node_parallel_lookups
