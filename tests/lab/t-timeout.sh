#!/usr/bin/env bash
# A name that never appears: the lookup gives up after NXRETRY_TIMEOUT with glibc's own error. A name the
# authoritative server has, without the asked type, is an answer (NODATA): no wait.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

export NXRETRY_ZONES=lab.test

# Each case: NXRETRY_TIMEOUT, the bounds in ms of the time the lookup may take, the gai arguments. The
# cases run at the same time, so the file takes as long as its longest case.
test_gives_up_after_timeout() {
	require_lib
	local cases timeout low high args raw want i=0
	"$DNSLAB" add v6only.lab.test AAAA 2001:db8::66
	expect_eq "the NODATA case is NODATA" "rc=-5 EAI_NODATA" "$(gai -4 v6only.lab.test)"
	cases=$(cat <<'CASES'
2   2000 3000 never.lab.test
2   2000 3000 -4 never.lab.test
0.5 500  1500 -6 -s stream never.lab.test
2   0    1000 -4 v6only.lab.test
CASES
	)
	while read -r timeout low high args; do
		i=$((i + 1))
		# shellcheck disable=SC2086 # args are several words
		NXRETRY_TIMEOUT=$timeout LD_PRELOAD=$NXRETRY_LIB "$GAI" $args >"$NXLAB_DIR/timeout.$i" &
	done <<<"$cases"
	wait
	i=0
	while read -r timeout low high args; do
		i=$((i + 1))
		raw=$(<"$NXLAB_DIR/timeout.$i")
		# shellcheck disable=SC2086
		want=$(gai $args)
		expect_eq "[$args] fails as without the preload" "$want" "$(strip_ms <<<"$raw")"
		expect_between "[$args] NXRETRY_TIMEOUT=$timeout: ms" "$low" "$high" "$(ms_of "$raw")"
	done <<<"$cases"
}

run_tests test_gives_up_after_timeout
