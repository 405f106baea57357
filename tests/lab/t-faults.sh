#!/usr/bin/env bash
# Pinned nameservers that misbehave (tests/lab/faultdns.c): a broken server before a good one costs at
# most query_timeout, then the good one answers; with only broken servers the lookup gives libc's error
# at NXRETRY_TIMEOUT and the program lives on; servers that all refuse end the wait at once, with one
# line that says so; a zone whose servers cannot be found is said once, not once per lookup; a zone
# given up because its servers were silent is asked again after fail_fast seconds.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"

unset NXRETRY_ZONES NXRETRY_MODE NXRETRY_LOG
export NXRETRY_TIMEOUT=5
readonly QUERY_TIMEOUT_MS=400 MARGIN_MS=300
readonly GOOD=127.0.53.1 ADDR=192.0.2.5
# mode, and the faultdns address:port answering that way.
readonly FAULTS="blackhole 127.0.53.10:53
garbage 127.0.53.11:53
wrongid 127.0.53.12:53
slow=1000 127.0.53.13:53
refused 127.0.53.14:53
servfail 127.0.53.15:53
lame 127.0.53.16:53"

# start_faults NAME: every fault on its server, each with NAME (and the address the good server will
# have), so that only the fault itself can make it useless.
start_faults() {
	local mode addr
	while read -r mode addr; do fault_start "$addr" "$mode" "$1=$ADDR"; done <<<"$FAULTS"
}

fault_addr() {
	awk -v m="$1" '$1 == m { print $2 }' <<<"$FAULTS"
}

qt() {
	printf '%d.%03d' $((QUERY_TIMEOUT_MS / 1000)) $((QUERY_TIMEOUT_MS % 1000))
}

