// One way a stream ends (argv[2]), in a process of its own, on the built package (dist/): with an
// aggregate held (AgTimer ~1 h away) and the flow's DelTimer ~24 days away, so a timer the stream
// left running would keep the process alive. Prints what it saw; the test waits for the exit.
import { createNodeStream, createStream } from '../../dist/node.js';
import { tcpFrame } from '../../dist/packet/index.js';

const [ending, engine] = process.argv.slice(2);
const options = { engine, aggregateTimeoutUs: 3.6e9, idleTimeoutMs: 2 ** 31 - 1 };
const frames = [0, 1, 2].map((k) => tcpFrame({ seq: 1000 + k * 1000, payload: 1000, ipId: k }));
const seen = [];

if (ending.startsWith('node')) {
  const duplex = createNodeStream(options);
  duplex.on('data', (p) => seen.push(`${p.segments}:${p.reason}`));
  duplex.on('error', (err) => seen.push(err.name));
  for (const f of frames) duplex.write(f);
  await new Promise((resolve) => setTimeout(resolve, 10));
  if (ending === 'node-end') duplex.end();
  else if (ending === 'node-destroy') duplex.destroy();
  else duplex.write({ data: 'not a frame' });
} else {
  const stream = createStream(options);
  const reader = stream.readable.getReader();
  const writer = stream.writable.getWriter();
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen.push(`${value.segments}:${value.reason}`);
    }
  })().catch((err) => seen.push(`read ${String(err?.name ?? err)}`));
  for (const f of frames) await writer.write(f);
  if (ending === 'close') await writer.close();
  else if (ending === 'abort') await writer.abort('abort');
  else if (ending === 'cancel') await reader.cancel('cancel');
  else await writer.write({ data: frames[0], timeUs: -1 }).catch((err) => seen.push(`write ${err.name}`));
  await reading;
}
process.on('exit', () => console.log(JSON.stringify(seen)));
