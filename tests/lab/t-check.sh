#!/usr/bin/env bash
# `nxretry --check` follows delegations as the library does (issue 9, item 6): NXRETRY_ZONES names the
# parent zone, the name lives in a child zone delegated from it. The report shows the parent's
# referral, the child's servers by name and their answers; its verdict is what the library returns.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"

NXRETRY=${LIB_FILE%/*}/nxretry

test_check_follows_delegation() {
	local out rc=0 name=deleg.$NXLAB_CHILD
	stale_name "$name" A 192.0.2.91
	out=$("$NXRETRY" --zone lab.test --timeout 3 --check "$name" 2>&1) || rc=$?
	expect_eq "exit 0" 0 "$rc"
	# Spaces squeezed, serials (which move with every change) written SERIAL.
	expect_eq "the parent's referral, the child's servers and their answers" "zone apex: lab.test (configured suffix lab.test)
servers: ns1.lab.test (127.0.53.1 fd00:53::1)
 ns1.lab.test 127.0.53.1 referral to $NXLAB_CHILD
zone apex: $NXLAB_CHILD (delegated)
servers: ns1.$NXLAB_CHILD (127.0.53.2 fd00:53::2)
 ns1.$NXLAB_CHILD 127.0.53.2 addresses: 192.0.2.91, serial SERIAL
 ns1.$NXLAB_CHILD fd00:53::2 addresses: 192.0.2.91, serial SERIAL
agreement: 1 of 1 nameservers answered, all with the same addresses
verdict: stale negative answer: caches may keep it for up to $NXLAB_NEG_TTL s; nxretry returns 192.0.2.91 now (from 127.0.53.2)" \
		"$(grep -E '^(zone apex|servers|agreement|verdict):|^  ' <<<"$out" | tr -s ' ' | sed -E 's/serial [0-9]+/serial SERIAL/')"
	expect_eq "the library returns the same" "rc=0 OK
inet stream 6 192.0.2.91 0" "$(NXRETRY_ZONES=lab.test NXRETRY_TIMEOUT=3 nxgai -s stream "$name")"
}

# 16 pinned numeric nameservers, one listed twice, and a host name with an address of its own: the
# configuration keeps each once, and --check numbers every host within its table (the host name was
# host 16 of an array of 16: a heap overflow under ASan). Fourteen of them refuse, at once.
test_check_pinned_many() {
	require_tools || return 0
	local out rc=0 name=pinned.lab.test i servers=(127.0.53.1 127.0.53.1) want
	stale_name "$name" A 192.0.2.92
	for i in $(seq 1 14); do
		fault_start "127.0.99.$i:53" refused
		servers+=("127.0.99.$i")
	done
	write_config "$NXLAB_DIR/pinned.conf" lab.test 0.8 "${servers[@]}" ns1.lab.test
	out=$(NXRETRY_CONFIG=$NXLAB_DIR/pinned.conf "$NXRETRY" --timeout 3 --check "$name" 2>&1) || rc=$?
	expect_eq "exit 0" 0 "$rc"
	want="servers: 127.0.53.1 (127.0.53.1)"
	for i in $(seq 1 14); do want+=", 127.0.99.$i (127.0.99.$i)"; done
	want+=", ns1.lab.test (fd00:53::1)"
	expect_eq "each pinned server once, the host name last" "$want" \
		"$(grep '^servers:' <<<"$out" | tr -s ' ')"
	want=" 127.0.53.1 127.0.53.1 addresses: 192.0.2.92, serial SERIAL"
	for i in $(seq 1 14); do want+=$'\n'" 127.0.99.$i 127.0.99.$i REFUSED"; done
	want+=$'\n'" ns1.lab.test fd00:53::1 addresses: 192.0.2.92, serial SERIAL"
	expect_eq "each address's answer" "$want" \
		"$(grep '^  ' <<<"$out" | tr -s ' ' | sed -E 's/serial [0-9]+/serial SERIAL/')"
	expect_eq "the agreement" "agreement: 2 of 16 nameservers answered, all with the same addresses" \
		"$(grep '^agreement:' <<<"$out" | tr -s ' ')"
}

run_tests test_check_follows_delegation test_check_pinned_many
