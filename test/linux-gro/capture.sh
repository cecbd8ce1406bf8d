#!/usr/bin/env bash
# Real Linux GRO as a reference (ORACLE.md): TCP flows between two network namespaces, all at once
# (flows.mjs: bulk IPv4 and IPv6 transfers, small writes with pauses), captured on the sender's
# veth (the wire: MTU-sized segments) and on the receiver's veth with GRO on (what Linux
# aggregated). Usage: capture.sh OUTDIR FLOWS-JSON. Writes OUTDIR/pre.pcap, post.pcap, flows (the
# client's ports, one JSON line per flow) and received (bytes per client port, JSON).
# Needs root, iproute2, ethtool, tcpdump.
set -euo pipefail
out=$1
spec=$2
here=$(cd "$(dirname "$0")" && pwd)
a=lroA$$
b=lroB$$
ip netns add "$a"
ip netns add "$b"
cleanup() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; }
trap cleanup EXIT
ip link add va netns "$a" type veth peer name vb netns "$b"
ip -n "$a" addr add 10.77.0.1/24 dev va
ip -n "$b" addr add 10.77.0.2/24 dev vb
ip -n "$a" addr add fd77::1/64 dev va nodad
ip -n "$b" addr add fd77::2/64 dev vb nodad
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set va up
ip -n "$b" link set vb up
ip netns exec "$a" ethtool -K va tso off gso off tx off >/dev/null
ip netns exec "$b" ethtool -K vb gro on >/dev/null
ip netns exec "$a" tcpdump -i va -w "$out/pre.pcap" -s 262144 -B 131072 -U 2>/dev/null &
pre=$!
ip netns exec "$b" tcpdump -i vb -w "$out/post.pcap" -s 262144 -B 131072 -U 2>/dev/null &
post=$!
sleep 1
ip netns exec "$b" node "$here/flows.mjs" server "$spec" > "$out/received" &
server=$!
sleep 0.5
ip netns exec "$a" node "$here/flows.mjs" client "$spec" > "$out/flows"
wait "$server"
sleep 2 # let tcpdump write its backlog
kill -INT "$pre" "$post"
wait "$pre" "$post" 2>/dev/null || true