# Each case: the faults pinned before the good server, and the bounds of the lookup's time in units of
# query_timeout (a timeout costs one, an error reply nothing). A garbage reply costs one with c-ares
# < 1.22 (it is ignored until the timeout) and nothing from 1.22 (the query ends at once, EBADRESP).
test_broken_then_good() {
	require_tools
	local faults low high servers mode raw conf=$NXLAB_DIR/faults.conf NAME=good.lab.test
	start_faults "$NAME"
	stale_name "$NAME" A "$ADDR"
	while read -r faults low high; do
		servers=()
		for mode in ${faults//,/ }; do servers+=("$(fault_addr "$mode")"); done
		write_config "$conf" lab.test "$(qt)" "${servers[@]}" "$GOOD"
		raw=$(NXRETRY_CONFIG=$conf NXRETRY_LOG=info LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream "$NAME" \
			2>"$NXLAB_DIR/stderr" || true)
		expect_eq "[$faults, good] answer" "$(printf 'rc=0 OK\ninet stream 6 %s 0' "$ADDR")" "$(strip_ms <<<"$raw")"
		expect_between "[$faults, good] ms" $((low * QUERY_TIMEOUT_MS)) $((high * QUERY_TIMEOUT_MS + MARGIN_MS)) \
			"$(ms_of "$raw")"
		expect_eq "[$faults, good] the good server answered, first round" 1 \
			"$(grep -c "^nxretry: $NAME: stale negative answer bypassed: $GOOD answered $ADDR after 1 attempt," \
				"$NXLAB_DIR/stderr" || true)"
	done <<'CASES'
blackhole  1 1
garbage    0 1
wrongid    1 1
slow=1000  1 1
refused    0 0
servfail   0 0
lame       0 0
blackhole,garbage,refused,servfail,lame,wrongid,slow=1000 3 4
CASES
	for mode in blackhole garbage wrongid slow=1000 refused servfail lame; do
		expect_eq "$mode: asked once per lookup (2 lookups)" 2 "$(fault_queries "$(fault_addr "$mode")")"
	done
}

# A slow server that answers within query_timeout is an answer, not a fault.
test_slow_in_time() {
	require_tools
	local addr=127.0.53.17:53 raw conf=$NXLAB_DIR/slow.conf NAME=slow.lab.test
	fault_start "$addr" slow=150 "$NAME=$ADDR"
	write_config "$conf" lab.test "$(qt)" "$addr" "$GOOD"
	raw=$(NXRETRY_CONFIG=$conf LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream "$NAME" || true)
	expect_eq "answer" "$(printf 'rc=0 OK\ninet stream 6 %s 0' "$ADDR")" "$(strip_ms <<<"$raw")"
	expect_between "ms" 150 $((150 + MARGIN_MS)) "$(ms_of "$raw")"
	# Its answer, then its SOA: the good server denies the name, and serials order the two views.
	expect_eq "the slow one answered, then gave its SOA serial" 2 "$(fault_queries "$addr")"
}

# Only broken servers, each fault alone and all together, at the same time: libc's error (the stale
# NXDOMAIN) at NXRETRY_TIMEOUT, and gai exits 2 (a failed lookup), not from a signal.
test_only_broken() {
	require_tools
	local timeout_ms=1500 faults servers mode i=0 raw status conf NAME=broken.lab.test
	start_faults "$NAME"
	stale_name "$NAME" A "$ADDR"
	local cases="blackhole garbage wrongid slow=1000 servfail lame blackhole,garbage,wrongid,slow=1000,servfail,lame"
	for faults in $cases; do
		i=$((i + 1))
		servers=()
		for mode in ${faults//,/ }; do servers+=("$(fault_addr "$mode")"); done
		conf=$NXLAB_DIR/only.$i.conf
		write_config "$conf" lab.test "$(qt)" "${servers[@]}"
		(
			status=0
			NXRETRY_CONFIG=$conf NXRETRY_TIMEOUT=$((timeout_ms / 1000)).$((timeout_ms % 1000)) \
				LD_PRELOAD=$NXRETRY_LIB timeout 20 "$GAI" -4 "$NAME" >"$NXLAB_DIR/only.$i" 2>/dev/null || status=$?
			echo "$status" >"$NXLAB_DIR/only.$i.status"
		) &
	done
	wait
	i=0
	for faults in $cases; do
		i=$((i + 1))
		raw=$(<"$NXLAB_DIR/only.$i")
		status=$(<"$NXLAB_DIR/only.$i.status")
		expect_eq "[$faults] libc's error, exit 2" "rc=-2 EAI_NONAME 2" "$(strip_ms <<<"$raw") $status"
		case $faults in
		garbage) # c-ares >= 1.22 reports the unparsable reply at once: a reply, so the whole deadline;
			# 1.18 ignores it until the query times out: no reply in two rounds, given up then
			if [ "$(ms_of "$raw")" -ge "$timeout_ms" ]; then
				expect_between "[$faults] ms (c-ares >= 1.22)" "$timeout_ms" $((timeout_ms + MARGIN_MS)) "$(ms_of "$raw")"
			else
				expect_between "[$faults] ms (c-ares 1.18)" $((2 * QUERY_TIMEOUT_MS)) \
					$((2 * QUERY_TIMEOUT_MS + 250 + MARGIN_MS)) "$(ms_of "$raw")"
			fi ;;
		servfail | lame | *,*) # replies: the whole deadline
			expect_between "[$faults] ms" "$timeout_ms" $((timeout_ms + MARGIN_MS)) "$(ms_of "$raw")" ;;
		*) # not one reply in two rounds: given up then (a round, the first backoff, a round)
			expect_between "[$faults] ms" $((2 * QUERY_TIMEOUT_MS)) $((2 * QUERY_TIMEOUT_MS + 250 + MARGIN_MS)) \
				"$(ms_of "$raw")" ;;
		esac
	done
}

# Only REFUSED: one round, then libc's error at once, and one warning that names the refusal.
test_only_refused() {
	require_tools
	local a=127.0.53.14:53 b=127.0.53.18:53 raw conf=$NXLAB_DIR/refused.conf NAME=private.lab.test
	fault_start "$a" refused "$NAME=$ADDR"
	fault_start "$b" refused "$NAME=$ADDR"
	stale_name "$NAME" A "$ADDR"
	write_config "$conf" lab.test "$(qt)" "$a" "$b"
	raw=$(NXRETRY_CONFIG=$conf NXRETRY_TIMEOUT=10 LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 "$NAME" 2>"$NXLAB_DIR/stderr" || true)
	expect_eq "libc's error" "rc=-2 EAI_NONAME" "$(strip_ms <<<"$raw")"
	expect_between "ms (NXRETRY_TIMEOUT is 10 s)" 0 "$MARGIN_MS" "$(ms_of "$raw")"
	expect_eq "one line on stderr, at the default level, saying refused" "1 1" \
		"$(grep -c . "$NXLAB_DIR/stderr" || true) $(grep -ci '^nxretry: .*refused' "$NXLAB_DIR/stderr" || true)"
	expect_eq "each server asked once" "1 1" "$(fault_queries "$a") $(fault_queries "$b")"
}

