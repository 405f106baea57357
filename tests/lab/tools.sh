# shellcheck shell=bash
# Helpers for the lab tests that need more than gai (source after lib.sh): the threaded client
# (build/threads, tests/lab/threads.c), the misbehaving DNS server (build/faultdns, tests/lab/faultdns.c)
# and nxretry configuration files. The tools are looked for beside $GAI, so a sanitizer build
# (build-address/gai) tests its own.

TOOLS_DIR=$(dirname "$GAI")
THREADS=$TOOLS_DIR/threads
FAULTDNS=$TOOLS_DIR/faultdns
FAULT_PIDS=()

# require_tools: fails the test when the lab tools are not built.
require_tools() {
	require_lib && require_built "$THREADS" "$FAULTDNS"
}

# fault_start ADDR:PORT MODE [NAME=ADDRESS...]: a faultdns answering as MODE, in the background until
# the current test ends. Its query log ("udp|tcp NAME TYPE" lines) is fault_log ADDR:PORT, emptied here.
fault_start() {
	local pid
	: >"$(fault_log "$1")"
	if ! pid=$("$FAULTDNS" -d -l "$(fault_log "$1")" "$@"); then
		fail "faultdns $* did not start"
		return 1
	fi
	FAULT_PIDS+=("$pid")
	trap fault_stop_all EXIT # the test runs in a subshell of its own: this is its end
}

fault_stop_all() {
	local pid
	for pid in "${FAULT_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	FAULT_PIDS=()
}

fault_log() {
	echo "$NXLAB_DIR/faultdns-$1.log"
}

# fault_queries ADDR:PORT: how many queries that faultdns has received.
fault_queries() {
	local log
	log=$(fault_log "$1")
	if [ -f "$log" ]; then grep -c . "$log" || true; else echo 0; fi
}

# write_config FILE SUFFIX QUERY_TIMEOUT SERVER...: an nxretry configuration pinning SERVERs (as
# written in a nameservers list: "IP", "IP:port", "[v6]:port") for the zone SUFFIX.
write_config() {
	local file=$1 suffix=$2 query_timeout=$3 list="" server
	shift 3
	for server in "$@"; do list+="${list:+, }\"$server\""; done
	printf '%s\n' "query_timeout = $query_timeout;" \
		"zones = ( { suffix = \"$suffix\"; nameservers = [ $list ]; } );" >"$file"
}

# stderr_of FILE: the lines a command wrote to FILE, "" when none.
stderr_of() {
	if [ -s "$1" ]; then cat "$1"; fi
}
