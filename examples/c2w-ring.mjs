// container2wasm / gvisor-tap-vsock style: a network stack in one worker hands the guest's frames to
// the VM in another over a SharedArrayBuffer byte ring of u32 big-endian length-prefixed frames
// (a prefix or a frame that reaches the end of the ring continues at its start). The engine sits in
// the stack's worker, in front of the ring: the VM's worker reads far fewer, larger frames.
//
// Imports `large-receive` as a user would: from a project that installed it, or from a clone after
// `npm install && npm run build` (package.json "exports" lets the package import itself by name).
// Run from a clone: `node examples/c2w-ring.mjs`.
//
// container2wasm's own ring lays out its control words differently: this is the same idea (one
// writer, one reader, Atomics on head and tail), with large-receive's createFrameRing. Frames in
// the ring may be up to 128 KiB (the deframers' default limit); what the guest's NIC takes decides
// maxFrame: its MTU + 14 for a NIC without GSO, 65535 + 14 here.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createEngine, createFrameRing, openFrameRing, RING_HEAD, RING_TAIL, ringRead, ringWrite } from 'large-receive';

/**
 * Frames through the ring: `frames` (with `timesUs`) go into the engine in the stack's worker,
 * which writes each packet into the ring; the VM's worker reads them back. Resolves to the frames
 * the VM read, and how often the ring wrapped and either side waited.
 */
export async function runRing(frames, timesUs, { capacity = 192 * 1024, maxFrame = 65535 + 14 } = {}) {
  const buffer = createFrameRing(capacity);
  const start = (role, extra) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { role, buffer, ...extra } });
    return new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  };
  const [stack, vm] = await Promise.all([start('stack', { frames, timesUs, maxFrame }), start('vm', {})]);
  return { frames: vm.frames, vmWaits: vm.waits, stackWaits: stack.waits, wraps: stack.wraps, written: stack.written };
}

/** Write one frame, waiting (Atomics.wait on the tail) while the ring is full. Returns how many waits. */
function writeWaiting(ring, frame) {
  let waits = 0;
  for (;;) {
    const tail = Atomics.load(ring.control, RING_TAIL);
    if (ringWrite(ring, frame)) return waits;
    waits++;
    Atomics.wait(ring.control, RING_TAIL, tail, 1000);
  }
}

async function stackWorker({ buffer, frames, timesUs, maxFrame }) {
  const ring = openFrameRing(buffer);
  const engine = await createEngine({ maxFrame });
  let waits = 0;
  let wraps = 0;
  let written = 0;
  engine.setSink((frame) => {
    const before = Atomics.load(ring.control, RING_HEAD);
    waits += writeWaiting(ring, frame); // the view is copied into the ring during the call
    if (Atomics.load(ring.control, RING_HEAD) < before) wraps++;
    written++;
  });
  engine.pushBatch(frames, timesUs);
  engine.close(); // sends what is pending
  waits += writeWaiting(ring, new Uint8Array(0)); // this example's end-of-stream mark
  parentPort.postMessage({ waits, wraps, written });
}

function vmWorker({ buffer }) {
  const ring = openFrameRing(buffer);
  const frames = [];
  let waits = 0;
  for (;;) {
    const head = Atomics.load(ring.control, RING_HEAD);
    const frame = ringRead(ring);
    if (frame === null) {
      waits++;
      Atomics.wait(ring.control, RING_HEAD, head, 1000);
      continue;
    }
    if (frame.length === 0) break;
    frames.push(frame); // a VM would put it on its NIC's receive queue here
  }
  parentPort.postMessage({ frames, waits });
}

if (!isMainThread && workerData?.role === 'stack') await stackWorker(workerData);
else if (!isMainThread && workerData?.role === 'vm') vmWorker(workerData);
else if (import.meta.url === `file://${process.argv[1]}`) {
  const { tcpFrame } = await import('./frames.mjs');
  const frames = Array.from({ length: 2000 }, (_, i) => tcpFrame(i * 1448, 1448));
  const r = await runRing(
    frames,
    frames.map((_, i) => i),
  );
  const bytes = r.frames.reduce((n, f) => n + f.length, 0);
  console.log(`${frames.length} frames in, ${r.frames.length} through the ring (${bytes} bytes; the ring wrapped ${r.wraps} times)`);
}
