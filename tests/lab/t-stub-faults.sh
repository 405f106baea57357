#!/usr/bin/env bash
# nxretry --serve under faults and load (issue 15): an upstream that never answers, one that answers
# SERVFAIL, a zone whose every authority is silent, 1,000 UDP clients at once (a forwarded name, and a
# stale name that all of them wait for together), 100 TCP clients at once, clients that send garbage,
# one that sends half a TCP frame and hangs. Meanwhile the stub keeps answering others at once; after a
# first round of all of it, a second round leaves its descriptors and resident memory where the first
# left them. bench/stub-soak runs the same rounds for minutes (STUB_SOAK_SECONDS).
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lab/tools.sh
. "$(dirname "$0")/tools.sh"
# shellcheck source=tests/lab/stub.sh
. "$(dirname "$0")/stub.sh"

readonly STUB=127.0.0.1 SILENT=127.0.53.72 SERVFAIL=127.0.53.73 GONE=127.0.53.74
readonly SILENT_STUB=127.0.0.2 SERVFAIL_STUB=127.0.0.3
readonly TIMEOUT_S=3
# What "at once" means for a client answered while the stub is loaded (2 shared cores).
readonly PROMPT_MS=1000
# The resident memory a second round may add to the first's (KiB): glibc's arenas and the stacks of
# the stub's wait threads are reused, not grown, by the same load.
readonly RSS_SLACK_KIB=512

unset NXRETRY_ZONES NXRETRY_MODE NXRETRY_LOG
export NXRETRY_TIMEOUT=$TIMEOUT_S NXRETRY_CONFIG=$NXLAB_DIR/stub-faults.conf
# lab.test discovered; silent.test pinned to a server that never answers (Unbound answers NXDOMAIN for
# it at once: its local zone "."), gone.test to one that falls silent and comes back. fail_fast off,
# so that every round waits as the first did.
cat >"$NXRETRY_CONFIG" <<EOF
fail_fast = 0;
query_timeout = 0.5;
zones = ( { suffix = "lab.test"; }, { suffix = "silent.test"; nameservers = [ "$SILENT" ]; },
          { suffix = "gone.test"; nameservers = [ "$GONE" ]; } );
EOF

FAULT_PIDS=() MAIN=''
start_file() {
	local pid addr mode
	for pid in "$SILENT blackhole" "$SERVFAIL servfail"; do
		read -r addr mode <<<"$pid"
		pid=$("$FAULTDNS" -d -l "$NXLAB_DIR/faultdns-$addr.log" "$addr:53" "$mode") && FAULT_PIDS+=("$pid")
	done
	stub_start "$STUB" --upstream "$NXLAB_RESOLVER" && MAIN=$STUB_PID
	stub_start "$SILENT_STUB" --upstream "$SILENT" && FAULT_PIDS+=("$STUB_PID")
	stub_start "$SERVFAIL_STUB" --upstream "$SERVFAIL" && FAULT_PIDS+=("$STUB_PID")
	FAILS=0 # each test says what is missing (need_main)
}

stop_file() {
	local pid addr mode
	for pid in "${FAULT_PIDS[@]}" $MAIN; do kill "$pid" 2>/dev/null || true; done
}

