#!/usr/bin/env bash
# README's Kubernetes manifest ("In Kubernetes, for static programs too"), run as its topology: a pod
# network namespace (lo, eth0 10.244.0.5 to a node at 10.244.0.1) where the sidecar runs the manifest's
# command line (its --zone replaced by lab.test) and the test container, an unchanged dig and static Go
# client, reads the resolv.conf the kubelet writes from dnsConfig; the cluster DNS at the manifest's
# --upstream address, 10.96.0.10 on the node, is an Unbound that holds the stale denial (as CoreDNS
# does). The zone's authoritative server is reached from the pod over IPv6 (the lab's fd00:53::1), as
# Route 53's are from a cluster.
set -euo pipefail
# shellcheck source=tests/lab/lib.sh
. "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
readonly TOP NX=${LIB_FILE%/*}/nxretry POD_IP=10.244.0.5 NODE_IP=10.244.0.1
unset NXRETRY_ZONES NXRETRY_TIMEOUT NXRETRY_MODE NXRETRY_CONFIG NXRETRY_LOG GODEBUG LD_PRELOAD

# manifest FIELD: from README's manifest, "args" (the sidecar's, one a line) or "resolv.conf" (what the
# kubelet writes for dnsPolicy None: nameserver lines, search, options).
manifest() {
	python3 - "$TOP/README.md" "$1" <<'PY'
import re, sys, yaml
text = open(sys.argv[1]).read()
block = re.search(r'<!-- tests/lab/t-pod.sh reads this manifest -->\n```yaml\n(.*?)```', text, re.S).group(1)
spec = yaml.safe_load(block)['spec']
if sys.argv[2] == 'args':
    sidecar, = [c for c in spec['initContainers'] if c.get('restartPolicy') == 'Always']
    print('\n'.join(sidecar['args']))
else:
    assert spec['dnsPolicy'] == 'None'
    dns = spec['dnsConfig']
    for ns in dns['nameservers']:
        print('nameserver', ns)
    print('search', ' '.join(dns['searches']))
    print('options', ' '.join(o['name'] + (':' + o['value'] if 'value' in o else '') for o in dns['options']))
PY
}

# A second Unbound as the cluster DNS: 10.96.0.10 on the node, the lab's zone from its Knot, a cache.
start_cluster_dns() {
	local d=$NXLAB_DIR/cluster-dns
	mkdir -p "$d"
	ip addr add 10.96.0.10/32 dev lo
	cat >"$d/unbound.conf" <<EOF
server:
    interface: 10.96.0.10
    port: 53
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "$d"
    pidfile: "$d/unbound.pid"
    use-syslog: no
    logfile: "$d/unbound.log"
    num-threads: 1
    access-control: 10.244.0.0/16 allow
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    do-not-query-localhost: no
    local-zone: "test." nodefault
    local-zone: "." static
    local-zone: "$NXLAB_ZONE." transparent
remote-control:
    control-enable: no
stub-zone:
    name: "$NXLAB_ZONE."
    stub-addr: $NXLAB_AUTH
EOF
	unbound -d -c "$d/unbound.conf" &
	echo $! >"$d/pid"
	wait_for "the cluster DNS answers" 5000 quiet dig @10.96.0.10 +short +tries=1 +time=1 www.lab.test
}

pod_netns_made() {
	[ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/self/ns/net)" ]
}

# The pod's network namespace, held by a sleeping process; a veth to the node (this lab's namespace).
start_pod_network() {
	unshare --net sleep 600 &
	echo $! >"$NXLAB_DIR/pod.pid"
	local pod=$!
	# unshare may not have made the namespace yet: the veth's end would land in this one.
	wait_for "the pod's network namespace" 2000 pod_netns_made "$pod"
	ip link add node0 type veth peer name eth0 netns "$pod"
	ip addr add "$NODE_IP/24" dev node0
	ip -6 addr add fd00:99::1/64 dev node0 nodad
	ip link set node0 up
	nsenter --net=/proc/"$pod"/ns/net sh -e -c "
		ip link set lo up
		ip addr add $POD_IP/24 dev eth0
		ip -6 addr add fd00:99::2/64 dev eth0 nodad
		ip link set eth0 up
		ip route add default via $NODE_IP
		ip -6 route add fd00:53::/64 via fd00:99::1"
}

# quiet CMD...: CMD's status alone.
quiet() {
	"$@" >/dev/null 2>&1
}

# in_pod CMD...: CMD in the pod's network namespace.
in_pod() {
	nsenter --net=/proc/"$(cat "$NXLAB_DIR/pod.pid")"/ns/net "$@"
}

stop_all() {
	local f
	for f in "$NXLAB_DIR/sidecar.pid" "$NXLAB_DIR/cluster-dns/pid" "$NXLAB_DIR/pod.pid"; do
		if [ -f "$f" ]; then kill "$(cat "$f")" 2>/dev/null || true; fi
	done
	wait 2>/dev/null || true
}

test_pod() {
	local go args resolv out
	if ! python3 -c 'import yaml' 2>/dev/null; then
		skip "python3 with yaml (Debian package python3-yaml) reads README's manifest"
	fi
	command -v go >/dev/null || skip "go is not installed (Debian package golang-go)"
	mkdir -p "$NXLAB_DIR/go"
	(cd "$NXLAB_DIR/go" && GOCACHE=${GOCACHE:-$NXLAB_DIR/go/cache} CGO_ENABLED=0 GOFLAGS='' GO111MODULE=off \
		go build -o lookup "$TOP/tests/lab/lookup.go")
	go=$NXLAB_DIR/go/lookup
	mapfile -t args < <(manifest args)
	resolv=$(manifest resolv.conf)
	expect_eq "README's sidecar" "--serve --listen 127.0.0.1:53 --upstream 10.96.0.10 --zone preview.example.com" \
		"${args[*]}"
	expect_eq "README's dnsConfig, as the kubelet writes it" "nameserver 127.0.0.1
search default.svc.cluster.local svc.cluster.local cluster.local
options ndots:5" "$resolv"
	# The zone is the user's: the lab's here, every other setting as written.
	args=("${args[@]/preview.example.com/lab.test}")
	printf '%s\n' "$resolv" >"$NXLAB_DIR/pod-resolv.conf"

	trap stop_all EXIT
	start_cluster_dns
	start_pod_network
	# The name looked up too early through the cluster DNS, then created.
	expect_eq "too early: the cluster DNS denies" "NXDOMAIN" \
		"$(in_pod dig @10.96.0.10 +noall +comments pod.lab.test | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')"
	"$DNSLAB" add pod.lab.test A 127.0.53.94
	expect_eq "created: the cluster DNS still denies" "NXDOMAIN" \
		"$(in_pod dig @10.96.0.10 +noall +comments pod.lab.test | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')"

	in_pod "$NX" "${args[@]}" 2>"$NXLAB_DIR/sidecar.log" &
	echo $! >"$NXLAB_DIR/sidecar.pid"
	wait_for "the sidecar answers" 5000 quiet in_pod dig @127.0.0.1 +short +tries=1 +time=1 www.lab.test
	# The test container: its own mount namespace, the kubelet's resolv.conf, no nxretry in it.
	out=$(in_pod unshare --mount sh -c "mount --bind $NXLAB_DIR/pod-resolv.conf /etc/resolv.conf
		dig +short +search pod.lab.test; $go pod.lab.test; getent hosts pod.lab.test; $go www.lab.test" 2>&1)
	expect_eq "the test container: dig, static Go, getent (libc, no preload), then a name that exists" "127.0.53.94
127.0.53.94
127.0.53.94     pod.lab.test
192.0.2.10
2001:db8::10" "$out"
	expect_eq "the sidecar said nothing (quiet by default)" "" "$(cat "$NXLAB_DIR/sidecar.log")"
}

run_tests test_pod
