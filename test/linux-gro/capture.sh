#!/usr/bin/env bash
# Real Linux GRO as a reference (ORACLE.md): a bulk TCP transfer between two network namespaces,
# captured on the sender's veth (the wire: MTU-sized segments) and on the receiver's veth with
# GRO on (what Linux aggregated). Usage: capture.sh OUTDIR BYTES. Needs root, iproute2, ethtool, tcpdump.
set -euo pipefail
out=$1
bytes=$2
a=lroA$$
b=lroB$$
ip netns add "$a"
ip netns add "$b"
cleanup() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; }
trap cleanup EXIT
ip link add va netns "$a" type veth peer name vb netns "$b"
ip -n "$a" addr add 10.77.0.1/24 dev va
ip -n "$b" addr add 10.77.0.2/24 dev vb
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
ip netns exec "$b" node -e '
  require("net").createServer((s) => { let n = 0; s.on("data", (d) => (n += d.length));
    s.on("end", () => { console.log(n); process.exit(0); }); }).listen(5201, "10.77.0.2")' > "$out/received" &
server=$!
sleep 0.5
ip netns exec "$a" node -e '
  const s = require("net").connect(5201, "10.77.0.2", () => s.end(Buffer.alloc(+process.argv[1], 0x5a)));' "$bytes"
wait "$server"
sleep 2 # let tcpdump write its backlog
kill -INT "$pre" "$post"
wait "$pre" "$post" 2>/dev/null || true
