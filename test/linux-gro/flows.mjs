// The TCP traffic of the Linux GRO run (capture.sh), both ends: `node flows.mjs server SPEC` in the
// receiver's namespace, `node flows.mjs client SPEC` in the sender's. SPEC is a JSON array of
// flows { name, ipv6, bytes, write, pauseMs }, all started at once: a bulk flow writes its bytes in
// one go; a flow with `write` writes `write` bytes at a time with TCP_NODELAY and waits `pauseMs`
// between writes. Flow k's byte i is pattern(k, i), so a stream that is cut or reordered shows.
// The client prints one JSON line per flow (name, its local port); the server prints one JSON
// object { port: bytes received } when every flow has ended.
import net from 'node:net';

const [mode, specText] = process.argv.slice(2);
const flows = JSON.parse(specText);
const PORT = 5201;
const SERVER = { 4: '10.77.0.2', 6: 'fd77::2' };

function pattern(k, i) {
  return (i * 131 + k * 17 + (i >>> 11)) & 0xff;
}

function bytesOf(k, from, n) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = pattern(k, from + i);
  return b;
}

if (mode === 'server') {
  const received = {};
  let ended = 0;
  const onConnection = (s) => {
    let n = 0;
    s.on('data', (d) => {
      n += d.length;
    });
    s.on('end', () => {
      received[s.remotePort] = n;
      s.end();
      if (++ended === flows.length) {
        console.log(JSON.stringify(received));
        process.exit(0);
      }
    });
  };
  for (const family of new Set(flows.map((f) => (f.ipv6 ? 6 : 4)))) net.createServer(onConnection).listen(PORT, SERVER[family]);
} else {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  await Promise.all(
    flows.map(
      (f, k) =>
        new Promise((resolve, reject) => {
          const s = net.connect({ port: PORT, host: SERVER[f.ipv6 ? 6 : 4] }, async () => {
            console.log(JSON.stringify({ name: f.name, port: s.localPort }));
            if (!f.write) {
              s.end(bytesOf(k, 0, f.bytes));
              return;
            }
            s.setNoDelay(true);
            for (let at = 0; at < f.bytes; at += f.write) {
              s.write(bytesOf(k, at, Math.min(f.write, f.bytes - at)));
              await sleep(f.pauseMs ?? 1);
            }
            s.end();
          });
          s.on('error', reject);
          s.on('close', resolve);
          s.resume();
        }),
    ),
  );
}