# A zone whose servers cannot be found (the system resolver gives the root's SOA for it): each lookup gets
# libc's answer, and 20 lookups within a second cost one warning and one SOA query, not 20 of each (the
# failure is remembered for 5 s).
test_zone_not_found() {
	require_tools
	local res=127.0.53.19:53 conf=$NXLAB_DIR/resolv-root.conf out=$NXLAB_DIR/zone-not-found
	fault_start "$res" good -z ""
	printf 'nameserver %s\n' "${res%:53}" >"$conf"
	# shellcheck disable=SC2016 # $1 and $@ are the inner shell's
	NXRETRY_ZONES=lab.test LD_PRELOAD=$NXRETRY_LIB unshare --mount \
		sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh "$conf" \
		"$THREADS" -4 -n 20 1 nf.lab.test >"$out" 2>"$NXLAB_DIR/stderr" || true
	expect_eq "libc's answer, 20 times" "result nf.lab.test rc=-2 EAI_NONAME count=20" \
		"$(grep '^result ' "$out")"
	expect_eq "one line on stderr, saying the root's SOA" "1 1" \
		"$(grep -c . "$NXLAB_DIR/stderr" || true) $(grep -c "^nxretry: lab.test: .*root's SOA" "$NXLAB_DIR/stderr" || true)"
	expect_eq "one SOA query" 1 "$(grep -c '^udp lab.test SOA$' "$(fault_log "$res")" || true)"
}

# A blackhole that ends, within one process: the zone given up after two silent rounds is left to libc
# for fail_fast seconds (here 1), not for good, then asked again and answers.
test_blackhole_ends() {
	require_tools
	local addr=127.0.53.20:53 conf=$NXLAB_DIR/ends.conf NAME=ends.lab.test out=$NXLAB_DIR/ends.out hole pid
	fault_start "$addr" blackhole "$NAME=$ADDR"
	hole=${FAULT_PIDS[-1]}
	stale_name "$NAME" A "$ADDR"
	write_config "$conf" lab.test "$(qt)" "$addr"
	echo "fail_fast = 1;" >>"$conf"
	NXRETRY_CONFIG=$conf LD_PRELOAD=$NXRETRY_LIB "$GAI" -4 -s stream -r 10,500 "$NAME" >"$out" \
		2>"$NXLAB_DIR/stderr" &
	pid=$!
	sleep 1.5
	kill "$hole"
	fault_start "$addr" good "$NAME=$ADDR"
	wait "$pid" || true
	expect_eq "answered once the server answers again" "$(printf 'rc=0 OK\ninet stream 6 %s 0' "$ADDR")" \
		"$(grep -v '^try ' "$out" | sed 's/ ms=[0-9]* end=[0-9]*$//')"
	expect_between "given up after two rounds" $((2 * QUERY_TIMEOUT_MS)) \
		$((2 * QUERY_TIMEOUT_MS + 250 + MARGIN_MS)) "$(sed -n '1s/^try .* ms=\([0-9]*\) .*/\1/p' "$out")"
	expect_between "failed lookups before: the first, then 1 s of libc's answers" 2 5 "$(grep -c '^try ' "$out")"
	expect_eq "one warning, saying for how long" 1 \
		"$(grep -c "^nxretry: $NAME: none of the 1 nameservers of zone lab.test answered in 2 rounds .*; its names are left to libc for 1 s\$" \
			"$NXLAB_DIR/stderr" || true)"
}

run_tests test_blackhole_ends test_broken_then_good test_slow_in_time test_only_broken test_only_refused test_zone_not_found