need_main() {
	require_stub
	if [ -z "$MAIN" ] || ! kill -0 "$MAIN" 2>/dev/null; then
		fail "nxretry --serve on $STUB is not running: $(cat "$NXLAB_DIR/stub-$STUB-53.log" 2>/dev/null)"
		return 1
	fi
	[ ${#FAULT_PIDS[@]} -eq 4 ] || { fail "faultdns or a stub in front of it did not start"; return 1; }
}

# field OUTPUT KEY: the value of KEY=VALUE (or "KEY VALUE" for sent/answered/noreply) in dnsq load's line.
field() {
	sed -n "s/.*\\b$2[= ]\\([^ ]*\\).*/\\1/p" <<<"$1"
}

# load ARGS...: dnsq load's line.
load() {
	"$DNSQ" load "$@"
}

# counts OUTPUT: dnsq load's line without its timings and addresses.
counts() {
	echo "${1%% p50=*}"
}

# prompt DESC: one client asks the stub for a forwarded name and is answered within PROMPT_MS.
prompt() {
	local out
	out=$(load -a -w 5000 "$STUB" www.lab.test A)
	expect_eq "$1: answered" "sent 1 answered 1 noreply 0 NOERROR=1 addr=192.0.2.10" \
		"${out% p50=*} ${out#* max=* }"
	expect_between "$1: ms" 0 "$PROMPT_MS" "$(field "$out" max)"
}

# One round of every fault and load, with its assertions. ROUND names the stale name of this round.
round() {
	local r=$1 silent udp tcp stale half garbage out
	# In the background: names of a zone whose only authority is silent (answered NXDOMAIN at the
	# deadline), a client holding half a TCP frame, garbage over UDP and TCP.
	load -n 20 -w 8000 "$STUB" "x#-$r.silent.test" A >"$NXLAB_DIR/silent.out" &
	silent=$!
	"$DNSQ" half "$STUB" 3 >"$NXLAB_DIR/half.out" &
	half=$!
	{ "$DNSQ" garbage "$STUB" 300 && "$DNSQ" garbage -t "$STUB" 30; } >"$NXLAB_DIR/garbage.out" &
	garbage=$!
	sleep 0.2
	prompt "round $r, while authorities are silent, a TCP frame is half sent and garbage comes"
	# 1,000 UDP clients at once for a forwarded name.
	udp=$(load -n 1000 -w 8000 "$STUB" www.lab.test A)
	expect_eq "round $r: 1000 UDP clients at once" "sent 1000 answered 1000 noreply 0 NOERROR=1000" "$(counts "$udp")"
	# 1,000 UDP clients at once for one stale name: one wait, every client answered from it.
	stale "stale-$r.lab.test" 192.0.2.77
	stale=$(load -a -n 1000 -w 8000 "$STUB" "stale-$r.lab.test" A)
	expect_eq "round $r: 1000 UDP clients at once, one stale name" \
		"sent 1000 answered 1000 noreply 0 NOERROR=1000 addr=192.0.2.77" "$(counts "$stale") addr=$(field "$stale" addr)"
	# 100 TCP clients at once.
	tcp=$(load -t -n 100 -w 8000 "$STUB" www.lab.test A)
	expect_eq "round $r: 100 TCP clients at once" "sent 100 answered 100 noreply 0 NOERROR=100" "$(counts "$tcp")"
	echo "    round $r: 1000 UDP p50/max $(field "$udp" p50)/$(field "$udp" max) ms; stale name $(field "$stale" p50)/$(field "$stale" max) ms; 100 TCP $(field "$tcp" p50)/$(field "$tcp" max) ms"
	wait "$silent" "$half" "$garbage" || true
	out=$(cat "$NXLAB_DIR/silent.out")
	# The engine gives a zone up after two silent rounds (1.2 s here) and leaves its names to the
	# upstream from then on: NXDOMAIN, never a hang.
	expect_eq "round $r: silent authorities: NXDOMAIN" "sent 20 answered 20 noreply 0 NXDOMAIN=20" "$(counts "$out")"
	expect_between "round $r: silent authorities: ms" 0 $((TIMEOUT_S * 1000 + 2000)) "$(field "$out" max)"
	echo "    round $r: silent authorities: NXDOMAIN after $(field "$out" p50)/$(field "$out" max) ms (p50/max)"
	expect_eq "round $r: the half frame's client held its connection 3 s" "held 3" "$(cat "$NXLAB_DIR/half.out")"
	expect_eq "round $r: garbage sent" "2" "$(grep -c '^sent [0-9]* replies [0-9]*$' "$NXLAB_DIR/garbage.out")"
	prompt "round $r, after"
}

# An upstream that never answers: SERVFAIL after the stub's tries (3 of 1.5 s); one that answers
# SERVFAIL: relayed at once, for a name under the zone too. The main stub answers meanwhile, and
# closes a connection left with half a frame after its idle time (10 s).
test_broken_upstreams() {
	need_main
	local silent out half
	load -w 10000 "$SILENT_STUB" www.lab.test A >"$NXLAB_DIR/up-silent.out" &
	silent=$!
	"$DNSQ" half "$STUB" 15 >"$NXLAB_DIR/half-idle.out" &
	half=$!
	out=$(load -n 10 -w 5000 "$SERVFAIL_STUB" www.lab.test A)
	expect_eq "SERVFAIL upstream: relayed" "sent 10 answered 10 noreply 0 SERVFAIL=10" "$(counts "$out")"
	expect_between "SERVFAIL upstream: ms" 0 "$PROMPT_MS" "$(field "$out" max)"
	out=$(load -n 10 -w 5000 "$SERVFAIL_STUB" "new#.lab.test" A)
	expect_eq "SERVFAIL upstream, names under the zone: relayed (no bypass)" \
		"sent 10 answered 10 noreply 0 SERVFAIL=10" "$(counts "$out")"
	prompt "while an upstream is silent"
	wait "$silent" || true
	out=$(cat "$NXLAB_DIR/up-silent.out")
	expect_eq "silent upstream: SERVFAIL" "sent 1 answered 1 noreply 0 SERVFAIL=1" "$(counts "$out")"
	expect_between "silent upstream: ms" 4000 6500 "$(field "$out" max)"
	wait "$half" || true
	out=$(cat "$NXLAB_DIR/half-idle.out")
	expect_between "half a frame: the stub closed the connection after (ms)" 10000 12000 "${out#closed after }"
}

# A zone whose only authority is silent, then answers again: given up after two silent rounds (its
# names go to the upstream), then bypassed again once fail_fast (0 here: at once) has passed; never
# left to the upstream for the rest of the stub's life.
test_silent_zone_recovers() {
	need_main
	local pid out
	pid=$("$FAULTDNS" -d -l "$NXLAB_DIR/gone-silent.log" "$GONE:53" blackhole)
	out=$(load -w 8000 "$STUB" a.gone.test A)
	expect_eq "silent authority: the upstream's NXDOMAIN" "sent 1 answered 1 noreply 0 NXDOMAIN=1" "$(counts "$out")"
	kill "$pid"
	wait_for "the silent server gone" 2000 port_free "$GONE"
	pid=$("$FAULTDNS" -d -l "$NXLAB_DIR/gone-back.log" "$GONE:53" good b.gone.test=192.0.2.88)
	out=$(load -a -w 8000 "$STUB" b.gone.test A)
	expect_eq "the authority back: bypassed" "sent 1 answered 1 noreply 0 NOERROR=1 addr=192.0.2.88" \
		"$(counts "$out") addr=$(field "$out" addr)"
	kill "$pid"
}

port_free() {
	[ -z "$(ss -Hnlu "src $1:53")" ]
}

# Two rounds: the second leaves descriptors and memory where the first did.
test_rounds() {
	need_main
	local fd0 rss0 fd1 rss1
	round 1
	sleep 0.5
	fd0=$(proc_fds "$MAIN") rss0=$(proc_rss "$MAIN")
	round 2
	sleep 0.5
	fd1=$(proc_fds "$MAIN") rss1=$(proc_rss "$MAIN")
	echo "    descriptors $fd0 -> $fd1, VmRSS $rss0 -> $rss1 KiB"
	expect_eq "descriptors after round 2 as after round 1" "$fd0" "$fd1"
	# A sanitizer's quarantine and shadow memory are not the stub's.
	[ -n "$RUNTIME" ] || expect_between "VmRSS growth in round 2 (KiB)" -100000 "$RSS_SLACK_KIB" $((rss1 - rss0))
	expect_eq "the stub is alive" yes "$(kill -0 "$MAIN" 2>/dev/null && echo yes || echo no)"
}

# bench/stub-soak: rounds for STUB_SOAK_SECONDS, descriptors and VmRSS printed at the start (after
# the first round) and every minute; the file's verdict on the last. Each round's stale name is an
# answer the engine's memo keeps for its TTL (300 s, the longest it keeps one): the bounded caches
# fill during the first MEMO_KEEP_S, so VmRSS is judged from the first reading after them (a leak
# grows past them); the growth from the first round is printed too.
readonly MEMO_KEEP_S=300
soak() {
	local end start fd0 rss0 r=1 last rss_warm="" warm_at=0 rss
	need_main
	round 1 >/dev/null
	fd0=$(proc_fds "$MAIN") rss0=$(proc_rss "$MAIN")
	start=$(now_ms) last=$start
	end=$((start + STUB_SOAK_SECONDS * 1000))
	echo "soak: start: descriptors $fd0, VmRSS $rss0 KiB"
	while [ "$(now_ms)" -lt "$end" ]; do
		r=$((r + 1))
		round "$r" | grep -v '^    round' || true
		if [ $(($(now_ms) - last)) -ge 60000 ]; then
			last=$(now_ms) rss=$(proc_rss "$MAIN")
			echo "soak: $(((last - start) / 1000)) s, $r rounds: descriptors $(proc_fds "$MAIN"), VmRSS $rss KiB"
			if [ -z "$rss_warm" ] && [ $((last - start)) -ge $((MEMO_KEEP_S * 1000)) ]; then
				rss_warm=$rss warm_at=$(((last - start) / 1000))
			fi
		fi
	done
	sleep 0.5
	rss=$(proc_rss "$MAIN")
	echo "soak: end after $r rounds, $((($(now_ms) - start) / 1000)) s: descriptors $fd0 -> $(proc_fds "$MAIN"), VmRSS $rss0 -> $rss KiB (${rss_warm:-$rss0} KiB at $warm_at s)"
	expect_eq "descriptors at the end as at the start" "$fd0" "$(proc_fds "$MAIN")"
	expect_between "VmRSS growth from $warm_at s to the end (KiB)" -100000 "$RSS_SLACK_KIB" $((rss - ${rss_warm:-$rss0}))
}

start_file
trap stop_file EXIT
if [ -n "${STUB_SOAK_SECONDS:-}" ]; then
	run_tests soak
else
	run_tests test_broken_upstreams test_silent_zone_recovers test_rounds
fi
